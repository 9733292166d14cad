/**
 * One function per OS call, for authors of other lock libraries: no kind
 * resolution, no fd ownership, no bookkeeping. Offsets are absolute (SEEK_SET): a
 * JS caller cannot see the fd's file position that SEEK_CUR would use, and SEEK_END
 * is sized at call time (SEMANTICS.md row 23).
 *
 * The one rule for contention: a call that does not wait and finds the lock held
 * throws a {@link LockError} with `code === 'EAGAIN'` on every kind (fcntl's EACCES
 * and Windows' ERROR_LOCK_VIOLATION included). The Promise forms try without waiting
 * on the calling thread first, then wait on a thread the addon owns.
 */
import { assertKindAvailable } from './capabilities.js';
import { AbortError, EAGAIN_ERRNO, invalidArgValue } from './errors.js';
import { fail, query, trySet, unlock, type Request } from './syscall.js';
import { NOT_TAKEN, fcntlLockSyncFast, flockSyncFast } from './hot_path.js';
import { waitAsync, waitSync } from './wait.js';
import type { LockConflict, LockKind, LockMode, LockRange } from './types.js';
import { isTimeout, waitTimedOut } from './timeout.js';
import { validateFd, validateOptions, validateRange, validateSignal, validateTimeout } from './validate.js';
import { native } from './native.js';

/**
 * The platform's own values of the lock constants, read from its system headers when
 * the addon was built (like `fs.constants`): for authors who issue these calls through
 * other means, or decode what another tool reports. Each is present only where the
 * platform defines it: the flock and fcntl values on Linux, macOS and BSD, `F_OFD_*`
 * where the headers have them (Linux), the `LOCKFILE_*` flags on Windows.
 */
export interface LockConstants {
  /** flock(2): shared lock. */
  readonly LOCK_SH?: number;
  /** flock(2): exclusive lock. */
  readonly LOCK_EX?: number;
  /** flock(2): remove the lock. */
  readonly LOCK_UN?: number;
  /** flock(2): do not block (or'ed into LOCK_SH/LOCK_EX). */
  readonly LOCK_NB?: number;
  /** fcntl(2) `l_type`: read (shared) lock. */
  readonly F_RDLCK?: number;
  /** fcntl(2) `l_type`: write (exclusive) lock. */
  readonly F_WRLCK?: number;
  /** fcntl(2) `l_type`: unlock. */
  readonly F_UNLCK?: number;
  /** fcntl(2): set a POSIX record lock, or fail at once. */
  readonly F_SETLK?: number;
  /** fcntl(2): set a POSIX record lock, waiting. */
  readonly F_SETLKW?: number;
  /** fcntl(2): test for a conflicting POSIX lock. */
  readonly F_GETLK?: number;
  /** fcntl(2), Linux >= 3.15: set an open file description lock, or fail at once. */
  readonly F_OFD_SETLK?: number;
  /** fcntl(2), Linux >= 3.15: set an open file description lock, waiting. */
  readonly F_OFD_SETLKW?: number;
  /** fcntl(2), Linux >= 3.15: test for a conflicting lock, as an OFD lock would. */
  readonly F_OFD_GETLK?: number;
  /** LockFileEx `dwFlags` (Windows): an exclusive lock. */
  readonly LOCKFILE_EXCLUSIVE_LOCK?: number;
  /** LockFileEx `dwFlags` (Windows): fail at once instead of waiting. */
  readonly LOCKFILE_FAIL_IMMEDIATELY?: number;
}

/** The lock constants of this platform (see {@link LockConstants}). */
export const constants: LockConstants = native.constants;

/** `flock(2)` operations: LOCK_SH, LOCK_EX, LOCK_UN. */
export type FlockOperation = 'shared' | 'exclusive' | 'unlock';

/**
 * A byte range of a record lock (absolute offsets; `length` 0 = to EOF and beyond;
 * Windows: to the end of the 64-bit range). The same shape as {@link LockRange}.
 */
export type RangeOptions = LockRange;

/** Options of the waiting Promise forms. */
export interface PrimitiveWaitOptions {
  /** Milliseconds; rejects with code 'ETIMEDOUT'. Default: forever. */
  timeout?: number | undefined;
  /** Rejects with an AbortError and ends the kernel wait. */
  signal?: AbortSignal | undefined;
}

