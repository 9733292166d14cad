/**
 * The held lock that tryLock / lockSync / lock return. Its record lives in the
 * addon's process-wide lock table (native/lock_table.h), which checks the fd still
 * refers to the locked file before it unlocks or closes anything.
 */
import { EAGAIN_ERRNO, errnoOf, invalidArgValue, libraryLockError, unavailable, type LockError } from './errors.js';
import { trackHeld, untrackHeld } from './self_deadlock.js';
import { closeOwned } from './open.js';
import { LOST_CLOSED, changeHeld, fail, releaseHeld, type HeldId, type Request } from './syscall.js';
import type { LockKind, LockMode } from './types.js';
import { validateMode } from './validate.js';

// Stryker disable next-line all: Windows only; mutation runs are Linux-only
const WINDOWS = process.platform === 'win32';

/** The range of every whole-file lock: frozen once, not per lock (a grant's hot path). */
const WHOLE_FILE = Object.freeze({ start: 0n, length: 0n });

/**
 * A held lock. Release it with {@link FileLock.release}, or let `using` /
 * `await using` do it. A lock opened from a path owns its fd and closes it on
 * release; a lock on a caller's fd leaves the fd open.
 *
 * A lock never acts on a file it does not hold: if the fd was closed before
 * `release()` (the lock died with it, fcntl(2)/flock(2)) and its number now refers to
 * another file, or a `FileHandle` target was closed, `release()` touches nothing and
 * throws a {@link LockError} with code `'ERR_LOCK_LOST'`.
 */
export class FileLock {
  /** The lock family that holds it. */
  readonly kind: LockKind;
  #mode: LockMode;
  /** The fd the lock is held through. */
  readonly fd: number;
  /** The path, when the lock was taken by path (absent for an fd or FileHandle). */
  declare readonly path?: string;
  /** The locked range; `length` 0n = to EOF and beyond (flock: always the whole file). */
  readonly range: { readonly start: bigint; readonly length: bigint };
  #id: HeldId;
  #ownsFd: boolean;
  #handle: { readonly fd: number } | undefined;
  #released = false;

  /** @internal Locks are made by {@link tryLock}, {@link lockSync} and {@link lock}. */
  constructor(req: Request, id: HeldId, ownsFd: boolean, handle: { readonly fd: number } | undefined) {
    this.kind = req.kind;
    this.#mode = req.mode;
    this.fd = req.fd;
    if (req.path !== undefined) this.path = req.path;
    this.range =
      req.start === 0n && req.length === 0n ? WHOLE_FILE : Object.freeze({ start: req.start, length: req.length });
    this.#id = id;
    this.#ownsFd = ownsFd;
    this.#handle = handle;
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
   * that another owner may get in between. Throws `'ERR_LOCK_LOST'` (and the lock
   * counts as released) when its fd no longer refers to the locked file.
   */
  tryChangeMode(mode: LockMode): boolean {
    const next = validateMode(mode);
    if (this.kind !== 'posix' && this.kind !== 'ofd') {
      throw unavailable(`An atomic mode change of a '${this.kind}' lock`);
    }
    if (this.#released) throw invalidArgValue('this', 'is a released lock', this);
    if (this.#handleClosed()) throw this.#lostWithHandle('tryChangeMode');
    // No re-set for the mode held: a POSIX re-set would take back bytes that another
    // lock of the process set to the other mode since (fcntl(2) merges one owner's locks).
    if (next === this.#mode) return true;
    const code = changeHeld(this.#id, next);
    if (code === EAGAIN_ERRNO) return false;
    if (code > 0) throw this.#lost(code, 'tryChangeMode');
    if (code !== 0) throw fail(code, this.#request(next), 'try');
    this.#mode = next;
    return true;
  }

  /** The lock as a request (in `mode`: a failed change reports the mode asked for). */
  #request(mode: LockMode = this.#mode): Request {
    return {
      kind: this.kind,
      fd: this.fd,
      mode,
      start: this.range.start,
      length: this.range.length,
      path: this.path,
    };
  }

  /** A FileHandle target closed under the lock has fd -1 (or, reopened, another number). */
  #handleClosed(): boolean {
    return this.#handle !== undefined && this.#handle.fd !== this.fd;
  }

  /**
   * The FileHandle was closed: the table's record is dropped without touching the fd
   * number, which may already be the caller's again, on the same file.
   */
  #lostWithHandle(op: string): LockError {
    releaseHeld(this.#id, true);
    return this.#lost(LOST_CLOSED, op);
  }

  /** Marks the lock released and describes how it was lost (the table dropped its record). */
  #lost(code: number, op: string): LockError {
    this.#released = true;
    untrackHeld(this);
    const what = this.path !== undefined ? `'${this.path}'` : `fd ${this.fd}`;
    const how =
      code === LOST_CLOSED
        ? `fd ${this.fd} was closed (closing it dropped the lock)`
        : `fd ${this.fd} was closed and now refers to another file, which was left alone`;
    return libraryLockError(
      'ERR_LOCK_LOST',
      errnoOf('EBADF'),
      op,
      this.path,
      `lock on ${what} was lost before ${op}(): ${how}`,
    );
  }

  /** True once {@link FileLock.release} has run (or the lock was found lost). */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Releases the lock (and closes the fd when the lock owns it). Calling it again
   * does nothing. Other locks of this process on the same file stay as they were:
   * bytes another live POSIX lock of the process (any thread) covers are not
   * unlocked, and an owned fd is not closed while POSIX locks of the process live on
   * the file (fcntl(2): any close would drop them). Throws `'ERR_LOCK_LOST'`, having
   * touched nothing, when the fd no longer refers to the locked file.
   */
  release(): void {
    // Stryker disable next-line ConditionalExpression: equivalent, the table answers 0 for an id it no longer has
    if (this.#released) return;
    if (this.#handleClosed()) throw this.#lostWithHandle('release');
    this.#released = true;
    untrackHeld(this);
    const code = releaseHeld(this.#id, false);
    if (code > 0) throw this.#lost(code, 'release');
    // Windows: lib/ owns the fd itself (open.ts); POSIX: the lock table closed it.
    let error: unknown = code < 0 ? fail(code, this.#request(), 'unlock') : undefined;
    // Stryker disable next-line all: Windows only; mutation runs are Linux-only
    if (WINDOWS && this.#ownsFd) {
      try {
        closeOwned(this.fd);
      } catch (err) {
        error ??= err;
      }
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
