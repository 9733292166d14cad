/**
 * `syslocks/lab`: the lab's controller API, for experiments written as code.
 *
 * ```ts
 * import { Controller } from 'syslocks/lab';
 * const c = new Controller();
 * const a = await c.start({ file: '/tmp/x.lock', kind: 'ofd', name: 'A' });          // a local process
 * const b = await c.connect({ host: '10.0.0.2', port: 7001, token, file: '/mnt/x.lock', kind: 'ofd' });
 * const t = c.at(100);                                                                // 100 ms from now
 * console.log(await a.send(`lock write at ${t}`), await b.send(`lock write at ${t + 50}`));
 * await c.dispose();
 * ```
 *
 * Or run a whole schedule file ({@link readSchedule} + {@link runSchedule}), as
 * `syslocks-lab controller SCHEDULE` does. Command syntax and the schedule format:
 * docs/LAB.md, "Controller and lockers".
 * @packageDocumentation
 */
export { Controller, LOCKER_MAIN, LOCKER_WORKER } from './controller.js';
export type { LockerSpec, Locker, LockerType, ReplyBounds, RemoteLockerSpec } from './controller.js';
export { LockerCore, parseCommand, nowMs } from './locker.js';
export type { Command, LockerKind, Report } from './locker.js';
export { serveLocker, tokensEqual, PROTOCOL, TOKEN_ENV, MIN_TOKEN_LENGTH } from './remote.js';
export type { LockerServer, ServeOptions } from './remote.js';
export { parseSchedule, parseWhen, readSchedule, tokenOf } from './schedule.js';
export type { Schedule, ScheduleCommand, ScheduleLocker, When } from './schedule.js';
export { runSchedule } from './run-schedule.js';
export type { Hold, RunScheduleOptions, ScheduleEvent, ScheduleResult } from './run-schedule.js';
export { SharedMutex, MUTEX_BYTES } from './mutex.js';
