/**
 * The public vocabulary of syslocks: lock kinds, modes, targets and the shapes the
 * API returns. The names are a fixed contract (docs/DESIGN.md, "The API contract"):
 * other lock libraries call them. Optional properties accept an explicit `undefined`
 * (`exactOptionalPropertyTypes`), so `{ timeout: maybeTimeout }` type-checks.
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
  start?: number | bigint | undefined;
  /**
   * Number of bytes. `0` means "from `start` to the end of the file, however large it
   * grows" (fcntl(2)); on Windows, to the end of the 64-bit offset range.
   */
  length?: number | bigint | undefined;
}

/** Options shared by every lock call. */
export interface LockOptions {
  /**
   * Lock family. `'auto'` (default): flock for a whole file (Linux, BSD, macOS), so
   * it excludes flock(2) users such as Python's `filelock` and `flock(1)`; OFD for a
   * byte range on Linux (POSIX on BSD/macOS); `LockFileEx` on Windows. The two auto
   * kinds do not exclude each other on Linux; pass `'ofd'` for
   * {@link FileLock.tryChangeMode}. See {@link resolveKind}.
   */
  kind?: LockKind | 'auto' | undefined;
  /** Default `'exclusive'`. */
  mode?: LockMode | undefined;
  /** Omitted = the whole file. `flock` locks whole files only. */
  range?: LockRange | undefined;
}

/**
 * How a path target is opened (ignored for an fd or FileHandle target).
 */
export interface OpenOptions {
  /** Create the file if it is missing (`O_CREAT`). Default `true`. */
  create?: boolean | undefined;
  /** Permission bits of a created file, before the umask. Default `0o666`. */
  createMode?: number | undefined;
  /** Follow a symbolic link at the last component. Default `true`; `false` = `O_NOFOLLOW`. */
  followSymlinks?: boolean | undefined;
}

/** Options of {@link tryLock}. */
export interface TryLockOptions extends LockOptions, OpenOptions {}

/** Options of {@link lock}, which waits off the event loop. */
export interface WaitOptions extends LockOptions, OpenOptions {
  /** Give up after this many milliseconds (error code `'ETIMEDOUT'`). Default: wait forever. */
  timeout?: number | undefined;
  /** Abort the wait (rejects with an `AbortError`, code `'ABORT_ERR'`). */
  signal?: AbortSignal | undefined;
}

/** Options of {@link lockSync}: it waits on the calling thread, so it takes no signal. */
export interface SyncWaitOptions extends LockOptions, OpenOptions {
  /** Give up after this many milliseconds (error code `'ETIMEDOUT'`). Default: wait forever. */
  timeout?: number | undefined;
}

/**
 * A lock that would block a request (the answer of `F_GETLK`), as reported by
 * {@link getLock} and {@link fcntlGetLockSync}.
 */
export interface LockConflict {
  /** The kind that was asked about. */
  kind: LockKind;
  /** Mode of the conflicting lock. */
  mode: LockMode;
  /** First byte of the conflicting lock. */
  start: bigint;
  /** Its length; `0n` = to EOF and beyond. */
  length: bigint;
  /**
   * The holder's pid. {@link getLock} on Linux names the real holder of an OFD or
   * flock lock from /proc; `-1` when the OS cannot tell (Windows, which has no query;
   * {@link fcntlGetLockSync} for an OFD holder, as `F_GETLK` reports it; a holder whose
   * /proc entries this user cannot read).
   */
  pid: number;
}

/** @deprecated The name of {@link LockConflict} in 0.1.0; kept as an alias. */
export type LockInfo = LockConflict;

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