/** Options of the synchronous forms. */
export interface PrimitiveSyncOptions {
  /** Wait for the lock (LOCK_EX without LOCK_NB, F_SETLKW, blocking LockFileEx) on the calling thread. */
  wait?: boolean | undefined;
  /** With `wait`: give up after this many ms (code 'ETIMEDOUT'). */
  timeout?: number | undefined;
}

/** Options of {@link fcntlLockSync} and {@link fcntlLock}. */
export interface FcntlLockOptions extends RangeOptions {
  /** F_RDLCK, F_WRLCK or F_UNLCK. */
  mode: LockMode | 'unlock';
  /** Use the open-file-description commands (F_OFD_SETLK/F_OFD_SETLKW, Linux >= 3.15). */
  ofd?: boolean | undefined;
}

/** Options of {@link fcntlGetLockSync}. */
export interface FcntlGetLockOptions extends RangeOptions {
  /** The lock you would ask for. Default 'exclusive'. */
  mode?: LockMode | undefined;
  /** Use F_OFD_GETLK. */
  ofd?: boolean | undefined;
}

/** Options of {@link lockFileExSync} and {@link lockFileEx}. */
export interface LockFileExOptions extends RangeOptions {
  /** LOCKFILE_EXCLUSIVE_LOCK or not. Default 'exclusive'. */
  mode?: LockMode | undefined;
}

function primitiveMode(v: unknown, allowUnlock: boolean, name: string): LockMode | 'unlock' {
  if (v === 'shared' || v === 'exclusive' || (allowUnlock && v === 'unlock')) return v;
  throw invalidArgValue(name, `must be 'shared', 'exclusive'${allowUnlock ? " or 'unlock'" : ''}`, v);
}

const WHOLE_FILE = { start: 0n, length: 0n } as const;

function build(kind: LockKind, fd: unknown, mode: LockMode | 'unlock', opts: Record<string, unknown>): Request {
  const validFd = validateFd(fd);
  // No range given (flock never has one): the whole file, without building and
  // checking a range object on the hot path.
  const { start, length } =
    opts['start'] === undefined && opts['length'] === undefined
      ? WHOLE_FILE
      : validateRange({ start: opts['start'], length: opts['length'] }, 'options');
  assertKindAvailable(kind);
  // 'unlock' travels as mode 'shared' with the unlock op chosen below.
  // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, unlock() never reads req.mode
  return { kind, fd: validFd, mode: mode === 'unlock' ? 'shared' : mode, start, length };
}

/**
 * The sync set: `code` is the result of the hot path's call (hot_path.ts), which is
 * not made again; else the call is made here.
 */
function setSync(req: Request, isUnlock: boolean, opts: Record<string, unknown>, code = NOT_TAKEN): void {
  const wait = opts['wait'] === true;
  const timeout = validateTimeout(opts['timeout']);
  if (isUnlock) {
    if (code === NOT_TAKEN) return unlock(req);
    if (code === 0) return;
    throw fail(code, req, 'unlock');
  }
  if (code === NOT_TAKEN) code = trySet(req);
  if (code === 0) return;
  if (code !== EAGAIN_ERRNO || !wait) throw fail(code, req, 'try');
  try {
    waitSync(req, timeout);
  } catch (err) {
    throw isTimeout(err) ? waitTimedOut(req, timeout) : err;
  }
}

async function setAsync(req: Request, opts: Record<string, unknown>): Promise<void> {
  const timeout = validateTimeout(opts['timeout']);
  const signal = validateSignal(opts['signal']);
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  const code = trySet(req);
  if (code === 0) return;
  if (code !== EAGAIN_ERRNO) throw fail(code, req, 'try');
  try {
    await waitAsync(req, timeout, signal);
  } catch (err) {
    // Made after the await, so the stack trace shows the caller.
    throw isTimeout(err) ? waitTimedOut(req, timeout) : err;
  }
}

/**
 * `flock(fd, LOCK_SH | LOCK_EX | LOCK_UN [| LOCK_NB])`. Without `wait` a held lock
 * throws code 'EAGAIN'. Converting a held flock to another mode is not atomic
 * (flock(2): "the existing lock is first removed, and then a new lock is established"):
 * a failed conversion leaves no lock at all.
 */
export function flockSync(fd: number, operation: FlockOperation, options?: PrimitiveSyncOptions): void {
  const code = flockSyncFast(fd, operation, options);
  if (code === 0) return;
  const opts = validateOptions(options, 'flockSync');
  const op = primitiveMode(operation, true, 'operation');
  setSync(build('flock', fd, op, {}), op === 'unlock', opts, code);
}

