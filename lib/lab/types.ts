/**
 * The lab's vocabulary: scenario names, outcome tokens and the shape of a matrix
 * result. The names and tokens are a fixed contract (issue 6): scripts compare them.
 * @packageDocumentation
 */
import type { LockKind } from '../index.js';

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
  | 'one-way'
  | 'skipped'
  | 'error';

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
  node_fs_read_releases: ['held', 'released', 'n/a'],
  child_inherits: ['held', 'released', 'n/a'],
  holder_killed_releases: ['held', 'released', 'n/a'],
  other_process_unlock_noop: ['held', 'released', 'n/a'],
  upgrade_shared_to_exclusive_atomic: ['atomic', 'not-atomic', 'n/a'],
  lock_splitting: ['split', 'not-split', 'n/a'],
  deadlock_detection: ['edeadlk', 'none', 'n/a'],
  getlk_reports: ['pid', 'pid-minus-1', 'invisible', 'n/a'],
  exclusive_on_readonly_fd: ['granted', 'ebadf', 'n/a'],
  rename_replaced_file: ['new-file-unlocked', 'new-file-locked'],
  // Outside contenders (scenarios/outside.ts): each side's lock excludes the other
  // (conflict), neither does (granted), only one does (one-way), or the tool is missing.
  python_flock_contender: ['conflict', 'granted', 'one-way', 'skipped', 'n/a'],
  python_lockf_contender: ['conflict', 'granted', 'one-way', 'skipped', 'n/a'],
  python_ofd_contender: ['conflict', 'granted', 'one-way', 'skipped', 'n/a'],
  flock1_contender: ['conflict', 'granted', 'one-way', 'skipped', 'n/a'],
  sqlite3_contender: ['conflict', 'granted', 'one-way', 'skipped', 'n/a'],
} as const satisfies Record<string, readonly OutcomeToken[]>;

/** One of the fixed scenario names. */
export type ScenarioName = keyof typeof SCENARIO_TOKENS;

/** Scenario names in table order. */
export const SCENARIO_NAMES = Object.keys(SCENARIO_TOKENS) as ScenarioName[];

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
}

/** The matrix as `--json` writes it. */
export interface MatrixResult {
  /** `process.platform`. */
  platform: string;
  /** `os.release()`. */
  kernel: string;
  /** Filesystem type of `dir` (from /proc/self/mountinfo, else statfs). */
  fs: string;
  /** Directory the experiments ran in. */
  dir: string;
  /** Directory the contending side used (a second mount of the same filesystem), or null. */
  peerDir: string | null;
  /** `results[scenario][kind]`. */
  results: Partial<Record<ScenarioName, Partial<Record<LabKind, CellResult>>>>;
}
