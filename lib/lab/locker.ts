/**
 * The locker: a process or worker thread that obeys a queue of commands from its
 * controller and reports every result as one JSON object with its pid, thread id and
 * a timestamp. Commands are text lines (DESIGN.md section 4):
 *
 * ```text
 * lock read|write [at T] [fd=NAME] [kind=K] [range=S:L] [wait] [timeout=MS]
 * unlock [at T] [fd=NAME] [kind=K] [range=S:L]
 * unlockif [fd=NAME] [kind=K]
 * stop
 * ```
 *
 * and, for the lab's experiments: `open NAME [ro] [path=P]`, `close NAME`,
 * `getlk read|write [fd=NAME] [range=S:L] [ofd]`, `readfile`, `spawnchild fd=NAME`,
 * `killchild`, `sig [pause=MS] [writeat=T]` (write this locker's signature as a JSON
 * record, pause, re-read; `writeat` delays the write to T ms after the epoch) and
 * `sleep MS`. `at T` delays the command until T ms after the controller's epoch;
 * commands run strictly one after the other, in order. Besides the OS kinds, `kind=mutex`
 * is the lab's in-process mutex ({@link SharedMutex}): lock modes are ignored, it is
 * always exclusive, and it excludes only threads that share its buffer.
 * @packageDocumentation
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsConstants, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { fcntlGetLockSync, fcntlLockSync, flockSync, lock, tryLock, type FileLock } from '../index.js';
import { parseCommand, type Command, type LockerKind } from './locker-command.js';
import { MUTEX_BYTES, SharedMutex } from './mutex.js';

export { parseCommand, parseRange, type Command, type LockerKind } from './locker-command.js';

/** One report line. */
export interface Report {
  /** Sequence number of the command (0-based, per locker). */
  seq: number;
  /** The command text. */
  cmd: string;
  /** The locker's pid. */
  pid: number;
  /** The locker's worker thread id (0 = main thread of its process). */
  threadId: number;
  /** When the command finished: ms after the controller's epoch. */
  t: number;
  /** `granted`, `conflict`, `timeout`, `released`, `not-held`, `free`, `held`, `same`, `changed`, `done` or `error`. */
  result: string;
  /** Error code (`EAGAIN`, `EDEADLK`, `EBADF`, ...) when there is one. */
  code?: string;
  /** Extra data: the F_GETLK answer, a child's pid, a re-read signature. */
  data?: Record<string, string | number | boolean | null>;
  /** Human-readable text (error messages). */
  message?: string;
}

/** Milliseconds on the shared wall clock (sub-millisecond resolution). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Sleeps `ms`; an abort ends the sleep early with the signal's reason. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function errCode(err: unknown): string {
  return (err as { code?: string } | null)?.code ?? 'ERROR';
}

/**
 * Executes commands against one file, in order. Transport-free: {@link runLockerProcess}
 * (stdin/stdout) and the worker entry feed it lines and forward its reports.
 */
export class LockerCore {
  readonly #file: string;
  readonly #kind: LockerKind;
  readonly #epoch: number;
  readonly #mutex: SharedMutex;
  readonly #abort = new AbortController();
  readonly #fds = new Map<string, number>();
  readonly #held = new Map<string, FileLock | 'mutex'>();
  readonly #children: ChildProcess[] = [];
  #seq = 0;
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;

  /**
   * @param file - the file every command works on (unless `open ... path=`).
   * @param kind - the default lock kind.
   * @param epoch - the controller's time zero (ms on the wall clock); `at T` is relative to it.
   * @param mutexBuffer - the buffer of `kind=mutex` (share it between worker threads to make
   *   them exclude each other); default: a buffer of this locker's own.
   */
  constructor(file: string, kind: LockerKind, epoch: number, mutexBuffer?: SharedArrayBuffer) {
    this.#file = file;
    this.#kind = kind;
    this.#epoch = epoch;
    this.#mutex = new SharedMutex(mutexBuffer ?? new SharedArrayBuffer(MUTEX_BYTES));
  }

