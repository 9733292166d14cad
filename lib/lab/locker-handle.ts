/**
 * The controller's handle on one locker, whatever carries its commands (a child's
 * stdin/stdout, a worker thread's message port, or a TCP connection to a remote
 * `syslocks-lab locker`). It matches reports to commands in order and bounds every
 * wait. The bound of a command counts from the moment the command is *scheduled* to
 * run (`at T`), not from when it was sent, and a `wait timeout=MS` lock adds its own
 * timeout: `lock write at <6 s from now>` is therefore not given up after 5 s.
 * @packageDocumentation
 */
import { nowMs, type Report } from './locker.js';

/** A local locker: a process or a worker thread of the controller's process. */
export type LockerType = 'process' | 'thread';

/** Bounds of {@link Locker.send}. */
export interface ReplyBounds {
  /** How long a report may take after the command's scheduled time, ms (default 5000). */
  replyMs?: number;
  /** The extra time allowed for a `lock ... wait` without `timeout=`, ms (default 60000). */
  maxWaitMs?: number;
}

/** A running locker. */
export interface Locker {
  /** Label. */
  readonly name: string;
  /** The pid its reports carry (the controller's own pid for a thread). */
  readonly pid: number;
  /** Process, thread, or a remote locker over TCP. */
  readonly type: LockerType | 'remote';
  /** Where it runs: `local`, or `HOST:PORT` of a remote locker. */
  readonly where: string;
  /** Every report received so far, in order. */
  readonly log: readonly Report[];
  /**
   * Sends one command; resolves with its report. Rejects when no report comes within
   * `timeoutMs` (default 5000) after the command's scheduled time (`at T`), plus the
   * command's own `timeout=MS` (or `maxWaitMs` when it waits without one).
   */
  send(command: string, timeoutMs?: number, bounds?: ReplyBounds): Promise<Report>;
  /** Sends `stop` and waits for the locker to end (kills it if it does not, bounded). */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL / worker terminate / connection reset) and waits until it is gone. */
  kill(): Promise<void>;
  /** True once it has ended. */
  readonly ended: boolean;
}

interface Pending {
  resolve: (r: Report) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * How long to wait for the report of `command`, counted from now: the time until its
 * `at T` (relative to `epoch`), the reply bound, and the lock wait it asks for.
 */
export function replyDeadline(command: string, epoch: number, replyMs: number, maxWaitMs = 60_000): number {
  const at = /(?:^|\s)at\s+(-?[\d.]+)(?:\s|$)/.exec(command);
  const untilStart = at ? Math.max(0, epoch + Number(at[1]) - nowMs()) : 0;
  const words = command.trim().split(/\s+/);
  let waitMs = 0;
  if (words[0] === 'lock' && words.includes('wait')) {
    const t = words.find((w) => w.startsWith('timeout='));
    waitMs = t ? Number(t.slice(8)) : maxWaitMs;
  } else if (words[0] === 'sleep' || words[0] === 'sig') {
    const n = words.find((w) => /^\d+$/.test(w) || w.startsWith('pause='));
    waitMs = n ? Number(n.replace('pause=', '')) : 0;
    const wa = words.find((w) => w.startsWith('writeat='));
    if (wa) waitMs += Math.max(0, epoch + Number(wa.slice(8)) - nowMs());
  }
  return Math.ceil(untilStart + (Number.isFinite(waitMs) ? waitMs : maxWaitMs) + replyMs);
}

/** The transport-independent part of a locker handle. */
export class LockerHandle implements Locker {
  readonly name: string;
  readonly type: LockerType | 'remote';
  readonly where: string;
  pid = -1;
  readonly log: Report[] = [];
  ended = false;
  readonly #epoch: number;
  readonly #pending: Pending[] = [];
  readonly #write: (line: string) => void;
  readonly #terminate: () => void;
  readonly #exited: Promise<void>;
  #endExited!: () => void;

  /**
   * @param epoch - the controller's time zero, for `at T` in commands.
   * @param write - sends one command line.
   * @param terminate - ends the locker (or the connection to it) at once.
   */
  constructor(
    name: string,
    type: LockerType | 'remote',
    epoch: number,
    write: (line: string) => void,
    terminate: () => void,
    where = 'local',
  ) {
    this.name = name;
    this.type = type;
    this.where = where;
    this.#epoch = epoch;
    this.#write = write;
    this.#terminate = terminate;
    this.#exited = new Promise((r) => (this.#endExited = r));
  }

  /** Feeds one report from the transport. */
  onReport(r: Report): void {
    this.log.push(r);
    const p = this.#pending.shift();
    if (!p) return;
    clearTimeout(p.timer);
    p.resolve(r);
  }

  /** The transport ended: every pending command fails with `why`. */
  onExit(why: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new Error(`locker ${this.name} (pid ${this.pid}) ended (${why}) before reporting`));
    }
    this.#endExited();
  }

  send(command: string, timeoutMs = 5000, bounds: ReplyBounds = {}): Promise<Report> {
    if (this.ended) return Promise.reject(new Error(`locker ${this.name} has ended; cannot send '${command}'`));
    const within = replyDeadline(command, this.#epoch, bounds.replyMs ?? timeoutMs, bounds.maxWaitMs);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#pending.findIndex((p) => p.timer === timer);
        if (i >= 0) this.#pending.splice(i, 1);
        reject(new Error(`locker ${this.name} (pid ${this.pid}): no report for '${command}' within ${within} ms`));
        // Its queue is now out of step with ours: it cannot be trusted any more.
        void this.kill();
      }, within);
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
