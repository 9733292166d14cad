/**
 * The lab's vocabulary: scenario names, outcome tokens and the shape of a matrix
 * result. The names and tokens are a fixed contract (docs/LAB.md, "The matrix"): scripts compare them.
 * @packageDocumentation
 */
import type { LockKind } from '../index.js';
import type { FsInfo } from './fsinfo.js';

/** Lock kinds the lab can measure (every {@link LockKind}). */
export type LabKind = LockKind;

/** All kinds, in table column order. */
export const ALL_KINDS: readonly LabKind[] = ['flock', 'posix', 'ofd', 'windows'];

/** Outcome tokens of the contention rows. */
export type ContentionToken = 'conflict' | 'granted' | 'n/a';
/** Outcome tokens of the release rows. */
export type ReleaseToken = 'held' | 'released' | 'n/a';
/** Every outcome token a matrix cell can carry (plus `error` for a failed experiment). */
export type OutcomeToken =
  | ContentionToken
  | ReleaseToken
  | 'atomic'
  | 'not-atomic'
  | 'split'
  | 'not-split'
  | 'edeadlk'
  | 'none'
  | 'pid'
  | 'pid-minus-1'
  | 'invisible'
  | 'ebadf'
  | 'new-file-unlocked'
  | 'new-file-locked'
  | 'other-pid'
  | 'timeout'
  | 'late-timeout'
  | 'consistent'
  | 'inconsistent'
  | 'not-visible'
  | 'unsupported'
  | 'error';

/**
 * Tokens any row may report. `not-visible`: the contender never saw the holder's lock,
 * so the row's question (released? split? ...) cannot be answered; shown as
 * `n/a (not visible)`. `unsupported`: the filesystem refused the lock call (ENOLCK,
 * EOPNOTSUPP, ENOSYS); the errno is in {@link CellResult.errno}.
 */
export const ANY_ROW_TOKENS: readonly OutcomeToken[] = ['not-visible', 'unsupported', 'error'];

/** The fixed scenario names, in table row order, each with the tokens it may report. */
export const SCENARIO_TOKENS = {
  two_processes_exclusive: ['conflict', 'granted', 'n/a'],
  two_processes_shared: ['conflict', 'granted', 'n/a'],
  same_process_two_fds: ['conflict', 'granted', 'n/a'],
  threads_two_fds: ['conflict', 'granted', 'n/a'],
  byte_ranges_disjoint: ['conflict', 'granted', 'n/a'],
  lock_len_zero_to_eof: ['conflict', 'granted', 'n/a'],
  ofd_vs_posix_interaction: ['conflict', 'granted', 'n/a'],
  flock_vs_posix_interaction: ['conflict', 'granted', 'n/a'],
  flock_vs_ofd_interaction: ['conflict', 'granted', 'n/a'],
  close_other_fd_releases: ['held', 'released', 'n/a'],
  close_other_fd_peer_releases: ['held', 'released', 'n/a'],
  node_fs_read_releases: ['held', 'released', 'n/a'],
  child_inherits: ['held', 'released', 'n/a'],
  holder_killed_releases: ['held', 'released', 'n/a'],
  other_process_unlock_noop: ['held', 'released', 'n/a'],
  upgrade_shared_to_exclusive_atomic: ['atomic', 'not-atomic', 'n/a'],
  lock_splitting: ['split', 'not-split', 'n/a'],
  deadlock_detection: ['edeadlk', 'none', 'n/a'],
  getlk_reports: ['pid', 'pid-minus-1', 'other-pid', 'invisible', 'n/a'],
  ofd_getlk_reports: ['pid', 'pid-minus-1', 'other-pid', 'invisible', 'n/a'],
  query_matches_try: ['consistent', 'inconsistent', 'n/a'],
  bounded_wait_timeout: ['timeout', 'late-timeout', 'n/a'],
  exclusive_on_readonly_fd: ['granted', 'ebadf', 'n/a'],
  rename_replaced_file: ['new-file-unlocked', 'new-file-locked'],
  overlay_copy_up_keeps_lock: ['held', 'released', 'n/a'],
  overlay_lower_bypass: ['conflict', 'granted', 'n/a'],
  overlay_upper_bypass: ['conflict', 'granted', 'n/a'],
} as const satisfies Record<string, readonly OutcomeToken[]>;

/** One of the fixed scenario names. */
export type ScenarioName = keyof typeof SCENARIO_TOKENS;

/** Scenario names in table order. */
export const SCENARIO_NAMES = Object.keys(SCENARIO_TOKENS) as ScenarioName[];

/** Rows run only on request (`matrix --copy-up`): they need an overlay mount with a writable lower layer. */
export const OPT_IN_SCENARIOS: readonly ScenarioName[] = [
  'overlay_copy_up_keeps_lock',
  'overlay_lower_bypass',
  'overlay_upper_bypass',
];

/** The rows a plain `matrix` runs. */
export const DEFAULT_SCENARIOS: readonly ScenarioName[] = SCENARIO_NAMES.filter((n) => !OPT_IN_SCENARIOS.includes(n));

/** One measured cell of the matrix. */
export interface CellResult {
  /** What the experiment observed just now (`error` when the experiment itself failed). */
  outcome: OutcomeToken;
  /** How it was observed: the steps and raw results, in words. */
  detail: string;
  /** The documented local-filesystem semantics on this platform (null: none documented). */
  expected: OutcomeToken | null;
  /** `outcome === expected`. */
  matches: boolean;
  /** For `unsupported`: the errno the filesystem answered with (`ENOLCK`, ...). */
  errno?: string;
}

/** The matrix as `--json` writes it. */
export interface MatrixResult {
  /** `process.platform`. */
  platform: string;
  /** `os.release()`. */
  kernel: string;
  /** `os.version()`: the kernel build. */
  kernelVersion: string;
  /** syslocks version. */
  syslocks: string;
  /** `process.version`. */
  node: string;
  /** When the run started (ISO 8601, UTC). */
  date: string;
  /** Filesystem type of `dir` with subtype (`ext4`, `fuse.bindfs`; from /proc/self/mountinfo, else statfs). */
  fs: string;
  /** The filesystem of `dir` in full: mount source, options, overlay layers, btrfs subvolume. */
  fsInfo: FsInfo;
  /** Directory the experiments ran in. */
  dir: string;
  /** Directory the contending side used (a second mount of the same filesystem), or null. */
  peerDir: string | null;
  /** The filesystem of `peerDir` in full, or null. */
  peerFsInfo: FsInfo | null;
  /** False while cells are still running (the JSON file is rewritten as each cell finishes). */
  complete: boolean;
  /** What went wrong outside the cells (a cleanup that did not finish, ...). */
  notes: string[];
  /** `results[scenario][kind]`. */
  results: Partial<Record<ScenarioName, Partial<Record<LabKind, CellResult>>>>;
}
