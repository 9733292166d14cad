/**
 * The public vocabulary of syslocks: lock kinds, modes, targets and the shapes the
 * API returns. The names are a fixed contract (DESIGN.md section 2): other lock
 * libraries call them.
 * @packageDocumentation
 */

/**
 * Which OS lock family to use.
 * - `'flock'`: `flock(2)`; whole file; owned by the open file description.
 * - `'posix'`: `fcntl(2)` `F_SETLK`/`F_SETLKW`/`F_GETLK` record locks; byte ranges;
 *   owned by the **process** (threads share them, and closing *any* fd of the file
 *   drops them all).
 * - `'ofd'`: Linux open-file-description locks (`F_OFD_*`, Linux >= 3.15); byte ranges;
 *   owned by the open file description.
 * - `'windows'`: `LockFileEx`/`UnlockFileEx`; byte ranges; owned by the handle; mandatory.
 */
export type LockKind = 'flock' | 'posix' | 'ofd' | 'windows';

/** `'shared'` (read) locks coexist; an `'exclusive'` (write) lock excludes every other lock. */
export type LockMode = 'shared' | 'exclusive';

/**
 * What to lock: a path (syslocks opens it, owns the fd and closes it on release), a
 * file descriptor, or anything with an `fd` (such as an `fs.promises` `FileHandle`).
 * A lock on a caller's fd never closes that fd.
 */
export type Target = string | number | { readonly fd: number };

/** A byte range. Omitted fields mean: `start` 0, `length` 0 (= to EOF and beyond). */
export interface LockRange {
  /** First byte, absolute (from the start of the file). */
  start?: number | bigint;
  /**
   * Number of bytes. `0` means "from `start` to the end of the file, however large it
   * grows" (fcntl(2)); on Windows, to the end of the 64-bit offset range.
   */
  length?: number | bigint;
}

/** Options shared by every lock call. */
export interface LockOptions {
  /** Lock family; `'auto'` (default) picks the safest kind here (see {@link resolveKind}). */
  kind?: LockKind | 'auto';
  /** Default `'exclusive'`. */
  mode?: LockMode;
  /** Omitted = the whole file. `flock` locks whole files only. */
  range?: LockRange;
  /**
   * Path targets: create the file when it is missing. Default `true`; `getLock`
   * never creates.
   */
  create?: boolean;
  /** Path targets: permission bits of a created file, before the umask. Default `0o666`. */
  createMode?: number;
  /**
   * Path targets: `false` refuses a path whose last component is a symbolic link
   * (`O_NOFOLLOW`; the error has code `'ELOOP'` and names the path). Default `true`.
   */
  followSymlinks?: boolean;
}

/** Options of calls that may wait. */
export interface WaitOptions extends LockOptions {
  /** Give up after this many milliseconds (error code `'ETIMEDOUT'`). Default: wait forever. */
  timeout?: number;
  /** Abort the wait (rejects with an `AbortError`, code `'ABORT_ERR'`). */
  signal?: AbortSignal;
}

/** Options of {@link lockSync}: it waits on the calling thread, so it takes no signal. */
export interface SyncWaitOptions extends LockOptions {
  /** Give up after this many milliseconds (error code `'ETIMEDOUT'`). Default: wait forever. */
  timeout?: number;
}

/** A lock that would block a request, as reported by {@link getLock}. */
export interface LockInfo {
  /** The kind that was asked about. */
  kind: LockKind;
  /** Mode of the conflicting lock. */
  mode: LockMode;
  /** First byte of the conflicting lock. */
  start: bigint;
  /** Its length; `0n` = to EOF and beyond. */
  length: bigint;
  /**
   * The holder's pid. `-1` when the OS cannot tell (an OFD holder seen through
   * `F_GETLK`, or Windows, which has no query).
   */
  pid: number;
}

/** What this platform and kernel offer. */
export interface Capabilities {
  /** `process.platform`. */
  platform: string;
  /** `flock(2)` is available. */
  flock: boolean;
  /** POSIX `fcntl` record locks are available. */
  posix: boolean;
  /** Open-file-description locks work on the running kernel (probed, not assumed). */
  ofd: boolean;
  /** `LockFileEx` is available. */
  windows: boolean;
}
