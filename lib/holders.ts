/**
 * Who holds locks on a file, read from Linux's /proc: like `lslocks`, but with the
 * real owners of flock and OFD locks resolved.
 *
 * proc(5): /proc/locks shows POSIX locks with the owning pid, but "the value -1 is
 * displayed in this field for OFD locks", and a flock's pid is only the process that
 * placed it (a forked child may hold it now). /proc/PID/fdinfo/FD lists, in `lock:`
 * lines, the locks held through that open file, so scanning fdinfo finds every
 * process that holds an open file description carrying the lock.
 */
import {
  closeSync,
  fstatSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  constants,
  type BigIntStats,
} from 'node:fs';
import { validateTarget } from './validate.js';
import type { LockConflict, LockKind, LockMode, Target } from './types.js';

/** One lock on the file, and one process that holds it. */
export interface LockHolder {
  /** The holder's pid (-1 only when no process could be resolved, e.g. no permission). */
  pid: number;
  /** Its command line (or `comm`), or null when unreadable. */
  command: string | null;
  /** Lock family, from /proc/locks (`FLOCK`, `POSIX`, `OFDLCK`). */
  kind: Exclude<LockKind, 'windows'>;
  /** `READ` = shared, `WRITE` = exclusive. */
  mode: LockMode;
  /** First byte. */
  start: bigint;
  /** Length in bytes; `0n` = to EOF and beyond. */
  length: bigint;
  /** True for a request still waiting for the lock (`->` lines in /proc/locks). */
  waiting: boolean;
}

/** @internal A parsed /proc/locks or fdinfo `lock:` line. */
export interface ProcLock {
  kind: Exclude<LockKind, 'windows'>;
  mode: LockMode;
  pid: number;
  dev: string;
  ino: bigint;
  start: bigint;
  length: bigint;
  waiting: boolean;
  /** The line from the type on: identical for the same lock in /proc/locks and fdinfo. */
  key: string;
}

const KIND_OF: Record<string, ProcLock['kind'] | undefined> = { FLOCK: 'flock', POSIX: 'posix', OFDLCK: 'ofd' };
const LINE =
  /^\s*\d+:\s+(->\s+)?(\S+)\s+\S+\s+(READ|WRITE)\s+(-?\d+)\s+([0-9a-f]+:[0-9a-f]+):(\d+)\s+(\d+)\s+(\d+|EOF)\s*$/;

/** @internal Parses one line of /proc/locks (or the text after `lock:` in fdinfo). */
export function parseLockLine(line: string): ProcLock | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const kind = KIND_OF[m[2]!];
  if (!kind) return null; // LEASE, DELEG, ...
  const start = BigInt(m[7]!);
  const end = m[8]!;
  return {
    kind,
    mode: m[3] === 'READ' ? 'shared' : 'exclusive',
    pid: Number(m[4]),
    dev: m[5]!,
    ino: BigInt(m[6]!),
    start,
    length: end === 'EOF' ? 0n : BigInt(end) - start + 1n,
    waiting: m[1] !== undefined,
    key: line
      .replace(/^\s*\d+:\s+(->\s+)?/, '')
      .replace(/\s+/g, ' ')
      .trim(),
  };
}

