/**
 * Opening a path for a lock the library owns: the fd is opened close-on-exec (libuv
 * adds O_CLOEXEC to every open), created if missing (lock files usually are), and
 * read-write when the kind needs it.
 * @internal
 */
import { closeSync, open as openCb, openSync, constants as fsConstants } from 'node:fs';
import { native } from './native.js';
import type { LockKind, LockMode } from './types.js';

const { O_RDWR, O_RDONLY, O_CREAT } = fsConstants;

/**
 * fcntl(2): "In order to place a write lock, fd must be open for writing" (EBADF
 * otherwise); LockFileEx needs GENERIC_READ or GENERIC_WRITE; flock(2) needs neither,
 * but NFS emulates flock with fcntl locks, so read-write is tried first everywhere.
 * A read-only fallback is allowed where the lock does not need write access
 * (read-only files, read-only mounts, directories for flock).
 */
function readOnlyAllowed(kind: LockKind, mode: LockMode): boolean {
  return kind === 'flock' || (mode === 'shared' && kind !== 'windows');
}

const FALLBACK_CODES = new Set(['EACCES', 'EROFS', 'EISDIR', 'EPERM']);

/**
 * The library's own fds are tracked natively, so that tearing down the environment
 * (a worker terminated while it holds or waits for a path lock) closes them.
 */
function owned(fd: number): number {
  native.trackFd(fd);
  return fd;
}

/** Opens `path` for locking, synchronously. */
export function openForLockSync(path: string, kind: LockKind, mode: LockMode): number {
  try {
    return owned(openSync(path, O_RDWR | O_CREAT, 0o666));
  } catch (err) {
    if (!readOnlyAllowed(kind, mode) || !FALLBACK_CODES.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    return owned(openSync(path, O_RDONLY));
  }
}

function openAsync(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => openCb(path, flags, 0o666, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** Opens `path` for locking without blocking the event loop (libuv's pool, one short op). */
export async function openForLock(path: string, kind: LockKind, mode: LockMode): Promise<number> {
  try {
    return owned(await openAsync(path, O_RDWR | O_CREAT));
  } catch (err) {
    if (!readOnlyAllowed(kind, mode) || !FALLBACK_CODES.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    return owned(await openAsync(path, O_RDONLY));
  }
}

/** Opens `path` read-only for a query (never creates it). */
export function openForQuery(path: string): number {
  return owned(openSync(path, O_RDONLY));
}

/** Closes an fd the library owns. */
export function closeOwned(fd: number): void {
  native.untrackFd(fd);
  closeSync(fd);
}

/** Closes an fd the library owns, ignoring errors (used on failure paths). */
export function closeQuietly(fd: number): void {
  try {
    closeOwned(fd);
  } catch {
    /* already reported the real error */
  }
}
