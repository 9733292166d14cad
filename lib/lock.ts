/**
 * The high-level API (DESIGN.md section 2): tryLock / lockSync / lock / getLock and
 * the FileLock they return.
 */
import { resolveKind } from './capabilities.js';
import { AbortError, EAGAIN_ERRNO, invalidArgValue, unavailable } from './errors.js';
import { assertNoSelfDeadlock, trackHeld, untrackHeld } from './self_deadlock.js';
import { flockConflictFromProc, resolveOfdPid } from './holders.js';
import { isTimeout, waitTimedOut } from './timeout.js';
import { openForLock, openForLockSync, openForQuery } from './open.js';
import { discardPosixFd, releasePosix, retainPosix, type LivePosix } from './posix_registry.js';
import { fail, query, timeoutError, trySet, unlock, type Request } from './syscall.js';
import { waitAsync, waitSync } from './wait.js';
import type {
  LockConflict,
  LockKind,
  LockMode,
  SyncWaitOptions,
  Target,
  TryLockOptions,
  LockOptions,
  WaitOptions,
} from './types.js';
import {
  validateKind,
  validateMode,
  validateOptions,
  validateRange,
  validateSignal,
  validateTarget,
  validateTimeout,
  type OptionsOf,
  type ResolvedTarget,
} from './validate.js';
import { native } from './native.js';

/**
 * A held lock. Release it with {@link FileLock.release}, or let `using` /
 * `await using` do it. A lock opened from a path owns its fd and closes it on
 * release; a lock on a caller's fd leaves the fd open.
 */
export class FileLock {
  /** The lock family that holds it. */
  readonly kind: LockKind;
  #mode: LockMode;
  /** The fd the lock is held through. */
  readonly fd: number;
  /** The path, when the lock was taken by path. */
  readonly path?: string | undefined;
  /** The locked range; `length` 0n = to EOF and beyond (flock: always the whole file). */
  readonly range: { readonly start: bigint; readonly length: bigint };
  #ownsFd: boolean;
  #released = false;
  #posix: LivePosix | undefined;

  /** @internal Locks are made by {@link tryLock}, {@link lockSync} and {@link lock}. */
  constructor(req: Request, ownsFd: boolean) {
    this.kind = req.kind;
    this.#mode = req.mode;
    this.fd = req.fd;
    if (req.path !== undefined) this.path = req.path;
    this.range = Object.freeze({ start: req.start, length: req.length });
    this.#ownsFd = ownsFd;
    // Registered after the grant, so the bookkeeping never runs for a failed request.
    this.#posix = req.kind === 'posix' ? retainPosix(req.fd) : undefined;
    trackHeld(this);
  }

  /** `'shared'` or `'exclusive'` (changes only through {@link FileLock.tryChangeMode}). */
  get mode(): LockMode {
    return this.#mode;
  }

