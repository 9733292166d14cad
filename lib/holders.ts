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
import { fstatSync, readFileSync, readdirSync, statSync, type BigIntStats } from 'node:fs';
import { validateTarget } from './validate.js';
import type { LockKind, LockMode, Target } from './types.js';

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

function statTarget(target: Target): BigIntStats {
  const t = validateTarget(target);
  return t.path !== undefined ? statSync(t.path, { bigint: true }) : fstatSync(t.fd, { bigint: true });
}

/** @internal Entries of /proc/locks on the given file. */
export function procLocksOn(st: BigIntStats): ProcLock[] {
  const dev = devString(st);
  const out: ProcLock[] = [];
  for (const line of readFileSync('/proc/locks', 'latin1').split('\n')) {
    const l = parseLockLine(line);
    if (l && l.ino === st.ino && l.dev === dev) out.push(l);
  }
  return out;
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

/** Every (pid, fd) whose fdinfo carries a lock on inode `ino`, with those locks. */
function scanFdinfo(ino: bigint): Map<number, ProcLock[]> {
  const found = new Map<number, ProcLock[]>();
  const inoLine = `ino:\t${ino}\n`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
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
      if (!text.includes('lock:') || !text.includes(inoLine)) continue;
      for (const line of text.split('\n')) {
        if (!line.startsWith('lock:')) continue;
        const l = parseLockLine(line.slice(5));
        if (l && l.ino === ino) found.set(pid, [...(found.get(pid) ?? []), l]);
      }
    }
  }
  return found;
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
  if (process.platform !== 'linux') {
    const err = new TypeError('holders() reads /proc/locks, which only Linux has');
    (err as NodeJS.ErrnoException).code = 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM';
    throw err;
  }
  const st = statTarget(target);
  const locks = procLocksOn(st);
  if (locks.length === 0) return [];
  const needsScan = locks.some((l) => l.kind !== 'posix' && !l.waiting);
  const owners = needsScan ? scanFdinfo(st.ino) : new Map<number, ProcLock[]>();
  const out: LockHolder[] = [];
  const seen = new Set<string>();
  for (const l of locks) {
    const pids: number[] = [];
    if (l.kind === 'posix' || l.waiting) {
      pids.push(l.pid);
    } else {
      for (const [pid, held] of owners) if (held.some((h) => h.key === l.key)) pids.push(pid);
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
