/**
 * The high-level API (docs/DESIGN.md "The API"): tryLock / lockSync / lock / getLock.
 * The FileLock they return is in file_lock.ts.
 */
import { resolveKind } from './capabilities.js';
import { AbortError, EAGAIN_ERRNO, invalidArgValue, unavailable } from './errors.js';
import { assertNoSelfDeadlock } from './self_deadlock.js';
import { flockConflictFromProc, resolveOfdPid } from './holders.js';
import { isTimeout, waitTimedOut } from './timeout.js';
import { FileLock } from './file_lock.js';
import {
  closeOwnedQuietly,
  openForLock,
  openForLockSync,
  openForQuery,
  validateOpenOptions,
  type OpenOptions,
} from './open.js';
import {
  acquire,
  acquiredId,
  fail,
  query,
  register,
  timeoutError,
  trySet,
  unlock,
  type HeldId,
  type Request,
} from './syscall.js';
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
import { RECORD_LOCK, RECORD_LOCK_OWNING_FD } from './native.js';

export { FileLock };

interface Prepared {
  target: ResolvedTarget;
  /** The caller's object target (a FileHandle), whose fd the lock checks on release. */
  handle: { readonly fd: number } | undefined;
  kind: LockKind;
  mode: LockMode;
  start: bigint;
  length: bigint;
  open: OpenOptions;
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
  const handle = typeof target === 'object' && target !== null ? (target as { readonly fd: number }) : undefined;
  return { target: t, handle, kind, mode, start, length, open: validateOpenOptions(opts) };
}

function request(p: Prepared, fd: number): Request {
  return { kind: p.kind, fd, mode: p.mode, start: p.start, length: p.length, path: p.target.path };
}

/** A path target's fd is opened here and owned by the lock (open.ts); a caller's fd is not. */
function owned(p: Prepared): boolean {
  return p.target.path !== undefined;
}

/** Whether the addon's lock table closes the fd on release (POSIX; Windows: file_lock.ts). */
function tableOwns(p: Prepared): boolean {
  // Stryker disable next-line StringLiteral: Windows only; mutation runs are Linux-only
  return owned(p) && process.platform !== 'win32';
}

function targetFd(p: Prepared): number {
  return p.target.path === undefined ? p.target.fd : openForLockSync(p.target.path, p.kind, p.mode, p.open);
}

function targetFdAsync(p: Prepared): Promise<number> | number {
  return p.target.path === undefined ? p.target.fd : openForLock(p.target.path, p.kind, p.mode, p.open);
}

function held(p: Prepared, req: Request, id: HeldId): FileLock {
  return new FileLock(req, id, owned(p), p.handle);
}

/** What is left of `timeout` (ms, < 0 = forever) since `started`: the open counts. */
function remaining(timeout: number, started: number): number {
  // Stryker disable next-line ArithmeticOperator: a wait longer by the open's time shows only on a clock
  return timeout < 0 ? -1 : Math.max(0, Math.round(timeout - (performance.now() - started)));
}

/**
 * One non-blocking attempt: the lock, `null` when it is busy, or an error (an owned
 * fd is then closed again, or its close deferred; on `null` the caller decides).
 */
function attempt(p: Prepared, req: Request): FileLock | null {
  try {
    const code = acquire(req, tableOwns(p));
    if (code === 0) return held(p, req, acquiredId());
    if (code !== EAGAIN_ERRNO) throw fail(code, req, 'try');
  } catch (err) {
    if (owned(p)) closeOwnedQuietly(req.fd);
    throw err;
  }
  return null;
}

/**
 * Takes the lock if it is free, without waiting. Returns `null` when another owner
 * holds a conflicting lock; throws for every other failure (a {@link LockError}
 * shaped like Node's fs errors). Bad arguments throw TypeError/RangeError before any
 * syscall. A path is opened (created if missing, unless `create: false`) and the fd
 * is closed again when the lock is not taken.
 *
 * @example
 * ```ts
 * using lock = tryLock('/tmp/app.lock');
 * if (!lock) console.log('busy');
 * ```
 */
export function tryLock(target: Target, options?: TryLockOptions): FileLock | null {
  const p = prepare(target, options, 'tryLock');
  const req = request(p, targetFd(p));
  const lock = attempt(p, req);
  if (!lock && owned(p)) closeOwnedQuietly(req.fd);
  return lock;
}

/**
 * Takes the lock, waiting **on the calling thread** while it is held elsewhere (the
 * event loop stops meanwhile: prefer {@link lock} in servers). `timeout` (ms, counted
 * from the call, the open included) ends the wait with a `'ETIMEDOUT'` error, and no
 * lock is left behind. A POSIX wait that would deadlock fails with `'EDEADLK'`.
 */