/**
 * `flock(fd, LOCK_SH | LOCK_EX)` that waits off the event loop, or `flock(fd, LOCK_UN)`
 * for `'unlock'` (resolves once released, like `fcntlLock(fd, { mode: 'unlock' })`).
 */
export function flock(fd: number, operation: FlockOperation, options?: PrimitiveWaitOptions): Promise<void> {
  try {
    const opts = validateOptions(options, 'flock');
    const op = primitiveMode(operation, true, 'operation');
    const req = build('flock', fd, op, {});
    if (op === 'unlock') return Promise.resolve(unlock(req));
    return setAsync(req, opts);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * `fcntl(fd, F_SETLK | F_SETLKW, &flock)`, or with `ofd: true` F_OFD_SETLK /
 * F_OFD_SETLKW. Without `wait` a conflicting lock throws code 'EAGAIN'. Converting a
 * held range is atomic for both (fcntl(2)): a failed upgrade keeps the read lock.
 * A POSIX wait that would deadlock throws 'EDEADLK'.
 */
export function fcntlLockSync(fd: number, options: FcntlLockOptions & PrimitiveSyncOptions): void {
  const code = fcntlLockSyncFast(fd, options);
  if (code === 0) return;
  const opts = validateOptions(options, 'fcntlLockSync');
  const mode = primitiveMode(opts['mode'], true, 'options.mode');
  setSync(build(opts['ofd'] === true ? 'ofd' : 'posix', fd, mode, opts), mode === 'unlock', opts, code);
}

/** `fcntl(F_SETLKW)` / `fcntl(F_OFD_SETLKW)` waiting off the event loop. */
export function fcntlLock(fd: number, options: FcntlLockOptions & PrimitiveWaitOptions): Promise<void> {
  try {
    const opts = validateOptions(options, 'fcntlLock');
    const mode = primitiveMode(opts['mode'], true, 'options.mode');
    const req = build(opts['ofd'] === true ? 'ofd' : 'posix', fd, mode, opts);
    if (mode === 'unlock') return Promise.resolve(unlock(req));
    return setAsync(req, opts);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * `fcntl(fd, F_GETLK | F_OFD_GETLK, &flock)`: the first lock that would block the
 * described request, or null. `pid` is -1 when the holder is an OFD lock (fcntl(2)).
 */
export function fcntlGetLockSync(fd: number, options?: FcntlGetLockOptions): LockConflict | null {
  const opts = validateOptions(options, 'fcntlGetLockSync');
  const mode = opts['mode'] === undefined ? 'exclusive' : primitiveMode(opts['mode'], false, 'options.mode');
  const kind = opts['ofd'] === true ? 'ofd' : 'posix';
  const held = query(build(kind, fd, mode, opts));
  return held && { kind, ...held };
}

// Stryker disable all: Windows only (on Linux build() throws before any of it
// matters; test/primitives-unit.test.ts checks that); mutation runs are Linux-only
/**
 * `LockFileEx` (Windows). Without `wait` this is LOCKFILE_FAIL_IMMEDIATELY, and a
 * held range throws code 'EAGAIN' (winerror 33, ERROR_LOCK_VIOLATION).
 */
export function lockFileExSync(fd: number, options?: LockFileExOptions & PrimitiveSyncOptions): void {
  const opts = validateOptions(options, 'lockFileExSync');
  const mode = opts['mode'] === undefined ? 'exclusive' : primitiveMode(opts['mode'], false, 'options.mode');
  setSync(build('windows', fd, mode, opts), false, opts);
}

/** `LockFileEx` waiting off the event loop (Windows). */
export function lockFileEx(fd: number, options?: LockFileExOptions & PrimitiveWaitOptions): Promise<void> {
  try {
    const opts = validateOptions(options, 'lockFileEx');
    const mode = opts['mode'] === undefined ? 'exclusive' : primitiveMode(opts['mode'], false, 'options.mode');
    return setAsync(build('windows', fd, mode, opts), opts);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * `UnlockFileEx` (Windows): the range must match a locked range exactly
 * (UnlockFileEx: "The region to unlock must correspond exactly to an existing locked
 * region").
 */
export function unlockFileExSync(fd: number, options?: RangeOptions): void {
  const opts = validateOptions(options, 'unlockFileExSync');
  unlock(build('windows', fd, 'unlock', opts));
}
// Stryker restore all
