/**
 * The one repair POSIX record locks need inside a process. fcntl(2): "If a process
 * closes any file descriptor referring to a file, then all of the process's locks on
 * that file are released, regardless of the file descriptor(s) on which the locks were
 * obtained." So no fd the library owns is closed while a POSIX lock of this process
 * lives on the same file: it waits in a pending list and is closed with the last of
 * them. SQLite does the same (os_unix.c `setPendingFd`/`closePendingFds`). It cannot
 * protect against other code in the process closing an fd of the file (for example
 * `fs.readFileSync(path)`).
 *
 * Cost: taking and releasing a POSIX lock is a Set insert and delete. The file
 * identity (an fstat) is looked up only when an owned fd is about to be closed while
 * POSIX locks are live, and cached on the live lock: its fd cannot change files while
 * the lock lives (closing it would have dropped the lock).
 * @internal
 */
import { fstatSync } from 'node:fs';
import { closeOwned } from './open.js';

/** A live POSIX lock, as the registry sees it. */
export interface LivePosix {
  readonly fd: number;
  key?: string | undefined;
}

const live = new Set<LivePosix>();
/** Owned fds whose close waits for the POSIX locks on their file to go. */
const pending: { fd: number; key: string }[] = [];

/** "dev:ino" of the file behind `fd`, or undefined when fstat fails. */
export function fileKey(fd: number): string | undefined {
  try {
    const st = fstatSync(fd, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

function liveOn(key: string): boolean {
  for (const l of live) if ((l.key ??= fileKey(l.fd)) === key) return true;
  return false;
}

/** Registers a live POSIX lock held through `fd`. */
export function retainPosix(fd: number): LivePosix {
  const entry: LivePosix = { fd };
  live.add(entry);
  return entry;
}

/**
 * Ends a live POSIX lock (after its range was unlocked). `ownedFd`, when given, is
 * closed now unless other POSIX locks of this process live on the file; pending
 * closes whose file has no live POSIX lock any more are done now.
 */
export function releasePosix(entry: LivePosix, ownedFd: number | undefined): void {
  live.delete(entry);
  let first: unknown;
  try {
    if (ownedFd !== undefined) discardPosixFd(ownedFd);
  } catch (err) {
    first = err;
  }
  for (let i = pending.length - 1; i >= 0; i--) {
    const p = pending[i]!;
    if (liveOn(p.key)) continue;
    pending.splice(i, 1);
    try {
      closeOwned(p.fd);
    } catch (err) {
      first ??= err;
    }
  }
  if (first) throw first;
}

/**
 * Closes an fd the library owns and no longer needs (a released lock of any kind, a
 * busy try, a failed wait, a query), or defers the close while a POSIX lock of this
 * process lives on the same file.
 */
export function discardPosixFd(fd: number): void {
  if (live.size === 0) return closeOwned(fd); // the common case: no fstat
  // A live entry on this very fd number is stale: the library only closes fds it
  // owns, and a lock's own fd leaves the set before its close. Its fd was closed
  // under it (the lock died with that close) and the number reused.
  for (const l of live) if (l.fd === fd) live.delete(l);
  const key = fileKey(fd);
  if (key !== undefined && liveOn(key)) pending.push({ fd, key });
  else closeOwned(fd);
}

/** @internal For tests: owned fds whose close is deferred. */
export function pendingPosixCloses(): number {
  return pending.length;
}
