/**
 * Errors shaped like Node's own `fs` errors (`UVException` in Node's
 * src/api/exceptions.cc): message `"<CODE>: <description>, <syscall> '<path>'"`,
 * with `code`, `errno` (the negative libuv code), `syscall` and `path`.
 */
import { getSystemErrorMap, inspect } from 'node:util';
import { constants as osConstants } from 'node:os';
import type { LockHolder } from './holders.js';

/**
 * The `code` of a {@link LockError}: the errno name of the failed call (the ones lock
 * calls return are listed; any other errno name the OS reports is possible), `'UNKNOWN'`
 * for an errno the platform cannot name, or `'ERR_LOCK_LOST'` for a release that found
 * its lock gone (the fd was closed, or now refers to another file).
 */
export type LockErrorCode =
  | 'EAGAIN'
  | 'ETIMEDOUT'
  | 'EDEADLK'
  | 'EBADF'
  | 'EINVAL'
  | 'EINTR'
  | 'ENOLCK'
  | 'EOVERFLOW'
  | 'ENOTSUP'
  | 'ENOSYS'
  | 'ENOMEM'
  | 'EACCES'
  | 'EPERM'
  | 'EIO'
  | 'ESTALE'
  | 'ECANCELED'
  | 'ERR_LOCK_LOST'
  | 'UNKNOWN'
  | `E${Uppercase<string>}`;

/**
 * A failed lock syscall. Like Node's fs errors it is an `Error` with `code`,
 * `errno`, `syscall` and (when known) `path`; on Windows also `winerror`.
 *
 * Contention, on every kind, has `code === 'EAGAIN'` ({@link CONTENTION_CODE}).
 */
export class LockError extends Error {
  /** Error code such as `'EAGAIN'`, `'EBADF'`, `'EDEADLK'`, `'ETIMEDOUT'`. */
  readonly code: LockErrorCode;
  /** The negative libuv error number, as in Node's fs errors. */
  readonly errno: number;
  /** The call that failed, e.g. `'flock'` or `'fcntl(F_OFD_SETLK)'`. */
  readonly syscall: string;
  /** The path, when the lock was taken by path. */
  declare readonly path?: string | undefined;
  /** Windows only: the raw `GetLastError()` value. */
  declare readonly winerror?: number | undefined;
  /**
   * `'ETIMEDOUT'` only: how long the wait lasted, in ms (the `timeout` asked for).
   */
  declare readonly timeout?: number | undefined;
  /**
   * `'ETIMEDOUT'` only, on Linux: who held a conflicting lock when the wait gave up,
   * read from /proc like {@link holders} (empty where /proc cannot tell).
   */
  declare readonly holders?: readonly LockHolder[] | undefined;

  /** @internal */
  constructor(
    errno: number,
    syscall: string,
    path?: string | undefined,
    winerror?: number | undefined,
    description?: string | undefined,
    code: LockErrorCode = errorName(errno),
  ) {
    const desc = description ?? errorDescription(errno);
    super(`${code}: ${desc}, ${syscall}${path !== undefined ? ` '${path}'` : ''}`);
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
    if (winerror) this.winerror = winerror;
  }

  override get name(): string {
    return 'Error';
  }
}

/**
 * A {@link LockError} with a library code rather than an errno name: `'ERR_LOCK_LOST'`
 * (a lock whose fd was closed before release) or `'ERR_LOCK_FILE_TYPE'` (a path that
 * is not a regular file or directory). `errno` is the closest errno.
 * @internal
 */
export function libraryLockError(
  code: 'ERR_LOCK_LOST' | 'ERR_LOCK_FILE_TYPE',
  errno: number,
  syscall: string,
  path: string | undefined,
  message: string,
): LockError {
  const err = new LockError(errno, syscall, path);
  (err as { code: string }).code = code;
  err.message = `${code}: ${message}`;
  return err;
}

/** The `code` every kind reports when a non-waiting request finds the lock held. */
export const CONTENTION_CODE = 'EAGAIN';
/** The `code` of the error a wait rejects with when its `timeout` elapses. */
export const TIMEOUT_CODE = 'ETIMEDOUT';

let errorMap: Map<number, [string, string]> | undefined;

/**
 * The one table of descriptions that differ from libuv's: libuv has no code for a few
 * errnos that lock calls return (EDEADLK, ENOLCK, ESTALE: Node then prints "Unknown
 * system error -35"), and words some for sockets, which misleads for a file:
 * EOPNOTSUPP/ENOTSUP reads "operation not supported on socket" and ETIMEDOUT
 * "connection timed out". Descriptions follow strerror(3).
 */