/** @internal "MAJ:MIN" as /proc/locks prints it (lowercase hex, at least two digits). */
export function devString(st: BigIntStats): string {
  const dev = st.dev;
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

/** A file to look up: its stat, and an fd on it when there is one (for its mount). */
interface FileRef {
  st: BigIntStats;
  fd?: number | undefined;
  path?: string | undefined;
}

function statTarget(target: Target): FileRef {
  const t = validateTarget(target);
  if (t.path !== undefined) return { st: statSync(t.path, { bigint: true }), path: t.path };
  return { st: fstatSync(t.fd, { bigint: true }), fd: t.fd };
}

/**
 * The device /proc/locks prints for a file: the superblock's `s_dev`. It is what
 * `stat` reports on most filesystems, but not on btrfs, where every subvolume (the
 * top level included) reports its own anonymous device. /proc/self/mountinfo prints
 * the superblock's device of each mount ("major:minor: the value of st_dev for files
 * on this filesystem", proc(5), which for btrfs is the superblock's), and the fd's
 * `mnt_id` (fdinfo) names its mount. A path is opened read-only and non-blocking
 * (never created, and a FIFO does not hang) just to ask.
 */
function superblockDev(file: FileRef): string | undefined {
  let fd = file.fd;
  if (fd === undefined) {
    try {
      fd = openSync(file.path!, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch {
      return undefined;
    }
  }
  try {
    const mnt = /^mnt_id:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))?.[1];
    if (mnt === undefined) return undefined;
    for (const line of readFileSync('/proc/self/mountinfo', 'latin1').split('\n')) {
      const [id, , majMin] = line.split(' ');
      if (id !== mnt || majMin === undefined) continue;
      const [major, minor] = majMin.split(':').map((n) => Number(n).toString(16).padStart(2, '0'));
      return `${major}:${minor}`;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (file.fd === undefined) closeSync(fd);
  }
}

/** @internal Entries of /proc/locks on the given file (an fd or path helps on btrfs). */
export function procLocksOn(file: FileRef): ProcLock[] {
  const dev = devString(file.st);
  // A /proc seq_file gives at most a page per read(2) and restarts each read at a
  // position in the kernel's list, so while other processes lock and unlock, a long
  // /proc/locks can repeat or skip a line: read until two reads agree on this inode.
  const read = (): ProcLock[] =>
    readFileSync('/proc/locks', 'latin1')
      .split('\n')
      .map(parseLockLine)
      .filter((l): l is ProcLock => l !== null && l.ino === file.st.ino);
  const keys = (ls: ProcLock[]): string => ls.map((l) => `${l.waiting}${l.key}`).join('\n');
  let sameIno = read();
  for (let i = 0; i < 8; i++) {
    const again = read();
    // Stryker disable next-line EqualityOperator: the re-read only shows while other processes change the list
    if (keys(again) === keys(sameIno)) break;
    sameIno = again;
  }
  // Only when some line on this inode number prints another device is the mount asked
  // (btrfs; or the same inode number on another filesystem, which this then drops).
  // Stryker disable next-line all: btrfs only (test/btrfs.test.ts, a loop-mounted btrfs, is not in the mutation run)
  if (sameIno.every((l) => l.dev === dev)) return sameIno;
  const sb = superblockDev(file);
  return sameIno.filter((l) => l.dev === dev || l.dev === sb);
}

/** @internal The `lock:` lines of one fdinfo file. */
export function fdinfoLocks(pid: number | 'self', fd: number): ProcLock[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1');
  } catch {
    return [];
  }
  const out: ProcLock[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('lock:')) continue;
    const l = parseLockLine(line.slice(5));
    if (l) out.push(l);
  }
  return out;
}

/** @internal A process's command line, or its comm, or null. */
export function commandOf(pid: number): string | null {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
    if (cmd) return cmd;
    return readFileSync(`/proc/${pid}/comm`, 'latin1').trim() || null;
  } catch {
    return null;
  }
}

/** One process's fd on the file and the locks its fdinfo lists. */
interface FdLocks {
  fd: number;
  locks: ProcLock[];
}

/**
 * Every (pid, fd) whose fdinfo carries a lock on inode `ino`, with those locks: of
 * every process, or of the given pids only.
 */
function scanFdinfo(ino: bigint, only?: readonly number[]): Map<number, FdLocks[]> {
  const found = new Map<number, FdLocks[]>();
  // Stryker disable next-line StringLiteral: used by a pre-filter that only saves work (lines are checked below)
  const inoLine = `ino:\t${ino}\n`;
  const pids =
    only ??
    readdirSync('/proc')
      // Stryker disable next-line all: only saves work: a name that is not a pid has no fdinfo to read
      .filter((e) => /^\d+$/.test(e))
      .map(Number);
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1');
      } catch {
        continue;
      }
      // Stryker disable next-line all: a pre-filter that only saves work: each lock line is checked below
      if (!text.includes('lock:') || !text.includes(inoLine)) continue;
      const locks: ProcLock[] = [];
      for (const line of text.split('\n')) {
        if (!line.startsWith('lock:')) continue;
        const l = parseLockLine(line.slice(5));
        if (l && l.ino === ino) locks.push(l);
      }
      if (locks.length > 0) found.set(pid, [...(found.get(pid) ?? []), { fd: Number(fd), locks }]);
    }
  }
  return found;
}

