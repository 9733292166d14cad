/**
 * The `occ` table: a log of immutable versions, `DIR/log/<version>.json`, each holding
 * the whole table (occ-worker.ts commits them; occ.ts reads the result).
 * @packageDocumentation
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One version of the table. */
export interface TableVersion {
  /** Its version number (0 = the empty table). */
  version: number;
  /** Commits per writer id. */
  rows: Record<string, number>;
  /** Sum of rows. */
  total: number;
}

/** A writer's summary line. */
export interface OccWorkerSummary {
  /** Writer id. */
  id: number;
  /** Its pid. */
  pid: number;
  /** Transactions committed. */
  commits: number;
  /** Failed version checks (link met EEXIST). */
  conflicts: number;
  /** Transactions that had to retry at least once. */
  retried: number;
  /** Most attempts one transaction needed. */
  maxAttempts: number;
  /** From start signal to last commit, ms. */
  ms: number;
}

/** `log/00000000000000000042.json`: fixed width, so names sort by version. */
export function versionPath(dir: string, version: number): string {
  return join(dir, 'log', `${String(version).padStart(20, '0')}.json`);
}

/** The newest version, found by probing forward from `known` (versions are never removed). */
export function readLatest(dir: string, known: number): TableVersion {
  let v = known;
  while (existsSync(versionPath(dir, v + 1))) v++;
  return JSON.parse(readFileSync(versionPath(dir, v), 'utf8')) as TableVersion;
}
