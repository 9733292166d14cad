/**
 * The documented local-filesystem semantics, per platform: the ONLY place in the lab
 * where outcomes are written down by hand. They are labelled `expected` in every
 * report and compared with what the experiments measure; they never stand in for a
 * measurement. Each entry names the row of docs/SEMANTICS.md (the project's
 * semantics table) it comes from and, where there is one, the C-probe observation
 * (`P`-id, SEMANTICS.md section 4) that confirmed it on Linux 6.18 / ext4.
 * @packageDocumentation
 */
import type { LabKind, OutcomeToken, ScenarioName } from './types.js';

/** One documented expectation. */
export interface Expectation {
  /** The documented outcome. */
  token: OutcomeToken;
  /** SEMANTICS.md table row (section 1) it is taken from. */
  row: string;
  /** SEMANTICS.md section 4 observations (P-ids) that back it, if any. */
  observed: readonly string[];
}

type Row = Partial<Record<LabKind, Expectation>>;

const e = (token: OutcomeToken, row: string, ...observed: string[]): Expectation => ({ token, row, observed });
const na = (row: string): Expectation => e('n/a', row);

/** Linux, local filesystem (ext4/xfs/btrfs/tmpfs): flock, POSIX and OFD columns of SEMANTICS.md. */
const LINUX: Record<ScenarioName, Row> = {
  // Row 1: flock and OFD belong to the open file description, POSIX to the process;
  // two processes are always two owners.
  two_processes_exclusive: { flock: e('conflict', '1'), posix: e('conflict', '1'), ofd: e('conflict', '1') },
  // Shared (read) locks coexist (flock.2 LOCK_SH, fcntl.2 F_RDLCK), row 1.
  two_processes_shared: { flock: e('granted', '1'), posix: e('granted', '1'), ofd: e('granted', '1') },
  // Row 2: two open()s in one process.
  same_process_two_fds: {
    flock: e('conflict', '2', 'P5'),
    posix: e('granted', '2', 'P1'),
    ofd: e('conflict', '2', 'P3'),
  },
  // Row 3: worker threads, each with its own fd.
  threads_two_fds: { flock: e('conflict', '3'), posix: e('granted', '3', 'P13'), ofd: e('conflict', '3') },
  // Row 8: byte ranges (flock: whole file only).
  byte_ranges_disjoint: { flock: na('8'), posix: e('granted', '8'), ofd: e('granted', '8') },
  // Row 22: length 0 = to EOF and beyond.
  lock_len_zero_to_eof: { flock: na('22'), posix: e('conflict', '22', 'P15'), ofd: e('conflict', '22') },
  // Row 14: OFD <-> POSIX conflict; flock <-> fcntl independent on a local fs.
  ofd_vs_posix_interaction: { posix: e('conflict', '14', 'P4'), ofd: e('conflict', '14', 'P4') },
  flock_vs_posix_interaction: { flock: e('granted', '14', 'P6'), posix: e('granted', '14', 'P6') },
  flock_vs_ofd_interaction: { flock: e('granted', '14'), ofd: e('granted', '14') },
  // Row 6: closing a different fd of the file.
  close_other_fd_releases: {
    flock: e('held', '6'),
    posix: e('released', '6', 'P2'),
    ofd: e('held', '6', 'P6b'),
  },
  // Row 6, the second fd opened through the peer mount (the same path without --peer-dir).
  close_other_fd_peer_releases: {
    flock: e('held', '6'),
    posix: e('released', '6', 'P2'),
    ofd: e('held', '6', 'P6b'),
  },
  // Row 6 again: fs.readFileSync opens and closes its own fd.
  node_fs_read_releases: { flock: e('held', '6'), posix: e('released', '6', 'P2'), ofd: e('held', '6', 'P6b') },
  // Row 4 (fork: flock/OFD shared with the child, POSIX not inherited) and row 6.
  child_inherits: { flock: e('held', '4', 'P11'), posix: e('released', '4', 'P11'), ofd: e('held', '4', 'P11') },
  // Row 27: released on process exit.
  holder_killed_releases: { flock: e('released', '27'), posix: e('released', '27'), ofd: e('released', '27') },
  // Row 1: only the owner can unlock; another owner's unlock is a no-op.
  other_process_unlock_noop: { flock: e('held', '1'), posix: e('held', '1'), ofd: e('held', '1') },
  // Row 9: flock converts by remove-then-add; POSIX/OFD check conflicts first.
  upgrade_shared_to_exclusive_atomic: {
    flock: e('not-atomic', '9', 'P7'),
    posix: e('atomic', '9', 'P8'),
    ofd: e('atomic', '9'),
  },
  // Row 11: split on partial unlock.
  lock_splitting: { flock: na('11'), posix: e('split', '11', 'P20'), ofd: e('split', '11') },
  // Row 12: EDEADLK for POSIX only.
  deadlock_detection: { flock: e('none', '12'), posix: e('edeadlk', '12', 'P12'), ofd: e('none', '12', 'P12') },
  // Row 13 (F_GETLK: pid, -1 for OFD holders) and row 14 (F_GETLK blind to flock).
  getlk_reports: { flock: e('invisible', '13'), posix: e('pid', '13'), ofd: e('pid-minus-1', '13', 'P9') },
  // Row 13 with F_OFD_GETLK (fcntl(2): l_pid is -1 for an OFD lock, the owner's pid
  // for a traditional one) and row 14 (blind to flock).
  ofd_getlk_reports: { flock: e('invisible', '13'), posix: e('pid', '13'), ofd: e('pid-minus-1', '13') },
  // Row 13: a query answers what a try-lock would meet (flock has no query call).
  query_matches_try: { flock: na('13'), posix: e('consistent', '13'), ofd: e('consistent', '13') },
  // Row 17: the OS has no timed wait; the library's timeout must still end the wait at its bound.
  bounded_wait_timeout: { flock: e('timeout', '17'), posix: e('timeout', '17'), ofd: e('timeout', '17') },
  // Row 21: a write lock needs an fd open for writing (EBADF); flock does not.
  exclusive_on_readonly_fd: { flock: e('granted', '21', 'P17'), posix: e('ebadf', '21', 'P17'), ofd: e('ebadf', '21') },
  // Row 19: the lock stays on the old inode.
  rename_replaced_file: {
    flock: e('new-file-unlocked', '19', 'P14'),
    posix: e('new-file-unlocked', '19'),
    ofd: e('new-file-unlocked', '19'),
  },
  // overlayfs (matrix --copy-up): not in SEMANTICS.md; measured only.
  overlay_copy_up_keeps_lock: {},
  overlay_lower_bypass: {},
  overlay_upper_bypass: {},
};

