/**
 * Opening a path for a lock the library owns, and closing it again: the one helper
 * the four path entry points (tryLock, lockSync, lock, getLock) share.
 *
 * On POSIX the addon opens the fd itself (native/open_file.h): close-on-exec,
 * non-blocking (a FIFO never hangs the open), refused unless it is a regular file or
 * a directory, and unknown to Node's worker fd tracking, so the process-wide lock
 * table closes it exactly once, also when a worker is torn down. On Windows fds
 * belong to node.exe's C runtime, so `fs` opens and closes them.
 * @internal
 */
import { closeSync, constants as fsConstants, lstatSync, open as openCb, openSync, statSync } from 'node:fs';
import { LockError, errnoOf, invalidArgType, libraryLockError, outOfRange } from './errors.js';
import { native } from './native.js';
import type { LockKind, LockMode } from './types.js';

const { O_RDWR, O_RDONLY, O_CREAT } = fsConstants;
const O_NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;
// Stryker disable next-line all: Windows only; mutation runs are Linux-only
const WINDOWS = process.platform === 'win32';
/** native/open_file.h kCodeNotLockable. */
const NOT_LOCKABLE = -200001;
const ELOOP = errnoOf('ELOOP');

/** The option keys this module reads (validate.ts lists them as valid keys). */
export const OPEN_OPTION_KEYS = ['create', 'createMode', 'followSymlinks'] as const;

/** How to open a path. */
export interface OpenOptions {
  create: boolean;
  createMode: number;
  followSymlinks: boolean;
}

