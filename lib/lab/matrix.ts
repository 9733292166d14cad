/**
 * Runs every scenario for every kind, each cell in its own directory with its own
 * lockers, bounded in time, and collects the measured outcomes next to the
 * documented ones. A cell that fails reports outcome `error` with the reason; it never
 * stops the run. The result is handed out after every cell (`onUpdate`, which the CLI
 * uses to rewrite its JSON file), and a cleanup that does not finish (a wedged FUSE
 * mount) becomes a note, not a crash.
 * @packageDocumentation
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirs, makeTempDir, removeDir } from './cleanup.js';
import { availableKinds } from './command.js';
import { Controller } from './controller.js';
import { expectationFor } from './expected.js';
import { fsInfoOf, type FsInfo } from './fsinfo.js';
import { runInfo } from './runinfo.js';
import { SCENARIOS, type Measured, type OverlayCell, type Scenario } from './scenarios/index.js';
import { cellContext, NotVisibleError, UnsupportedError } from './scenarios/common.js';
import {
  ANY_ROW_TOKENS,
  DEFAULT_SCENARIOS,
  OPT_IN_SCENARIOS,
  SCENARIO_TOKENS,
  type CellResult,
  type LabKind,
  type MatrixResult,
  type ScenarioName,
} from './types.js';

export { availableKinds };

/** Options of {@link runMatrix}. */
export interface MatrixOptions {
  /** Kinds (columns); default: every kind this platform offers. */
  kinds?: readonly LabKind[];
  /** Scenarios (rows); default: all but the opt-in ones, in table order. */
  scenarios?: readonly ScenarioName[];
  /** Where to run; default: a new temp dir, removed afterwards. Under `dir` a subdirectory is made and removed. */
  dir?: string;
  /** A second mount of the filesystem of `dir`: the contending side opens files through it. */
  peerDir?: string | null;
  /** Add the overlay copy-up rows (`dir` must be on overlayfs with a writable lower layer). */
  copyUp?: boolean;
  /** Cells run at once (default 2). */
  jobs?: number;
  /** Bound of one cell, ms (default 15000). */
  cellTimeoutMs?: number;
  /** Bound of removing the run's directory, ms (default 10000). */
  cleanupTimeoutMs?: number;
  /** Called after every cell. */
  onProgress?: (p: MatrixProgress) => void;
  /** Called with the result so far after every cell (`complete: false`) and at the end. */
  onUpdate?: (m: MatrixResult) => void;
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

async function runCell(
  scenario: Scenario,
  kind: LabKind,
  base: string,
  peerBase: string | null,
  overlay: OverlayCell | null,
  timeoutMs: number,
): Promise<Measured> {
  const sub = `${scenario.name}-${kind}`;
  const controller = new Controller();
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  try {
    const ctx = cellContext(kind, controller, base, peerBase, sub, overlay);
    const running = scenario.run(ctx);
    running.catch(() => undefined); // settled late after a timeout: already reported
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
    if (err instanceof NotVisibleError) return { outcome: 'not-visible', detail: err.message };
    if (err instanceof UnsupportedError) return { outcome: 'unsupported', detail: err.message, errno: err.errno };
    return { outcome: 'error', detail: (err as Error).message };
  } finally {
    clearTimeout(timer);
    if (timedOut) await controller.killAll();
    else await controller.dispose();
  }
}

function toCell(platform: string, name: ScenarioName, kind: LabKind, m: Measured): CellResult {
  const allowed = [...SCENARIO_TOKENS[name], ...ANY_ROW_TOKENS] as readonly string[];
  let { outcome, detail } = m;
  if (!allowed.includes(outcome)) {
    detail = `scenario reported '${outcome}', not one of ${allowed.join('|')}: ${detail}`;
    outcome = 'error';
  }
  const exp = expectationFor(platform, name, kind);
  const expected = exp?.token ?? null;
  if (exp)
    detail += ` [expected from SEMANTICS.md row ${exp.row}${exp.observed.length ? `, ${exp.observed.join(', ')}` : ''}]`;
  return {
    outcome,
    detail,
    expected,
    matches: expected !== null && outcome === expected,
    ...(m.errno ? { errno: m.errno } : {}),
  };
}

/** Where a copy-up cell makes its lower-layer file, or why it cannot. */
function overlayCell(info: FsInfo, tag: string): OverlayCell | string {
  if (!info.overlay || info.mountPoint === null) return `--copy-up: the --dir is on ${info.type}, not on overlay`;
  const lower = info.overlay.lower[0];
  if (!lower) return '--copy-up: the overlay has no lower layer listed in mountinfo';
  if (info.root !== '/') return `--copy-up: the overlay is mounted from its subdirectory ${info.root}`;
  const name = `syslocks-lower-${process.pid}-${tag}`;
  return {
    lower: join(lower, name),
    merged: join(info.mountPoint, name),
    upper: info.overlay.upper ? join(info.overlay.upper, name) : null,
  };
}

/** Runs the matrix. Never throws for a failing cell or cleanup; throws only for bad options. */
export async function runMatrix(options: MatrixOptions = {}): Promise<MatrixResult> {
  const kinds = options.kinds ?? availableKinds();
  const wanted = options.scenarios ?? [...DEFAULT_SCENARIOS, ...(options.copyUp ? OPT_IN_SCENARIOS : [])];
  const scenarios = SCENARIOS.filter((s) => wanted.includes(s.name));
  const ownDir = options.dir === undefined;
  const base = makeTempDir('syslocks-lab-', options.dir);
  const dir = options.dir ?? base;
  const peerDir = options.peerDir ?? null;
  const peerBase = peerDir === null ? null : join(peerDir, ownDir ? '.' : base.slice(dir.length + 1));
  const platform = process.platform;
  const info = runInfo(dir);
  const result: MatrixResult = {
    platform,
    kernel: info.kernel,
    kernelVersion: info.kernelVersion,
    syslocks: info.syslocks,
    node: info.node,
    date: info.date,
    fs: info.fsInfo.type,
    fsInfo: info.fsInfo,
    dir,
    peerDir,
    peerFsInfo: peerDir === null ? null : fsInfoOf(peerDir),
    complete: false,
    notes: [],
    results: {},
  };
  const cells = scenarios.flatMap((s) => kinds.map((k) => [s, k] as const));
  // Rows and columns appear in table order whatever order the cells finish in.
  for (const s of scenarios) result.results[s.name] = {};
  const lowerFiles: string[] = [];
  const overlayFor = (s: ScenarioName, k: LabKind): OverlayCell | null => {
    if (!(OPT_IN_SCENARIOS as readonly string[]).includes(s)) return null;
    const o = overlayCell(info.fsInfo, `${s}-${k}`);
    if (typeof o === 'string') throw new Error(o);
    writeFileSync(o.lower, 'lower layer\n');
    lowerFiles.push(o.lower);
    if (o.upper) lowerFiles.push(o.upper);
    return o;
  };
  // Every cell's directory, made out of process: the lab itself stays off the measured mount.
  const madeDirs = await makeDirs(cells.map(([s, k]) => join(base, `${s.name}-${k}`)));
  if (madeDirs) {
    result.notes.push(madeDirs);
    cells.length = 0;
  }
  let next = 0;
  let done = 0;
  const jobs = Math.max(1, options.jobs ?? 2);
  const worker = async (): Promise<void> => {
    while (next < cells.length) {
      const [s, k] = cells[next++]!;
      let measured: Measured;
      try {
        measured = await runCell(s, k, base, peerBase, overlayFor(s.name, k), options.cellTimeoutMs ?? 15_000);
      } catch (err) {
        measured = { outcome: 'error', detail: (err as Error).message };
      }
      const cell = toCell(platform, s.name, k, measured);
      result.results[s.name]![k] = cell;
      options.onProgress?.({ done: ++done, total: cells.length, scenario: s.name, kind: k, cell });
      options.onUpdate?.(result);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, cells.length) }, worker));
  } finally {
    for (const f of lowerFiles) rmSync(f, { force: true });
    const note = await removeDir(base, options.cleanupTimeoutMs ?? 10_000);
    if (note) result.notes.push(note);
  }
  // Keep kind columns in the requested order inside each row.
  for (const s of scenarios) {
    const row = result.results[s.name]!;
    result.results[s.name] = Object.fromEntries(kinds.filter((k) => row[k]).map((k) => [k, row[k]!]));
  }
  result.complete = true;
  options.onUpdate?.(result);
  return result;
}