/**
 * The documented expectation for one cell on `platform`, or null when none is
 * documented (any platform but Linux, or a kind the row does not name: those cells
 * are `n/a` by the matrix's definition and are expected so).
 */
export function expectationFor(platform: string, scenario: ScenarioName, kind: LabKind): Expectation | null {
  if (platform !== 'linux') return null;
  const row = LINUX[scenario];
  return row[kind] ?? (interactionKinds(scenario) ? na('14') : null);
}

/** The two kinds an `X_vs_Y_interaction` row compares, or null for other rows. */
export function interactionKinds(scenario: ScenarioName): [LabKind, LabKind] | null {
  const m = /^(\w+?)_vs_(\w+?)_interaction$/.exec(scenario);
  return m ? [m[1] as LabKind, m[2] as LabKind] : null;
}

/**
 * Whether `race` should see races for a kind and worker type on `platform`
 * (null: not documented). Linux: only POSIX locks between worker threads fail to
 * exclude, because the threads of a process share its POSIX locks (row 3, P13);
 * processes are separate owners for every kind (row 1), and flock/OFD locks belong
 * to each worker's own open file description (rows 1 and 3).
 */
export function raceExpectationFor(
  platform: string,
  kind: LabKind,
  workerType: 'thread' | 'process',
): { races: boolean; row: string } | null {
  if (platform !== 'linux' || kind === 'windows') return null;
  if (workerType === 'thread') return { races: kind === 'posix', row: '3' };
  return { races: false, row: '1' };
}