  /**
   * Converts the held lock to `mode` without waiting, atomically: POSIX and OFD
   * locks only. fcntl(2) converts an existing lock in place, and a conflicting
   * request fails before anything changes, so on `false` the lock is still held in
   * its old mode. Throws `ERR_FEATURE_UNAVAILABLE_ON_PLATFORM` for flock (flock(2):
   * "the existing lock is first removed, and then a new lock is established", so a
   * failed upgrade leaves no lock at all) and Windows (no conversion: a shared
   * handle lock cannot become exclusive). For those, release and lock again, knowing
   * that another owner may get in between.
   */
  tryChangeMode(mode: LockMode): boolean {
    const next = validateMode(mode);
    if (this.kind !== 'posix' && this.kind !== 'ofd') {
      throw unavailable(`An atomic mode change of a '${this.kind}' lock`);
    }
    if (this.#released) throw invalidArgValue('this', 'is a released lock', this.kind);
    if (next === this.#mode) return true;
    const req = this.#request();
    req.mode = next;
    const code = trySet(req);
    if (code === EAGAIN_ERRNO) return false;
    if (code !== 0) throw fail(code, req, 'try', native.lastWinError());
    this.#mode = next;
    return true;
  }

  #request(): Request {
    return {
      kind: this.kind,
      fd: this.fd,
      mode: this.#mode,
      start: this.range.start,
      length: this.range.length,
      path: this.path,
    };
  }

  /** True once {@link FileLock.release} has run. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Releases the lock (and closes the fd when the lock owns it). Calling it again
   * does nothing. If the unlock fails (say, the caller closed the fd already) the
   * error is thrown after the owned fd has been closed.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    untrackHeld(this);
    const req = this.#request();
    let error: unknown;
    try {
      unlock(req);
    } catch (err) {
      error = err;
    }
    try {
      if (this.#posix !== undefined) releasePosix(this.#posix, this.#ownsFd ? this.fd : undefined);
      else if (this.#ownsFd) discardPosixFd(this.fd);
    } catch (err) {
      error ??= err;
    }
    if (error) throw error;
  }

  /** Same as {@link FileLock.release}: for `using lock = ...`. */
  [Symbol.dispose](): void {
    this.release();
  }

  /** Same as {@link FileLock.release}: for `await using lock = ...`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}

interface Prepared {
  target: ResolvedTarget;
  kind: LockKind;
  mode: LockMode;
  start: bigint;
  length: bigint;
}

/** Validates everything before any syscall. */
function prepare(target: unknown, options: unknown, of: OptionsOf): Prepared {
  const t = validateTarget(target);
  const opts = validateOptions(options, of);
  const kindOpt = validateKind(opts['kind']);
  const mode = validateMode(opts['mode']);
  const { start, length } = validateRange(opts['range']);
  const wholeFile = start === 0n && length === 0n;
  const kind = resolveKind(kindOpt, wholeFile);
  if (kind === 'flock' && !wholeFile) {
    throw invalidArgValue(
      'options.range',
      "cannot be used with kind 'flock', which locks whole files only (flock(2)); use 'ofd' or 'posix' for byte ranges",
      opts['range'],
    );
  }
  return { target: t, kind, mode, start, length };
}

/** Closes an fd this module opened and does not keep (see discardPosixFd). */
function discard(fd: number): void {
  try {
    discardPosixFd(fd);
  } catch {
    /* the caller reports the error that matters */
  }
}

function request(p: Prepared, fd: number): Request {
  return { kind: p.kind, fd, mode: p.mode, start: p.start, length: p.length, path: p.target.path };
}

/**
 * Takes the lock if it is free, without waiting. Returns `null` when another owner
 * holds a conflicting lock; throws for every other failure (a {@link LockError}
 * shaped like Node's fs errors). Bad arguments throw TypeError/RangeError before any
 * syscall. A path is opened (created if missing) and the fd is closed again when the
 * lock is not taken.
 *
 * @example
 * ```ts
 * using lock = tryLock('/tmp/app.lock');
 * if (!lock) console.log('busy');
 * ```
 */
export function tryLock(target: Target, options?: TryLockOptions): FileLock | null {
  const p = prepare(target, options, 'tryLock');
  const path = p.target.path;
  const owned = path !== undefined;
  const fd = owned ? openForLockSync(path, p.kind, p.mode) : p.target.fd!;
  const req = request(p, fd);
  const code = trySet(req);
  if (code === 0) return new FileLock(req, owned);
  if (owned) discard(fd);
  if (code === EAGAIN_ERRNO) return null;
  throw fail(code, req, 'try', native.lastWinError());
}

/**
 * Takes the lock, waiting **on the calling thread** while it is held elsewhere (the
 * event loop stops meanwhile: prefer {@link lock} in servers). `timeout` (ms) ends the
 * wait with a `'ETIMEDOUT'` error, and no lock is left behind. A POSIX wait that would
 * deadlock fails with `'EDEADLK'`.
 */
export function lockSync(target: Target, options?: SyncWaitOptions): FileLock {
  const p = prepare(target, options, 'lockSync');
  const timeout = validateTimeout((options as SyncWaitOptions | undefined)?.timeout);
  const path = p.target.path;
  const owned = path !== undefined;
  const fd = owned ? openForLockSync(path, p.kind, p.mode) : p.target.fd!;
  const req = request(p, fd);
  try {
    const code = trySet(req);
    if (code === EAGAIN_ERRNO) {
      if (timeout === 0) throw timeoutError(req);
      if (timeout < 0) assertNoSelfDeadlock(req);
      waitSync(req, timeout);
    } else if (code !== 0) {
      throw fail(code, req, 'try', native.lastWinError());
    }
    return new FileLock(req, owned);
  } catch (err) {
    // Holders are looked up before the fd closes (a POSIX holder list needs the file).
    const reported = isTimeout(err) ? waitTimedOut(req, timeout) : err;
    if (owned) discard(fd);
    throw reported;
  }
}

/**
 * Takes the lock, waiting off the event loop while it is held elsewhere. The first
 * attempt is a non-blocking call on this thread (an uncontended lock costs one
 * syscall); only a contended wait moves to a thread the addon owns, never to libuv's
 * threadpool, so any number of waits leave `fs`, timers and the event loop working.
 *
 * `timeout` (ms) rejects with code `'ETIMEDOUT'`; `signal` rejects with an
 * `AbortError` (code `'ABORT_ERR'`). Both end the kernel wait itself, and a grant
 * that races them is released, so no lock is ever left held by nobody.
 */
export async function lock(target: Target, options?: WaitOptions): Promise<FileLock> {
  const p = prepare(target, options, 'lock');
  const timeout = validateTimeout(options?.timeout);
  const signal = validateSignal(options?.signal);
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  const started = performance.now();
  const path = p.target.path;
  const owned = path !== undefined;
  const fd = owned ? await openForLock(path, p.kind, p.mode) : p.target.fd!;
  const req = request(p, fd);
  try {
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const code = trySet(req);
    if (code === EAGAIN_ERRNO) {
      const left = timeout < 0 ? -1 : Math.max(0, Math.round(timeout - (performance.now() - started)));
      if (left === 0) throw timeoutError(req);
      await waitAsync(req, left, signal);
    } else if (code !== 0) {
      throw fail(code, req, 'try', native.lastWinError());
    }
    return new FileLock(req, owned);
  } catch (err) {
    // Made here, after the await, so the stack trace shows who called lock().
    const reported = isTimeout(err) ? waitTimedOut(req, timeout) : err;
    if (owned) discard(fd);
    throw reported;
  }
}

/**
 * Who would block this request: `null` when it would be granted now, else the
 * conflicting lock (`F_GETLK` / `F_OFD_GETLK` for POSIX and OFD; pid is -1 for an
 * OFD holder). flock has no query call: on Linux the answer is read from /proc/locks
 * (excluding the target fd's own lock); elsewhere it is found by a non-blocking probe.
 * Windows has no query either: a probe says whether the range is held, with pid -1.
 * The answer may be out of date by the time it is read (fcntl(2)). A path is opened
 * read-only and never created.
 */
export function getLock(target: Target, options?: LockOptions): LockConflict | null {
  const p = prepare(target, options, 'getLock');
  const path = p.target.path;
  const owned = path !== undefined;
  const fd = owned ? openForQuery(path) : p.target.fd!;
  const req = request(p, fd);
  try {
    if (p.kind === 'posix' || p.kind === 'ofd') {
      const held = query(req);
      if (held === null) return null;
      const conflict: LockConflict = { kind: p.kind, ...held };
      // F_GETLK names an OFD holder -1 (fcntl(2)); /proc can name it.
      if (conflict.pid === -1) conflict.pid = resolveOfdPid(fd, conflict);
      return conflict;
    }
    if (p.kind === 'flock' && process.platform === 'linux') return flockConflictFromProc(req);
    if (p.kind === 'flock' && !owned) {
      // A probe through the caller's own fd would convert (and then drop) the caller's
      // own flock (flock(2): conversion replaces the lock); only a fresh open may probe.
      throw unavailable('getLock() on an fd for kind flock (pass a path)');
    }
    return probe(req);
  } finally {
    if (owned) discard(fd);
  }
}

/** Asks by trying: used where the OS has no query call. */
function probe(req: Request): LockConflict | null {
  const code = trySet(req);
  if (code === 0) {
    unlock(req);
    return null;
  }
  if (code === EAGAIN_ERRNO)
    return { kind: req.kind, mode: 'exclusive', start: req.start, length: req.length, pid: -1 };
  throw fail(code, req, 'try', native.lastWinError());
}
