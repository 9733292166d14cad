/**
 * The one repair POSIX record locks need inside a process. fcntl(2): "If a process
 * closes any file descriptor referring to a file, then all of the process's locks on
 * that file are released, regardless of the file descriptor(s) on which the locks were
 * obtained." So when a path-opened POSIX lock is released while other POSIX locks of
 * this process on the same file are still live, its fd is not closed yet (that would
 * drop theirs); it is closed when the last of them goes. SQLite does the same
 * (os_unix.c `setPendingFd`/`closePendingFds`). It cannot protect against other code
 * in the process closing an fd of the file (for example `fs.readFileSync(path)`).
 * @internal
 */
import { fstatSync } from 'node:fs';
import { closeOwned } from './open.js';

interface Inode {
  live: number;
  pendingClose: number[];
}

const inodes = new Map<string, Inode>();

/** Registers a live POSIX lock held through `fd`; returns the key to release it with. */
export function retainPosix(fd: number): string {
  const st = fstatSync(fd, { bigint: true });
  const key = `${st.dev}:${st.ino}`;
  const entry = inodes.get(key);
  if (entry) entry.live++;
  else inodes.set(key, { live: 1, pendingClose: [] });
  return key;
}

/**
 * Ends a live POSIX lock. `ownedFd`, when given, is closed now if no other POSIX lock
 * of this process lives on the file, else once the last one is released.
 */
export function releasePosix(key: string, ownedFd: number | undefined): void {
  const entry = inodes.get(key);
  if (!entry) {
    if (ownedFd !== undefined) closeOwned(ownedFd);
    return;
  }
  entry.live--;
  if (ownedFd !== undefined) entry.pendingClose.push(ownedFd);
  if (entry.live > 0) return;
  inodes.delete(key);
  let first: unknown;
  for (const fd of entry.pendingClose) {
    try {
      closeOwned(fd);
    } catch (err) {
      first ??= err;
    }
  }
  if (first) throw first;
}

/**
 * Closes an fd the library owns and no longer needs (a released lock of any kind, a
 * busy try, a failed wait, a query). Any close() of the file drops the process's
 * POSIX locks on it, whatever kind the fd was opened for, so while some are live the
 * fd joins the pending closes instead.
 */
export function discardPosixFd(fd: number): void {
  if (inodes.size === 0) return closeOwned(fd); // the common case: no fstat
  let key: string;
  try {
    const st = fstatSync(fd, { bigint: true });
    key = `${st.dev}:${st.ino}`;
  } catch {
    closeOwned(fd);
    return;
  }
  const entry = inodes.get(key);
  if (entry) entry.pendingClose.push(fd);
  else closeOwned(fd);
}

/** @internal For tests: fds waiting to be closed for this inode key. */
export function pendingPosixCloses(): number {
  let n = 0;
  for (const e of inodes.values()) n += e.pendingClose.length;
  return n;
}