  /** True after `stop`. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Queues a command line; `emit` receives its report once it has run. */
  push(line: string, emit: (r: Report) => void): void {
    const seq = this.#seq++;
    this.#chain = this.#chain.then(async () => {
      let report: Omit<Report, 'seq' | 'cmd' | 'pid' | 'threadId' | 't'>;
      let text = line.trim();
      try {
        const cmd = parseCommand(line);
        text = cmd.text;
        if (this.#abort.signal.aborted) throw new Error('locker closed: command not run');
        if (cmd.at !== undefined) await sleep(this.#epoch + cmd.at - nowMs(), this.#abort.signal);
        report = await this.#run(cmd);
      } catch (err) {
        report = { result: 'error', code: errCode(err), message: (err as Error).message };
      }
      emit({
        seq,
        cmd: text,
        pid: process.pid,
        threadId,
        t: Math.round((nowMs() - this.#epoch) * 100) / 100,
        ...report,
      });
    });
  }

  /**
   * Ends this locker for good: queued and sleeping commands are not run, a pending
   * wait is aborted, and every fd is closed (which releases every lock it holds).
   * Used when the transport to the controller is lost.
   */
  close(): void {
    this.#abort.abort(new Error('locker closed: its controller went away'));
    this.cleanup();
  }

  /** Closes every fd and kills spawned children (used on stop and on transport end). */
  cleanup(): void {
    if ([...this.#held.values()].includes('mutex')) this.#mutex.unlock();
    for (const child of this.#children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const fd of this.#fds.values()) {
      try {
        closeSync(fd);
      } catch {
        /* already closed by an experiment */
      }
    }
    this.#fds.clear();
    this.#held.clear();
  }

  #fd(name: string): number {
    let fd = this.#fds.get(name);
    if (fd === undefined) {
      fd = openSync(this.#file, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o666);
      this.#fds.set(name, fd);
    }
    return fd;
  }

  async #lockMutex(cmd: Command, key: string): Promise<Omit<Report, 'seq' | 'cmd' | 'pid' | 'threadId' | 't'>> {
    if (this.#held.has(key)) return { result: 'error', code: 'EDEADLK', message: 'mutex already held by this locker' };
    try {
      if (cmd.wait) await this.#mutex.lock(cmd.timeout ?? Infinity, this.#abort.signal);
      else if (!this.#mutex.tryLock()) return { result: 'conflict', code: 'EAGAIN' };
    } catch (err) {
      const code = errCode(err);
      return { result: code === 'ETIMEDOUT' ? 'timeout' : 'error', code, message: (err as Error).message };
    }
    this.#held.set(key, 'mutex');
    return { result: 'granted' };
  }

  async #run(cmd: Command): Promise<Omit<Report, 'seq' | 'cmd' | 'pid' | 'threadId' | 't'>> {
    const kind = cmd.kind ?? this.#kind;
    const key = `${cmd.fd}|${kind}`;
    switch (cmd.op) {
      case 'open': {
        if (this.#fds.has(cmd.fd)) throw new Error(`fd '${cmd.fd}' is already open`);
        const flags = cmd.flag ? fsConstants.O_RDONLY : fsConstants.O_RDWR | fsConstants.O_CREAT;
        const fd = openSync(cmd.arg ?? this.#file, flags, 0o666);
        this.#fds.set(cmd.fd, fd);
        return { result: 'done', data: { fd } };
      }
      case 'close': {
        const fd = this.#fds.get(cmd.fd);
        if (fd === undefined) throw new Error(`no fd '${cmd.fd}'`);
        this.#fds.delete(cmd.fd);
        for (const k of [...this.#held.keys()]) if (k.startsWith(`${cmd.fd}|`)) this.#held.delete(k);
        closeSync(fd);
        return { result: 'done' };
      }
      case 'lock': {
        if (kind === 'mutex') return this.#lockMutex(cmd, key);
        const fd = this.#fd(cmd.fd);
        const opts = { kind, mode: cmd.mode!, ...(cmd.range ? { range: cmd.range } : {}) };
        try {
          const got = cmd.wait
            ? await lock(fd, {
                ...opts,
                signal: this.#abort.signal,
                ...(cmd.timeout !== undefined ? { timeout: cmd.timeout } : {}),
              })
            : tryLock(fd, opts);
          if (!got) return { result: 'conflict', code: 'EAGAIN' };
          this.#held.set(key, got);
          return { result: 'granted' };
        } catch (err) {
          const code = errCode(err);
          return { result: code === 'ETIMEDOUT' ? 'timeout' : 'error', code, message: (err as Error).message };
        }
      }
      case 'unlock':
      case 'unlockif': {
        const held = this.#held.get(key);
        if (cmd.op === 'unlockif' && !held) return { result: 'not-held' };
        if (held && !cmd.range) {
          this.#held.delete(key);
          if (held === 'mutex') this.#mutex.unlock();
          else held.release();
          return { result: 'released' };
        }
        if (kind === 'mutex') return { result: 'not-held' };
        // A partial unlock, or an unlock by a non-owner: the raw OS call.
        const fd = this.#fd(cmd.fd);
        const range = cmd.range ?? {};
        if (kind === 'flock') flockSync(fd, 'unlock');
        else if (kind === 'posix' || kind === 'ofd')
          fcntlLockSync(fd, { mode: 'unlock', ofd: kind === 'ofd', ...range });
        else throw new Error(`unlock without a held lock is not supported for kind ${kind}`);
        return { result: 'released', data: { partial: cmd.range !== undefined, owner: held !== undefined } };
      }
      case 'getlk': {
        const fd = this.#fd(cmd.fd);
        const info = fcntlGetLockSync(fd, { mode: cmd.mode!, ofd: cmd.flag, ...(cmd.range ?? {}) });
        if (!info) return { result: 'free' };
        return {
          result: 'held',
          data: { pid: info.pid, mode: info.mode, start: String(info.start), length: String(info.length) },
        };
      }
      case 'readfile': {
        const text = readFileSync(this.#file, 'latin1');
        return { result: 'done', data: { bytes: text.length } };
      }
      case 'spawnchild': {
        const fd = this.#fd(cmd.fd);
        const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], {
          stdio: ['ignore', 'ignore', 'ignore', fd],
        });
        this.#children.push(child);
        await new Promise<void>((resolve, reject) => {
          child.once('spawn', resolve);
          child.once('error', reject);
        });
        return { result: 'done', data: { child: child.pid ?? -1 } };
      }
      case 'killchild': {
        for (const child of this.#children.splice(0)) {
          if (child.exitCode !== null || child.signalCode !== null) continue;
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGKILL');
          await gone;
        }
        return { result: 'done' };
      }
      case 'sig': {
        const fd = this.#fd(cmd.fd);
        if (cmd.writeAt !== undefined) await sleep(this.#epoch + cmd.writeAt - nowMs(), this.#abort.signal);
        const record = JSON.stringify({ pid: process.pid, thread: threadId, t: Number(nowMs().toFixed(3)) });
        const sig = Buffer.from(record.padEnd(72, ' '));
        writeSync(fd, sig, 0, sig.length, 0);
        await sleep(Number(cmd.arg ?? 0), this.#abort.signal);
        const back = Buffer.alloc(sig.length);
        readSync(fd, back, 0, back.length, 0);
        const same = back.equals(sig);
        return {
          result: same ? 'same' : 'changed',
          data: same ? {} : { wrote: sig.toString().trim(), read: back.toString().trim() },
        };
      }
      case 'sleep':
        await sleep(Number(cmd.arg ?? 0), this.#abort.signal);
        return { result: 'done' };
      case 'stop':
        this.#stopped = true;
        this.cleanup();
        return { result: 'done' };
    }
  }
}
