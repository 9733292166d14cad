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
import { waitAsync, waitSync } from './wait.js';
import type { LockInfo, LockKind, LockMode } from './types.js';
import { validateFd, validateOptions, validateRange, validateSignal, validateTimeout } from './validate.js';
import { native } from './native.js';

/** `flock(2)` operations: LOCK_SH, LOCK_EX, LOCK_UN. */
export type FlockOperation = 'shared' | 'exclusive' | 'unlock';

/** A byte range of a record lock (absolute offsets; `length` 0 = to EOF and beyond). */
export interface RangeOptions {
  /** First byte. Default 0. */
  start?: number | bigint;
  /** Number of bytes; 0 (default) = to EOF and beyond (Windows: to the end of the 64-bit range). */
  length?: number | bigint;
}

/** Options of the waiting Promise forms. */
export interface PrimitiveWaitOptions {
  /** Milliseconds; rejects with code 'ETIMEDOUT'. Default: forever. */
  timeout?: number;
  /** Rejects with an AbortError and ends the kernel wait. */
  signal?: AbortSignal;
}

/** Options of the synchronous forms. */
export interface PrimitiveSyncOptions {
  /** Wait for the lock (LOCK_EX without LOCK_NB, F_SETLKW, blocking LockFileEx) on the calling thread. */
  wait?: boolean;
  /** With `wait`: give up after this many ms (code 'ETIMEDOUT'). */
  timeout?: number;
}

/** Options of {@link fcntlLockSync} and {@link fcntlLock}. */
export interface FcntlLockOptions extends RangeOptions {
  /** F_RDLCK, F_WRLCK or F_UNLCK. */
  mode: LockMode | 'unlock';
  /** Use the open-file-description commands (F_OFD_SETLK/F_OFD_SETLKW, Linux >= 3.15). */
  ofd?: boolean;
}

/** Options of {@link fcntlGetLockSync}. */
export interface FcntlGetLockOptions extends RangeOptions {
  /** The lock you would ask for. Default 'exclusive'. */
  mode?: LockMode;
  /** Use F_OFD_GETLK. */
  ofd?: boolean;
}

/** Options of {@link lockFileExSync} and {@link lockFileEx}. */
export interface LockFileExOptions extends RangeOptions {
  /** LOCKFILE_EXCLUSIVE_LOCK or not. Default 'exclusive'. */
  mode?: LockMode;
}

function primitiveMode(v: unknown, allowUnlock: boolean, name: string): LockMode | 'unlock' {
  if (v === 'shared' || v === 'exclusive' || (allowUnlock && v === 'unlock')) return v;
  throw invalidArgValue(name, `must be 'shared', 'exclusive'${allowUnlock ? " or 'unlock'" : ''}`, v);
}

function build(kind: LockKind, fd: unknown, mode: LockMode | 'unlock', opts: Record<string, unknown>): Request {
  const validFd = validateFd(fd);
  const { start, length } = validateRange({ start: opts['start'], length: opts['length'] });
  assertKindAvailable(kind);
  // 'unlock' travels as mode 'shared' with the unlock op chosen below.
  return { kind, fd: validFd, mode: mode === 'unlock' ? 'shared' : mode, start, length };
}

function setSync(req: Request, isUnlock: boolean, opts: Record<string, unknown>): void {
  const wait = opts['wait'] === true;
  const timeout = validateTimeout(opts['timeout']);
  if (isUnlock) return unlock(req);
  const code = trySet(req);
  if (code === 0) return;
  if (code !== EAGAIN_ERRNO || !wait) throw fail(code, req, 'try', native.lastWinError());
  waitSync(req, timeout);
}

async function setAsync(req: Request, opts: Record<string, unknown>): Promise<void> {
  const timeout = validateTimeout(opts['timeout']);
  const signal = validateSignal(opts['signal']);
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  const code = trySet(req);
  if (code === 0) return;
  if (code !== EAGAIN_ERRNO) throw fail(code, req, 'try', native.lastWinError());
  await waitAsync(req, timeout, signal);
}

/**
 * `flock(fd, LOCK_SH | LOCK_EX | LOCK_UN [| LOCK_NB])`. Without `wait` a held lock
 * throws code 'EAGAIN'. Converting a held flock to another mode is not atomic
 * (flock(2): "the existing lock is first removed, and then a new lock is established"):
 * a failed conversion leaves no lock at all.
 */
export function flockSync(fd: number, operation: FlockOperation, options?: PrimitiveSyncOptions): void {
  const opts = validateOptions(options);
  const op = primitiveMode(operation, true, 'operation');
  setSync(build('flock', fd, op, {}), op === 'unlock', opts);
}

/** `flock(fd, LOCK_SH | LOCK_EX)` that waits off the event loop. */
export function flock(fd: number, operation: LockMode, options?: PrimitiveWaitOptions): Promise<void> {
  try {
    const opts = validateOptions(options);
    return setAsync(build('flock', fd, primitiveMode(operation, false, 'operation'), {}), opts);
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
  const opts = validateOptions(options);
  const mode = primitiveMode(opts['mode'], true, 'options.mode');
  setSync(build(opts['ofd'] === true ? 'ofd' : 'posix', fd, mode, opts), mode === 'unlock', opts);
}

/** `fcntl(F_SETLKW)` / `fcntl(F_OFD_SETLKW)` waiting off the event loop. */
export function fcntlLock(fd: number, options: FcntlLockOptions & PrimitiveWaitOptions): Promise<void> {
  try {
    const opts = validateOptions(options);
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
export function fcntlGetLockSync(fd: number, options?: FcntlGetLockOptions): LockInfo | null {
  const opts = validateOptions(options);
  const mode = opts['mode'] === undefined ? 'exclusive' : primitiveMode(opts['mode'], false, 'options.mode');
  const kind = opts['ofd'] === true ? 'ofd' : 'posix';
  const held = query(build(kind, fd, mode, opts));
  return held && { kind, ...held };
}

/**
 * `LockFileEx` (Windows). Without `wait` this is LOCKFILE_FAIL_IMMEDIATELY, and a
 * held range throws code 'EAGAIN' (winerror 33, ERROR_LOCK_VIOLATION).
 */
export function lockFileExSync(fd: number, options?: LockFileExOptions & PrimitiveSyncOptions): void {
  const opts = validateOptions(options);
  const mode = opts['mode'] === undefined ? 'exclusive' : primitiveMode(opts['mode'], false, 'options.mode');
  setSync(build('windows', fd, mode, opts), false, opts);
}

/** `LockFileEx` waiting off the event loop (Windows). */
export function lockFileEx(fd: number, options?: LockFileExOptions & PrimitiveWaitOptions): Promise<void> {
  try {
    const opts = validateOptions(options);
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
  const opts = validateOptions(options);
  unlock(build('windows', fd, 'unlock', opts));
}
