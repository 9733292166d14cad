/**
 * Runs every scenario for every kind, each cell in its own directory with its own
 * lockers, bounded in time, and collects the measured outcomes next to the
 * documented ones. A cell that fails reports outcome `error` with the reason; it never
 * stops the run.
 * @packageDocumentation
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { capabilities } from '../index.js';
import { Controller } from './controller.js';
import { expectationFor } from './expected.js';
import { filesystemOf } from './fsinfo.js';
import { SCENARIOS, type Measured, type Scenario } from './scenarios/index.js';
import { cellContext } from './scenarios/common.js';
import {
  ALL_KINDS,
  SCENARIO_TOKENS,
  type CellResult,
  type LabKind,
  type MatrixResult,
  type ScenarioName,
} from './types.js';

/** Options of {@link runMatrix}. */
export interface MatrixOptions {
  /** Kinds (columns); default: every kind this platform offers. */
  kinds?: readonly LabKind[];
  /** Scenarios (rows); default: all, in table order. */
  scenarios?: readonly ScenarioName[];
  /** Where to run; default: a new temp dir, removed afterwards. Under `dir` a subdirectory is made and removed. */
  dir?: string;
  /** A second mount of the filesystem of `dir`: the contending side opens files through it. */
  peerDir?: string | null;
  /** Cells run at once (default 2). */
  jobs?: number;
  /** Bound of one cell, ms (default 15000). */
  cellTimeoutMs?: number;
  /** Called after every cell. */
  onProgress?: (p: MatrixProgress) => void;
}

/** Progress after one cell. */
export interface MatrixProgress {
  /** Cells finished. */
  done: number;
  /** Cells in all. */
  total: number;
  /** The finished cell. */
  scenario: ScenarioName;
  /** Its kind. */
  kind: LabKind;
  /** Its result. */
  cell: CellResult;
}

/** The kinds the platform offers, in column order. */
export function availableKinds(): LabKind[] {
  const caps = capabilities();
  return ALL_KINDS.filter((k) => caps[k]);
}

async function runCell(
  scenario: Scenario,
  kind: LabKind,
  base: string,
  peerBase: string | null,
  timeoutMs: number,
): Promise<Measured> {
  const sub = `${scenario.name}-${kind}`;
  mkdirSync(join(base, sub), { recursive: true });
  const controller = new Controller();
  const ctx = cellContext(kind, controller, base, peerBase, sub);
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const running = scenario.run(ctx);
  running.catch(() => undefined); // settled late after a timeout: already reported
  try {
    return await Promise.race([
      running,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new Error(`cell did not finish within ${timeoutMs} ms; its lockers were killed`));
        }, timeoutMs);
      }),
    ]);
  } catch (err) {
    return { outcome: 'error', detail: (err as Error).message };
  } finally {
    clearTimeout(timer);
    if (timedOut) await controller.killAll();
    else await controller.dispose();
  }
}

function toCell(platform: string, name: ScenarioName, kind: LabKind, m: Measured): CellResult {
  const allowed = SCENARIO_TOKENS[name] as readonly string[];
  let { outcome, detail } = m;
  if (outcome !== 'error' && !allowed.includes(outcome)) {
    detail = `scenario reported '${outcome}', not one of ${allowed.join('|')}: ${detail}`;
    outcome = 'error';
  }
  const exp = expectationFor(platform, name, kind);
  const expected = exp?.token ?? null;
  if (exp)
    detail += ` [expected from SEMANTICS.md row ${exp.row}${exp.observed.length ? `, ${exp.observed.join(', ')}` : ''}]`;
  return { outcome, detail, expected, matches: expected !== null && outcome === expected };
}

/** Runs the matrix. Never throws for a failing cell; throws only for bad options. */
export async function runMatrix(options: MatrixOptions = {}): Promise<MatrixResult> {
  const kinds = options.kinds ?? availableKinds();
  const names = options.scenarios ?? SCENARIOS.map((s) => s.name);
  const scenarios = SCENARIOS.filter((s) => names.includes(s.name));
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'syslocks-lab-'));
  const base = ownDir ? dir : mkdtempSync(join(dir, 'syslocks-lab-'));
  const peerDir = options.peerDir ?? null;
  const peerBase = peerDir === null ? null : join(peerDir, base.slice(dir.length + 1) || '.');
  const platform = process.platform;
  const result: MatrixResult = { platform, kernel: release(), fs: filesystemOf(dir), dir, peerDir, results: {} };
  const cells = scenarios.flatMap((s) => kinds.map((k) => [s, k] as const));
  // Rows and columns appear in table order whatever order the cells finish in.
  for (const s of scenarios) result.results[s.name] = {};
  let next = 0;
  let done = 0;
  const jobs = Math.max(1, options.jobs ?? 2);
  const worker = async (): Promise<void> => {
    while (next < cells.length) {
      const [s, k] = cells[next++]!;
      const cell = toCell(platform, s.name, k, await runCell(s, k, base, peerBase, options.cellTimeoutMs ?? 15_000));
      result.results[s.name]![k] = cell;
      options.onProgress?.({ done: ++done, total: cells.length, scenario: s.name, kind: k, cell });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, cells.length) }, worker));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  // Keep kind columns in the requested order inside each row.
  for (const s of scenarios) {
    const row = result.results[s.name]!;
    result.results[s.name] = Object.fromEntries(kinds.filter((k) => row[k]).map((k) => [k, row[k]!]));
  }
  return result;
}