export function lockSync(target: Target, options?: SyncWaitOptions): FileLock {
  const started = performance.now();
  const p = prepare(target, options, 'lockSync');
  const timeout = validateTimeout((options as SyncWaitOptions | undefined)?.timeout);
  const req = request(p, targetFd(p));
  const lock = attempt(p, req);
  if (lock) return lock;
  try {
    const left = remaining(timeout, started);
    if (left === 0) throw timeoutError(req);
    if (left < 0) assertNoSelfDeadlock(req);
    const recorded = waitSync(req, left, tableOwns(p) ? RECORD_LOCK_OWNING_FD : RECORD_LOCK);
    return held(p, req, recorded);
  } catch (err) {
    // Holders are looked up before the fd closes (a POSIX holder list needs the file),
    // and here, after any await, so the stack trace shows who called.
    const reported = isTimeout(err) ? waitTimedOut(req, timeout) : err;
    if (owned(p)) closeOwnedQuietly(req.fd);
    throw reported;
  }
}

/**
 * Takes the lock, waiting off the event loop while it is held elsewhere. The first
 * attempt is a non-blocking call on this thread (an uncontended lock costs one
 * syscall and one fstat); only a contended wait moves to a thread the addon owns,
 * never to libuv's threadpool, so any number of waits leave `fs`, timers and the
 * event loop working. A path is opened on libuv's pool (one short, non-blocking op).
 *
 * `timeout` (ms, counted from the call, the open included) rejects with code
 * `'ETIMEDOUT'`; `signal` rejects with an `AbortError` (code `'ABORT_ERR'`). Both end
 * the kernel wait itself, and a grant that races them is undone so that every lock
 * held before the wait stays as it was (docs/DESIGN.md "Ownership, identity and
 * teardown").
 */
export async function lock(target: Target, options?: WaitOptions): Promise<FileLock> {
  const started = performance.now();
  const p = prepare(target, options, 'lock');
  const timeout = validateTimeout(options?.timeout);
  const signal = validateSignal(options?.signal);
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  const req = request(p, await targetFdAsync(p));
  if (signal?.aborted) {
    if (owned(p)) closeOwnedQuietly(req.fd);
    throw new AbortError(undefined, { cause: signal.reason });
  }
  const lock = attempt(p, req);
  if (lock) return lock;
  try {
    const left = remaining(timeout, started);
    if (left === 0) throw timeoutError(req);
    const recorded = await waitAsync(req, left, signal, tableOwns(p) ? RECORD_LOCK_OWNING_FD : RECORD_LOCK);
    // 0: the polling fallback (no waiter thread) granted it; record it here.
    return held(p, req, recorded !== 0 ? recorded : register(req, tableOwns(p)));
  } catch (err) {
    // Holders are looked up before the fd closes (a POSIX holder list needs the file),
    // and here, after any await, so the stack trace shows who called.
    const reported = isTimeout(err) ? waitTimedOut(req, timeout) : err;
    if (owned(p)) closeOwnedQuietly(req.fd);
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
 * read-only (non-blocking, `followSymlinks` honoured) and never created.
 */
export function getLock(target: Target, options?: LockOptions): LockConflict | null {
  const p = prepare(target, options, 'getLock');
  const path = p.target.path;
  const owned = path !== undefined;
  const fd = owned ? openForQuery(path, p.open) : p.target.fd!;
  const req = request(p, fd);
  try {
    if (p.kind === 'posix' || p.kind === 'ofd') {
      const held = query(req);
      if (held === null) return null;
      const conflict: LockConflict = { kind: p.kind, ...held };
      // F_GETLK names an OFD holder -1 (fcntl(2)); /proc can name it (other pids stay).
      conflict.pid = resolveOfdPid(fd, conflict);
      return conflict;
    }
    // Stryker disable next-line ConditionalExpression,LogicalOperator,StringLiteral: only flock gets here, and mutation runs are Linux-only
    if (p.kind === 'flock' && process.platform === 'linux') return flockConflictFromProc(req);
    // Stryker disable all: macOS/BSD and Windows only (no /proc, no query call); mutation runs are Linux-only
    if (p.kind === 'flock' && !owned) {
      // A probe through the caller's own fd would convert (and then drop) the caller's
      // own flock (flock(2): conversion replaces the lock); only a fresh open may probe.
      throw unavailable('getLock() on an fd for kind flock (pass a path)');
    }
    return probe(req);
  } finally {
    if (owned) closeOwnedQuietly(fd);
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
  throw fail(code, req, 'try');
}
// Stryker restore all