/** The pids holding a lock line (flock/OFD), skipping one (pid, fd): the asker's own. */
function ownersOf(
  l: ProcLock,
  owners: Map<number, FdLocks[]>,
  self?: { pid: number; fd: number } | undefined,
): number[] {
  const pids: number[] = [];
  for (const [pid, fds] of owners) {
    const holds = fds.some(
      (f) => !(self && pid === self.pid && f.fd === self.fd) && f.locks.some((h) => h.key === l.key),
    );
    if (holds) pids.push(pid);
  }
  return pids;
}

/**
 * Finds the owners of single lock lines cheaply: first among likely pids (the one
 * /proc/locks prints, and this process), and only if none holds the line, by a scan of
 * every process (once per finder). Used where one owner is enough (getLock, timeout
 * messages); {@link holders} scans everything, since it lists every owner.
 */
class OwnerFinder {
  readonly #ino: bigint;
  readonly #self: { pid: number; fd: number };
  readonly #quick = new Map<number, FdLocks[]>();
  #all: Map<number, FdLocks[]> | undefined;

  constructor(ino: bigint, askerFd: number) {
    this.#ino = ino;
    this.#self = { pid: process.pid, fd: askerFd };
  }

  owners(l: ProcLock): number[] {
    // Stryker disable next-line all: the quick path only saves a scan of every process
    for (const pid of [l.pid, process.pid]) {
      if (pid > 0 && !this.#quick.has(pid)) this.#quick.set(pid, scanFdinfo(this.#ino, [pid]).get(pid) ?? []);
    }
    const quick = ownersOf(l, this.#quick, this.#self);
    if (quick.length > 0) return quick;
    this.#all ??= scanFdinfo(this.#ino);
    return ownersOf(l, this.#all, this.#self);
  }
}

/**
 * Who holds (or waits for) locks on a file, on Linux. Reads /proc/locks and resolves
 * the owners of flock and OFD locks through /proc/PID/fdinfo, so every holder comes
 * with its real pid and command, which neither `F_GETLK` (blind to flock, -1 for OFD)
 * nor /proc/locks alone can give. Processes whose /proc entries are not readable by
 * this user are reported with the pid /proc/locks shows.
 *
 * @param target - the file: a path, an fd or a FileHandle.
 * @throws TypeError (`ERR_FEATURE_UNAVAILABLE_ON_PLATFORM`) off Linux.
 */
export function holders(target: Target): LockHolder[] {
  // Stryker disable next-line all: not Linux; mutation runs are Linux-only
  if (process.platform !== 'linux') {
    const err = new TypeError('holders() reads /proc/locks, which only Linux has');
    (err as NodeJS.ErrnoException).code = 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM';
    throw err;
  }
  const file = statTarget(target);
  const locks = procLocksOn(file);
  if (locks.length === 0) return [];
  const needsScan = locks.some((l) => l.kind !== 'posix' && !l.waiting);
  const owners = needsScan ? scanFdinfo(file.st.ino) : new Map<number, FdLocks[]>();
  const out: LockHolder[] = [];
  const seen = new Set<string>();
  for (const l of locks) {
    const pids: number[] = [];
    if (l.kind === 'posix' || l.waiting) {
      pids.push(l.pid);
    } else {
      pids.push(...ownersOf(l, owners));
      if (pids.length === 0) pids.push(l.pid);
    }
    for (const pid of pids) {
      // Identical lines (two shared OFD locks look alike) resolve to the same owners.
      const id = `${l.key}|${l.waiting}|${pid}`;
      if (seen.has(id) && !(l.kind === 'posix' || l.waiting)) continue;
      seen.add(id);
      out.push({
        pid,
        command: pid > 0 ? commandOf(pid) : null,
        kind: l.kind,
        mode: l.mode,
        start: l.start,
        length: l.length,
        waiting: l.waiting,
      });
    }
  }
  return out;
}

/** The part of a request the conflict checks need. @internal */
export interface AskedLock {
  kind: LockKind;
  fd: number;
  mode: LockMode;
  start: bigint;
  length: bigint;
}

function overlaps(a: { start: bigint; length: bigint }, b: { start: bigint; length: bigint }): boolean {
  const aEnd = a.length === 0n ? undefined : a.start + a.length;
  const bEnd = b.length === 0n ? undefined : b.start + b.length;
  return (aEnd === undefined || b.start < aEnd) && (bEnd === undefined || a.start < bEnd);
}

/**
 * @internal The granted locks (with real owners) that block `req`, for messages such
 * as a timeout's. flock and fcntl locks are independent on Linux (flock(2) NOTES);
 * POSIX and OFD locks conflict with each other (fcntl(2)). A POSIX lock of this
 * process never blocks a POSIX request of it, and the asker's own fd is skipped.
 * Best effort: an unreadable /proc gives [].
 */
export function conflictingHolders(req: AskedLock): LockHolder[] {
  // Stryker disable next-line all: not Linux; mutation runs are Linux-only
  if (process.platform !== 'linux' || req.kind === 'windows') return [];
  try {
    const st = fstatSync(req.fd, { bigint: true });
    const finder = new OwnerFinder(st.ino, req.fd);
    const out: LockHolder[] = [];
    for (const l of procLocksOn({ st, fd: req.fd })) {
      if (l.waiting || (req.kind === 'flock') !== (l.kind === 'flock')) continue;
      if (req.mode !== 'exclusive' && l.mode !== 'exclusive') continue;
      if (l.kind !== 'flock' && !overlaps(req, l)) continue;
      if (req.kind === 'posix' && l.kind === 'posix' && l.pid === process.pid) continue;
      const pids = l.kind === 'posix' ? [l.pid] : finder.owners(l);
      for (const pid of pids.length > 0 ? pids : [l.pid]) {
        const { kind, mode, start, length, waiting } = l;
        out.push({ pid, command: pid > 0 ? commandOf(pid) : null, kind, mode, start, length, waiting });
      }
    }
    return out;
  } catch {
    return [];
  }
}

/**
 * @internal getLock() for flock on Linux, which has no query call: the first flock on
 * the file, other than the asker's own, that conflicts with the request, named by its
 * real holder (fdinfo), not by the pid that placed it.
 */
export function flockConflictFromProc(req: AskedLock): LockConflict | null {
  const st = fstatSync(req.fd, { bigint: true });
  const own = fdinfoLocks('self', req.fd).map((l) => l.key);
  const finder = new OwnerFinder(st.ino, req.fd);
  for (const l of procLocksOn({ st, fd: req.fd })) {
    if (l.kind !== 'flock' || l.waiting) continue;
    const mine = own.indexOf(l.key);
    if (mine >= 0) {
      own.splice(mine, 1); // the target's own lock never blocks it
      continue;
    }
    if (req.mode === 'exclusive' || l.mode === 'exclusive') {
      const pid = finder.owners(l)[0] ?? l.pid;
      return { kind: 'flock', mode: l.mode, start: 0n, length: 0n, pid };
    }
  }
  return null;
}

/**
 * @internal F_GETLK / F_OFD_GETLK report -1 for an OFD holder (fcntl(2)): find it in
 * /proc by its line (OFD, mode, range) and name a process that holds it, other than
 * the asker's own fd. -1 stays where /proc cannot tell (no permission, or gone).
 */
export function resolveOfdPid(fd: number, conflict: LockConflict): number {
  if (process.platform !== 'linux' || conflict.pid !== -1) return conflict.pid;
  try {
    const st = fstatSync(fd, { bigint: true });
    const finder = new OwnerFinder(st.ino, fd);
    for (const l of procLocksOn({ st, fd })) {
      if (l.kind !== 'ofd' || l.waiting || l.mode !== conflict.mode) continue;
      if (l.start !== conflict.start || l.length !== conflict.length) continue;
      const pid = finder.owners(l)[0];
      if (pid !== undefined) return pid;
    }
  } catch {
    /* -1: /proc cannot tell */
  }
  return -1;
}
