// A reference model of Linux fcntl(2) record locks, POSIX and OFD, small enough to
// read against the man page. It knows nothing of syslocks: the property test drives
// the library and the kernel and checks every step against this model.
//
// Ranges are inclusive [start, end] byte offsets; end = Infinity is fcntl(2)'s
// "Specifying 0 for l_len has the special meaning: lock all bytes starting at the
// location specified by l_whence and l_start through to the end of file, no matter
// how large the file grows."

/** The two fcntl lock families. */
export type Kind = 'posix' | 'ofd';
/** fcntl(2) F_RDLCK / F_WRLCK, named as syslocks names them. */
export type Mode = 'shared' | 'exclusive';

/** One lock as the kernel lists it in /proc/locks. */
export interface Seg {
  /** 'posix:<process>' or 'ofd:<description>': who owns the lock. */
  owner: string;
  kind: Kind;
  mode: Mode;
  start: number;
  end: number;
}

/**
 * The lock owner of a request. fcntl(2): POSIX "record locks described above are
 * associated with the process" ("The threads in a process share locks"), while
 * "open file description locks are associated with the open file description on
 * which they are acquired". A POSIX and an OFD owner are never equal, which gives
 * the rule "where one lock is an open file description lock and the other is a
 * traditional record lock conflict even when they are acquired by the same process
 * on the same file descriptor".
 */
export function ownerOf(kind: Kind, processId: string, descriptionId: number): string {
  return kind === 'posix' ? `posix:${processId}` : `ofd:${descriptionId}`;
}

function overlaps(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** The lock state of one file: every owner's locks, disjoint and coalesced per owner. */
export class FileModel {
  locks: Seg[] = [];

  /**
   * The locks that block `mode` on [start, end] for `owner`. fcntl(2): "Any number
   * of processes may hold a read lock (shared lock) on a file region, but only one
   * process may hold a write lock (exclusive lock). An exclusive lock excludes all
   * other locks, both shared and exclusive." An owner never conflicts with itself.
   */
  conflicts(owner: string, mode: Mode, start: number, end: number): Seg[] {
    return this.locks.filter(
      (l) => l.owner !== owner && (mode === 'exclusive' || l.mode === 'exclusive') && overlaps(l, { start, end }),
    );
  }

  /**
   * F_SETLK / F_OFD_SETLK without waiting: false (EAGAIN) when another owner's lock
   * conflicts, and then nothing changes. Otherwise fcntl(2): "A single process can
   * hold only one type of lock on a file region; if a new lock is applied to an
   * already-locked region, then the existing lock is converted to the new lock type.
   * (Such conversions may involve splitting, shrinking, or coalescing with an
   * existing lock ...)"; for OFD: "Open file description locks placed via the same
   * open file description ... are always compatible" with the same conversions.
   */
  set(owner: string, kind: Kind, mode: Mode, start: number, end: number): boolean {
    if (this.conflicts(owner, mode, start, end).length > 0) return false;
    this.unlock(owner, start, end);
    this.locks.push({ owner, kind, mode, start, end });
    this.coalesce(owner);
    return true;
  }

  /** F_UNLCK on [start, end]: always succeeds; cuts (and so may split) the owner's locks. */
  unlock(owner: string, start: number, end: number): void {
    const out: Seg[] = [];
    for (const l of this.locks) {
      if (l.owner !== owner || !overlaps(l, { start, end })) {
        out.push(l);
        continue;
      }
      if (l.start < start) out.push({ ...l, end: start - 1 });
      if (l.end > end) out.push({ ...l, start: end + 1 });
    }
    this.locks = out;
  }

  /** Drops every lock of `owner`: a POSIX close in its process, or the last close of a description. */
  dropOwner(owner: string): void {
    this.locks = this.locks.filter((l) => l.owner !== owner);
  }

  /**
   * Locks of one owner and mode that touch or overlap become one lock: the kernel
   * (fs/locks.c posix_lock_inode) merges a new lock with adjacent locks of the same
   * type, so /proc/locks never shows two adjacent same-mode locks of one owner.
   */
  private coalesce(owner: string): void {
    const mine = this.locks.filter((l) => l.owner === owner).sort((a, b) => a.start - b.start);
    const merged: Seg[] = [];
    for (const l of mine) {
      const last = merged[merged.length - 1];
      if (last && last.mode === l.mode && last.end + 1 >= l.start) last.end = Math.max(last.end, l.end);
      else merged.push({ ...l });
    }
    this.locks = this.locks.filter((l) => l.owner !== owner).concat(merged);
  }

  /** The locks of `owner`, sorted: the canonical form compared with the kernel's. */
  of(owner: string): Seg[] {
    return this.locks.filter((l) => l.owner === owner).sort((a, b) => a.start - b.start);
  }
}

/** A lock in the /proc/locks text form ("WRITE 0 EOF"), for comparisons and messages. */
export function segText(s: { mode: Mode; start: number; end: number }): string {
  return `${s.mode === 'exclusive' ? 'WRITE' : 'READ'} ${s.start} ${s.end === Infinity ? 'EOF' : s.end}`;
}