/** Validates the open options of `opts` (defaults: create, 0o666, follow). */
export function validateOpenOptions(opts: Record<string, unknown>): OpenOptions {
  const bool = (key: string, dflt: boolean): boolean => {
    const v = opts[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw invalidArgType(`options.${key}`, 'of type boolean', v);
    return v;
  };
  let createMode = 0o666;
  const m = opts['createMode'];
  if (m !== undefined) {
    if (typeof m !== 'number') throw invalidArgType('options.createMode', 'of type number', m);
    if (!Number.isInteger(m) || m < 0 || m > 0o7777)
      throw outOfRange('options.createMode', 'an integer >= 0 and <= 0o7777', m);
    createMode = m;
  }
  return { create: bool('create', true), createMode, followSymlinks: bool('followSymlinks', true) };
}

/**
 * fcntl(2): "In order to place a write lock, fd must be open for writing" (EBADF
 * otherwise); LockFileEx needs GENERIC_READ or GENERIC_WRITE; flock(2) needs neither,
 * but NFS emulates flock with fcntl locks, so read-write is tried first everywhere.
 * A read-only fallback is allowed where the lock does not need write access
 * (read-only files, read-only mounts, directories for flock).
 */
function readOnlyAllowed(kind: LockKind, mode: LockMode): boolean {
  if (kind === 'flock') return true;
  // Stryker disable next-line all: Windows only; mutation runs are Linux-only
  if (kind === 'windows') return false;
  return mode === 'shared';
}

const FALLBACK_CODES = new Set(['EACCES', 'EROFS', 'EISDIR', 'EPERM']);

function describeType(path: string): string {
  try {
    const st = statSync(path);
    if (st.isFIFO()) return 'a FIFO';
    if (st.isCharacterDevice()) return 'a character device';
    // Stryker disable next-line ConditionalExpression: equivalent, a block device is all that is left (open(2) refuses sockets: ENXIO)
    if (st.isBlockDevice()) return 'a block device';
  } catch {
    /* fall through */
  }
  // Stryker disable next-line StringLiteral: reached only if the path changed after the open
  return 'not a regular file';
}

/** A native open's negative code as a Node-style error. */
function openError(code: number, path: string, o: OpenOptions): Error {
  if (code === NOT_LOCKABLE) {
    return libraryLockError(
      'ERR_LOCK_FILE_TYPE',
      errnoOf('EINVAL'),
      'open',
      path,
      `'${path}' is ${describeType(path)}: syslocks locks regular files (and directories, with flock) only`,
    );
  }
  if (code === ELOOP && !o.followSymlinks) {
    return new LockError(code, 'open', path, 0, 'is a symbolic link, and followSymlinks is false');
  }
  return new LockError(code, 'open', path);
}

function flagsFor(o: OpenOptions, write: boolean): number {
  return (write ? O_RDWR | (o.create ? O_CREAT : 0) : O_RDONLY) | (o.followSymlinks ? 0 : O_NOFOLLOW);
}

// Stryker disable all: Windows only; mutation runs are Linux-only
/** Windows has no O_NOFOLLOW, so followSymlinks: false is an lstat first (racy, documented). */
function windowsSymlinkCheck(path: string, o: OpenOptions): void {
  if (!o.followSymlinks && lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) {
    throw new LockError(ELOOP, 'open', path, 0, 'is a symbolic link, and followSymlinks is false');
  }
}
// Stryker restore all

function openOnce(path: string, flags: number, o: OpenOptions): number {
  // Stryker disable next-line all: Windows only; mutation runs are Linux-only
  if (WINDOWS) {
    windowsSymlinkCheck(path, o);
    return openSync(path, flags, o.createMode);
  }
  const fd = native.openSync!(path, flags, o.createMode);
  if (fd < 0) throw openError(fd, path, o);
  return fd;
}

function openOnceAsync(path: string, flags: number, o: OpenOptions): Promise<number> {
  // Stryker disable all: Windows only; mutation runs are Linux-only
  if (WINDOWS) {
    return new Promise((resolve, reject) => {
      try {
        windowsSymlinkCheck(path, o);
      } catch (err) {
        return reject(err);
      }
      openCb(path, flags, o.createMode, (err, fd) => (err ? reject(err) : resolve(fd)));
    });
  }
  // Stryker restore all
  return new Promise((resolve, reject) =>
    native.openAsync!(path, flags, o.createMode, (fd) => (fd < 0 ? reject(openError(fd, path, o)) : resolve(fd))),
  );
}

function mayFallBack(err: unknown, kind: LockKind, mode: LockMode): boolean {
  return readOnlyAllowed(kind, mode) && FALLBACK_CODES.has((err as NodeJS.ErrnoException).code ?? '');
}

/** Opens `path` for locking, synchronously. */
export function openForLockSync(path: string, kind: LockKind, mode: LockMode, o: OpenOptions): number {
  try {
    return openOnce(path, flagsFor(o, true), o);
  } catch (err) {
    if (!mayFallBack(err, kind, mode)) throw err;
    return openOnce(path, flagsFor(o, false), o);
  }
}

/** Opens `path` for locking without blocking the event loop (libuv's pool, one short op). */
export async function openForLock(path: string, kind: LockKind, mode: LockMode, o: OpenOptions): Promise<number> {
  try {
    return await openOnceAsync(path, flagsFor(o, true), o);
  } catch (err) {
    if (!mayFallBack(err, kind, mode)) throw err;
    return openOnceAsync(path, flagsFor(o, false), o);
  }
}

/** Opens `path` read-only for a query: never creates it. */
export function openForQuery(path: string, o: OpenOptions): number {
  return openOnce(path, flagsFor({ ...o, create: false }, false), o);
}

/**
 * Closes an fd this module opened and the caller no longer needs: on POSIX the lock
 * table defers the close while a POSIX lock of the process lives on the file (fcntl(2):
 * any close drops them all). The only way the library closes an fd it owns.
 */
export function closeOwned(fd: number): void {
  // Stryker disable next-line all: Windows only; mutation runs are Linux-only
  if (WINDOWS) return closeSync(fd);
  const code = native.closeOwned!(fd);
  if (code < 0) throw new LockError(code, 'close');
}

/** {@link closeOwned} on a failure path, where the caller reports the error that matters. */
export function closeOwnedQuietly(fd: number): void {
  try {
    closeOwned(fd);
  } catch {
    /* the caller's error is the one to report */
  }
}