const DESCRIPTIONS: Record<string, string> = {
  EDEADLK: 'resource deadlock avoided',
  ENOLCK: 'no locks available',
  ESTALE: 'stale file handle',
  EOVERFLOW: 'value too large for defined data type',
  ENOTSUP: 'operation not supported',
  EOPNOTSUPP: 'operation not supported',
  ETIMEDOUT: 'timed out',
  ENOTCONN: 'transport endpoint is not connected',
};

function errorName(errno: number): LockErrorCode {
  errorMap ??= getSystemErrorMap();
  const known = errorMap.get(errno)?.[0];
  if (known) return known as LockErrorCode;
  for (const [name, value] of Object.entries(osConstants.errno)) if (-value === errno) return name as LockErrorCode;
  return 'UNKNOWN';
}

function errorDescription(errno: number): string {
  errorMap ??= getSystemErrorMap();
  return DESCRIPTIONS[errorName(errno)] ?? errorMap.get(errno)?.[1] ?? `unknown error ${errno}`;
}

/** The negative libuv code for an errno name, as Node reports it on this platform. */
export function errnoOf(name: keyof typeof osConstants.errno): number {
  errorMap ??= getSystemErrorMap();
  for (const [errno, [n]] of errorMap) if (n === name) return errno;
  return -(osConstants.errno[name] ?? 0);
}

/** Libuv's code for contention on this platform (-11 on Linux, -4088 on Windows). */
export const EAGAIN_ERRNO = errnoOf('EAGAIN');
/** Libuv's code for a timed-out wait on this platform. */
export const ETIMEDOUT_ERRNO = errnoOf('ETIMEDOUT');
/** The errno of EDEADLK as Node would report it (libuv has no code for it). */
export const EDEADLK_ERRNO = -(osConstants.errno.EDEADLK ?? 35);
/** Libuv's code for a cancelled wait on this platform. */
export const ECANCELED_ERRNO = errnoOf('ECANCELED');

/**
 * The rejection of an aborted wait: the same shape as Node's own
 * (`name` 'AbortError', `code` 'ABORT_ERR', the signal's reason as `cause`).
 */
export class AbortError extends Error {
  /** Always `'ABORT_ERR'`. */
  readonly code = 'ABORT_ERR';
  /** @internal */
  constructor(message = 'The operation was aborted', options?: { cause?: unknown } | undefined) {
    super(message, options);
  }
  override get name(): string {
    return 'AbortError';
  }
}

/** Node-style argument errors: thrown before any syscall. @internal */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`);
  (err as NodeJS.ErrnoException).code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

/** @internal */
export function invalidArgValue(name: string, reason: string, actual: unknown): TypeError {
  const err = new TypeError(`The argument '${name}' ${reason}. Received ${describe(actual)}`);
  (err as NodeJS.ErrnoException).code = 'ERR_INVALID_ARG_VALUE';
  return err;
}

/** @internal */
export function outOfRange(name: string, range: string, actual: unknown): RangeError {
  const err = new RangeError(
    `The value of "${name}" is out of range. It must be ${range}. Received ${describe(actual)}`,
  );
  (err as NodeJS.ErrnoException).code = 'ERR_OUT_OF_RANGE';
  return err;
}

/** @internal */
export function unavailable(what: string): TypeError {
  const err = new TypeError(`${what} is unavailable on this platform (${process.platform})`);
  (err as NodeJS.ErrnoException).code = 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM';
  return err;
}

/**
 * The "Received ..." tail of Node's own argument errors: a port of
 * `determineSpecificType` in Node's lib/internal/errors.js, so that our messages read
 * exactly like `fs`'s for the same value.
 */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  switch (typeof v) {
    case 'bigint':
      return `type bigint (${v}n)`;
    case 'number':
      return `type number (${Object.is(v, -0) ? '-0' : String(v)})`;
    case 'boolean':
      return `type boolean (${v})`;
    case 'symbol':
      return `type symbol (${String(v)})`;
    case 'function':
      return `function ${v.name}`;
    case 'object': {
      const ctor = (v as { constructor?: unknown }).constructor;
      // Node tests `'name' in value.constructor`, which throws on a primitive constructor.
      if (ctor && (typeof ctor === 'function' || typeof ctor === 'object') && 'name' in ctor) {
        return `an instance of ${String(ctor.name)}`;
      }
      return inspect(v, { depth: -1 });
    }
    default: {
      const str = String(v); // a string: the only type left
      const shown = str.length > 28 ? `${str.slice(0, 25)}...` : str;
      return `type string (${shown.includes("'") ? JSON.stringify(shown) : `'${shown}'`})`;
    }
  }
}
