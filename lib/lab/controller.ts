/**
 * The controller side: starts lockers (processes or worker threads), sends them
 * commands, collects their reports, and schedules commands on a shared clock so
 * lockers overlap in a controlled, repeatable way. Every wait is bounded: a report
 * that does not come in time rejects, and {@link Controller.dispose} kills whatever
 * is still running.
 * @packageDocumentation
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { LockKind } from '../index.js';
import { killTree, spawnTracked } from './cleanup.js';
import { nowMs, type Report } from './locker.js';

/** Where the compiled locker entries live (next to this file, in dist/lab). */
export const LOCKER_MAIN = join(__dirname, 'locker-main.js');
/** The worker-thread entry. */
export const LOCKER_WORKER = join(__dirname, 'locker-worker.js');

/** A process or a worker thread. */
export type LockerType = 'process' | 'thread';

/** How to start a locker. */
export interface LockerSpec {
  /** The file its commands work on. */
  file: string;
  /** Its default lock kind. */
  kind: LockKind;
  /** Process (default) or worker thread of the controller's process. */
  type?: LockerType;
  /** A label for reports and errors. */
  name?: string;
}

/** A running locker. */
export interface Locker {
  /** Label. */
  readonly name: string;
  /** The pid its reports carry (the controller's own pid for a thread). */
  readonly pid: number;
  /** Process or thread. */
  readonly type: LockerType;
  /** Every report received so far, in order. */
  readonly log: readonly Report[];
  /** Sends one command; resolves with its report, rejects after `timeoutMs` (default 5000). */
  send(command: string, timeoutMs?: number): Promise<Report>;
  /** Sends `stop` and waits for the locker to end (kills it if it does not, bounded). */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL / worker terminate) and waits until it is gone. */
  kill(): Promise<void>;
  /** True once it has ended. */
  readonly ended: boolean;
}

interface Pending {
  resolve: (r: Report) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

class LockerHandle implements Locker {
  readonly name: string;
  readonly type: LockerType;
  pid = -1;
  readonly log: Report[] = [];
  ended = false;
  readonly #pending: Pending[] = [];
  readonly #write: (line: string) => void;
  readonly #terminate: () => void;
  readonly #exited: Promise<void>;
  #endExited!: () => void;

  constructor(name: string, type: LockerType, write: (line: string) => void, terminate: () => void) {
    this.name = name;
    this.type = type;
    this.#write = write;
    this.#terminate = terminate;
    this.#exited = new Promise((r) => (this.#endExited = r));
  }

  onReport(r: Report): void {
    this.log.push(r);
    const p = this.#pending.shift();
    if (!p) return;
    clearTimeout(p.timer);
    p.resolve(r);
  }

  onExit(why: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new Error(`locker ${this.name} (pid ${this.pid}) ended (${why}) before reporting`));
    }
    this.#endExited();
  }

  send(command: string, timeoutMs = 5000): Promise<Report> {
    if (this.ended) return Promise.reject(new Error(`locker ${this.name} has ended; cannot send '${command}'`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#pending.findIndex((p) => p.timer === timer);
        if (i >= 0) this.#pending.splice(i, 1);
        reject(new Error(`locker ${this.name} (pid ${this.pid}): no report for '${command}' within ${timeoutMs} ms`));
        // Its queue is now out of step with ours: it cannot be trusted any more.
        void this.kill();
      }, timeoutMs);
      this.#pending.push({ resolve, reject, timer });
      this.#write(command);
    });
  }

  async stop(): Promise<void> {
    if (this.ended) return;
    try {
      await this.send('stop', 2000);
    } catch {
      /* killed below */
    }
    await Promise.race([this.#exited, new Promise((r) => setTimeout(r, 1000).unref())]);
    if (!this.ended) await this.kill();
  }

  async kill(): Promise<void> {
    if (this.ended) return;
    this.#terminate();
    await Promise.race([this.#exited, new Promise((r) => setTimeout(r, 3000).unref())]);
  }
}

function startProcess(spec: LockerSpec, name: string, epoch: number, timeoutMs: number): Promise<LockerHandle> {
  // Tracked (cleanup.ts): its own process group, killed with whatever it spawned
  // when the lab ends in any way, even by SIGKILL.
  const child = spawnTracked(
    process.execPath,
    [LOCKER_MAIN, '--file', spec.file, '--kind', spec.kind, '--epoch', String(epoch)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  ) as ChildProcessWithoutNullStreams;
  const handle = new LockerHandle(
    name,
    'process',
    (line) => child.stdin.write(line + '\n'),
    () => killTree(child),
  );
  handle.pid = child.pid ?? -1;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  child.stdin.on('error', () => {
    /* the child is gone; onExit reports it */
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killTree(child);
      reject(new Error(`locker ${name} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if ((msg as { ready?: boolean }).ready) {
        clearTimeout(timer);
        resolve(handle);
      } else handle.onReport(msg as Report);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      handle.onExit(signal ?? `exit ${code}${stderr ? `: ${stderr.trim()}` : ''}`);
      reject(new Error(`locker ${name} exited at start: ${stderr.trim() || signal || code}`));
    });
  });
}

function startThread(spec: LockerSpec, name: string, epoch: number, timeoutMs: number): Promise<LockerHandle> {
  const worker = new Worker(LOCKER_WORKER, { workerData: { file: spec.file, kind: spec.kind, epoch } });
  const handle = new LockerHandle(
    name,
    'thread',
    (line) => worker.postMessage(line),
    () => void worker.terminate(),
  );
  handle.pid = process.pid;
  worker.on('message', (r: Report) => handle.onReport(r));
  worker.on('exit', (code) => handle.onExit(`thread exit ${code}`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`worker ${name} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('online', () => {
      clearTimeout(timer);
      resolve(handle);
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      handle.onExit(`error: ${err.message}`);
      reject(err);
    });
  });
}

/**
 * Owns a set of lockers and a time zero. `at T` in commands is relative to
 * {@link Controller.epoch}; {@link Controller.at} turns "T ms from now" into one.
 */
export class Controller {
  /** Time zero of every `at T` (ms on the wall clock). */
  readonly epoch: number;
  readonly #lockers: LockerHandle[] = [];
  #count = 0;

  /** Sets time zero to now. */
  constructor() {
    this.epoch = nowMs();
  }

  /** `ms` milliseconds from now, as an `at` value relative to the epoch. */
  at(ms: number): number {
    return Math.round(nowMs() - this.epoch + ms);
  }

  /** Starts a locker and waits until it is ready (bounded by `timeoutMs`, default 10 s). */
  async start(spec: LockerSpec, timeoutMs = 10_000): Promise<Locker> {
    const name = spec.name ?? `L${++this.#count}`;
    const handle =
      (spec.type ?? 'process') === 'thread'
        ? await startThread(spec, name, this.epoch, timeoutMs)
        : await startProcess(spec, name, this.epoch, timeoutMs);
    this.#lockers.push(handle);
    return handle;
  }

  /** All lockers started so far. */
  get lockers(): readonly Locker[] {
    return this.#lockers;
  }

  /** Stops every locker still running (kills it if it does not stop in time). */
  async dispose(): Promise<void> {
    await Promise.all(this.#lockers.map((l) => l.stop()));
  }

  /** Kills every locker at once. */
  async killAll(): Promise<void> {
    await Promise.all(this.#lockers.map((l) => l.kill()));
  }
}
