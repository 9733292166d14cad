/**
 * Runs a {@link Schedule}: starts the local lockers, connects to the remote ones, sets
 * time zero once every locker is ready, and plays each locker's commands in order
 * (lockers in parallel). Collects every report, per locker, and derives the holds
 * (who held what, from when to when). Every step is bounded; lockers are always
 * stopped or disconnected at the end (a remote locker then releases what it held).
 * @packageDocumentation
 */
import { Controller, type Locker } from './controller.js';
import { nowMs, type LockerKind } from './locker.js';
import { tokenOf, type Schedule, type When } from './schedule.js';

/** Options of {@link runSchedule}. */
export interface RunScheduleOptions {
  /** How long a report may take after its command's scheduled time, ms (default 5000). */
  replyMs?: number;
  /** The bound of a `lock ... wait` without `timeout=`, ms (default 60000). */
  maxWaitMs?: number;
  /** Delay from "every locker ready" to time zero, ms (default 200). */
  leadMs?: number;
  /** Called with each event as it arrives. */
  onEvent?: (e: ScheduleEvent) => void;
}

/** One command's outcome. */
export interface ScheduleEvent {
  /** When it finished, ms after time zero. */
  t: number;
  /** When it was scheduled to start, ms after time zero (null: right after the previous one). */
  scheduled: number | null;
  /** Locker name. */
  locker: string;
  /** The locker's pid (on its own host). */
  pid: number;
  /** `local` or `HOST:PORT`. */
  where: string;
  /** The command as written in the schedule (without `at`). */
  command: string;
  /** The locker's result (`granted`, `conflict`, `released`, ...), or `lost` if no report came. */
  result: string;
  /** Error code, if any. */
  code?: string;
  /** Error text, if any. */
  message?: string;
}

/** A span during which a locker held a lock. */
export interface Hold {
  /** Locker name. */
  locker: string;
  /** Its pid. */
  pid: number;
  /** `read` or `write`. */
  mode: 'read' | 'write';
  /** The lock kind. */
  kind: string;
  /** Granted at, ms after time zero. */
  from: number;
  /** Released at (null: still held when the schedule ended). */
  to: number | null;
  /** How it ended. */
  end: 'released' | 'stopped' | 'lost' | 'held';
}

/** What a schedule run collected. */
export interface ScheduleResult {
  /** Time zero, ISO 8601. */
  timeZero: string;
  /** The lockers as started. */
  lockers: { name: string; where: string; pid: number; kind: LockerKind; file: string }[];
  /** Every command's outcome, ordered by finish time. */
  events: ScheduleEvent[];
  /** Who held what when, ordered by start. */
  holds: Hold[];
  /** Lockers that failed (no report in time, lost connection), in words. */
  errors: string[];
}

const round = (x: number): number => Math.round(x * 10) / 10;

/** Derives the holds from a locker's events (in its own order). */
function holdsOf(events: ScheduleEvent[], kindOf: (e: ScheduleEvent) => string): Hold[] {
  const out: Hold[] = [];
  const open = new Map<string, Hold>();
  const fdOf = (cmd: string): string => /\bfd=(\w+)/.exec(cmd)?.[1] ?? 'main';
  for (const e of events) {
    const verb = e.command.split(/\s+/)[0];
    const fd = fdOf(e.command);
    if (verb === 'lock' && e.result === 'granted') {
      const prev = open.get(fd);
      if (prev) Object.assign(prev, { to: e.t, end: 'released' });
      const h: Hold = {
        locker: e.locker,
        pid: e.pid,
        mode: /\bread\b/.test(e.command) ? 'read' : 'write',
        kind: kindOf(e),
        from: e.t,
        to: null,
        end: 'held',
      };
      open.set(fd, h);
      out.push(h);
    } else if ((verb === 'unlock' || verb === 'unlockif') && e.result === 'released' && !/range=/.test(e.command)) {
      const h = open.get(fd);
      if (h) Object.assign(h, { to: e.t, end: 'released' });
      open.delete(fd);
    } else if (verb === 'stop' || e.result === 'lost') {
      for (const h of open.values()) Object.assign(h, { to: e.t, end: verb === 'stop' ? 'stopped' : 'lost' });
      open.clear();
    }
  }
  return out;
}

/** Runs a schedule to its end; rejects only if a locker cannot be started or reached. */
export async function runSchedule(schedule: Schedule, opts: RunScheduleOptions = {}): Promise<ScheduleResult> {
  const controller = new Controller();
  const replyMs = opts.replyMs ?? 5000;
  const bounds = { replyMs, maxWaitMs: opts.maxWaitMs ?? 60_000 };
  const errors: string[] = [];
  const events: ScheduleEvent[] = [];
  try {
    const lockers = new Map<string, Locker>();
    await Promise.all(
      schedule.lockers.map(async (l) => {
        const handle = l.remote
          ? await controller.connect({ ...l.remote, token: tokenOf(l), file: l.file, kind: l.kind, name: l.name })
          : await controller.start({ file: l.file, kind: l.kind, name: l.name });
        lockers.set(l.name, handle);
      }),
    );
    const zero = controller.at(opts.leadMs ?? 200); // ms after the controller's epoch
    const zeroWall = controller.epoch + zero;
    const kinds = new Map(schedule.lockers.map((l) => [l.name, l.kind]));
    const atOf = (w: When | undefined): number | null => {
      if (!w) return null;
      if (w.base === 'zero') return zero + w.ms;
      if (w.base === 'previous') return controller.at(w.ms);
      return w.epochMs - controller.epoch;
    };
    await Promise.all(
      schedule.lockers.map(async (l) => {
        const handle = lockers.get(l.name)!;
        for (const c of schedule.commands.filter((x) => x.locker === l.name)) {
          const at = atOf(c.when);
          const text = at === null ? c.command : `${c.command} at ${Math.round(at)}`;
          const base = { locker: l.name, pid: handle.pid, where: handle.where, command: c.command };
          const scheduled = at === null ? null : round(at - zero);
          let e: ScheduleEvent;
          try {
            const r = await handle.send(text, replyMs, bounds);
            e = {
              ...base,
              t: round(r.t - zero),
              scheduled,
              result: r.result,
              ...(r.code ? { code: r.code } : {}),
              ...(r.message ? { message: r.message } : {}),
            };
          } catch (err) {
            e = {
              ...base,
              t: round(nowMs() - zeroWall),
              scheduled,
              result: 'lost',
              message: (err as Error).message,
            };
            errors.push(`${l.name} (line ${c.line}): ${(err as Error).message}`);
          }
          events.push(e);
          opts.onEvent?.(e);
          if (e.result === 'lost' || c.command.startsWith('stop')) break;
        }
      }),
    );
    const holds = schedule.lockers
      .flatMap((l) =>
        holdsOf(
          events.filter((e) => e.locker === l.name),
          (e) => /\bkind=(\w+)/.exec(e.command)?.[1] ?? kinds.get(l.name) ?? '?',
        ),
      )
      .sort((a, b) => a.from - b.from);
    return {
      timeZero: new Date(zeroWall).toISOString(),
      lockers: schedule.lockers.map((l) => {
        const h = lockers.get(l.name)!;
        return { name: l.name, where: h.where, pid: h.pid, kind: l.kind, file: l.file };
      }),
      events: events.sort((a, b) => a.t - b.t),
      holds,
      errors,
    };
  } finally {
    await controller.dispose();
  }
}
