/**
 * What every scenario gets (a controller, the kind under test, the holder's and the
 * contender's paths) and small helpers that turn locker reports into outcomes.
 * @packageDocumentation
 */
import { join } from 'node:path';
import type { Controller, Locker, LockerType } from '../controller.js';
import type { Report } from '../locker.js';
import type { LabKind, OutcomeToken, ScenarioName } from '../types.js';

export type { Locker } from '../controller.js';

/** The context of one matrix cell. */
export interface CellContext {
  /** The kind under test (the column). */
  kind: LabKind;
  /** Owns this cell's lockers; disposed by the matrix runner. */
  controller: Controller;
  /** A file of this cell as the holder opens it (under `dir`). */
  file(name?: string): string;
  /** The same file as the contender opens it (under `peerDir` when given, else `dir`). */
  peerFile(name?: string): string;
  /** `matrix --copy-up` on an overlay mount: where this cell may make lower-layer files. */
  overlay: OverlayCell | null;
}

/** Paths of one overlay cell: a file made in the lower layer, seen through the overlay. */
export interface OverlayCell {
  /** The file in the lower layer directory itself (the lab creates it before the overlay looks it up). */
  lower: string;
  /** The same file as the overlay shows it (under `dir`). */
  merged: string;
  /** Where the overlay puts it once copied up (the upper layer), or null for a read-only overlay. */
  upper: string | null;
}

/** The contender never saw the holder's lock: the row's question cannot be answered here. */
export class NotVisibleError extends Error {
  override get name(): string {
    return 'NotVisibleError';
  }
}

/** errno values by which a filesystem says "no locks here" (fcntl(2) ENOLCK, flock(2) EOPNOTSUPP...). */
export const UNSUPPORTED_CODES: ReadonlySet<string> = new Set(['ENOLCK', 'EOPNOTSUPP', 'ENOTSUP', 'ENOSYS']);

/** The filesystem refused a lock call as unsupported. */
export class UnsupportedError extends Error {
  /** The errno name. */
  readonly errno: string;
  /** @param errno - the errno name; @param message - the steps so far. */
  constructor(errno: string, message: string) {
    super(message);
    this.errno = errno;
  }
  override get name(): string {
    return 'UnsupportedError';
  }
}

function checkUnsupported(l: Locker, r: Report): void {
  if (r.result === 'error' && r.code !== undefined && UNSUPPORTED_CODES.has(r.code))
    throw new UnsupportedError(r.code, `${say(l, r)}${r.message ? ` (${r.message})` : ''}`);
}

/** What an experiment measured. */
export interface Measured {
  /** The token it observed. */
  outcome: OutcomeToken;
  /** The steps and raw results behind it. */
  detail: string;
  /** For `unsupported`: the errno. */
  errno?: string;
}

/** One scenario: a name from the fixed list and an experiment per kind. */
export interface Scenario {
  /** Fixed name (one of SCENARIO_TOKENS in types.ts). */
  name: ScenarioName;
  /** What it measures, in one sentence (for docs and `syslocks-lab scenarios`). */
  summary: string;
  /** Runs the experiment for `ctx.kind` with real processes, threads and files. */
  run(ctx: CellContext): Promise<Measured>;
}

/** Builds a cell context for `dir`/`peerDir` and a per-cell subdirectory name. */
export function cellContext(
  kind: LabKind,
  controller: Controller,
  dir: string,
  peerDir: string | null,
  sub: string,
  overlay: OverlayCell | null = null,
): CellContext {
  return {
    kind,
    controller,
    file: (name = 'f') => join(dir, sub, name),
    peerFile: (name = 'f') => join(peerDir ?? dir, sub, name),
    overlay,
  };
}

/** Starts the holder (side A, `dir`) locker. */
export function holder(
  ctx: CellContext,
  opts: { kind?: LabKind; file?: string; type?: LockerType } = {},
): Promise<Locker> {
  return ctx.controller.start({
    file: opts.file ?? ctx.file(),
    kind: opts.kind ?? ctx.kind,
    type: opts.type ?? 'process',
    name: 'A',
  });
}

/** Starts the contender (side B, `peerDir`) locker. */
export function contender(
  ctx: CellContext,
  opts: { kind?: LabKind; file?: string; type?: LockerType; name?: string } = {},
): Promise<Locker> {
  return ctx.controller.start({
    file: opts.file ?? ctx.peerFile(),
    kind: opts.kind ?? ctx.kind,
    type: opts.type ?? 'process',
    name: opts.name ?? 'B',
  });
}

/** One report in words: `A(1234) lock write: granted`. */
export function say(l: Locker, r: Report): string {
  const who = l.type === 'thread' ? `${l.name}(pid ${r.pid} thread ${r.threadId})` : `${l.name}(pid ${r.pid})`;
  const extra = r.code && r.result !== 'conflict' ? ` ${r.code}` : '';
  const data = r.data && Object.keys(r.data).length ? ` ${JSON.stringify(r.data)}` : '';
  return `${who} ${r.cmd}: ${r.result}${extra}${data}`;
}

/** Sends a command that must succeed (granted/released/done...); throws with the report otherwise. */
export async function must(
  l: Locker,
  command: string,
  log: string[],
  ok: readonly string[] = ['granted', 'released', 'done'],
): Promise<Report> {
  const r = await l.send(command);
  log.push(say(l, r));
  checkUnsupported(l, r);
  if (!ok.includes(r.result)) throw new Error(`setup step failed: ${say(l, r)}${r.message ? ` (${r.message})` : ''}`);
  return r;
}

/** Sends a command and logs it, whatever the result. */
export async function step(l: Locker, command: string, log: string[], timeoutMs?: number): Promise<Report> {
  const r = await l.send(command, timeoutMs);
  log.push(say(l, r));
  return r;
}

/** `conflict` / `granted` from a try-lock report; throws on any other result. */
export function contention(r: Report): 'conflict' | 'granted' {
  if (r.result === 'conflict' || r.result === 'granted') return r.result;
  if (r.result === 'error' && r.code !== undefined && UNSUPPORTED_CODES.has(r.code))
    throw new UnsupportedError(r.code, `try-lock ${r.cmd}: ${r.code} ${r.message ?? ''}`.trim());
  throw new Error(`try-lock failed: ${r.cmd}: ${r.result} ${r.code ?? ''} ${r.message ?? ''}`.trim());
}

/**
 * Asks whether the lock is still held by trying a write lock from `probe`: `held` if
 * that conflicts, `released` if it is granted (the probe lets go again at once).
 */
export async function probeHeld(probe: Locker, log: string[], extra = ''): Promise<'held' | 'released'> {
  const r = await step(probe, `lock write${extra}`, log);
  const c = contention(r);
  if (c === 'granted') await must(probe, `unlock${extra}`, log);
  return c === 'conflict' ? 'held' : 'released';
}

/**
 * Checks that `probe` sees the lock under test before a row draws a verdict from its
 * disappearance: a write try-lock must conflict. If it is granted (a FUSE mount that
 * keeps locks per mount, a filesystem that ignores them), the probe lets go and the
 * cell ends as `not-visible` instead of claiming `released`.
 */
export async function mustSee(probe: Locker, log: string[], extra = ''): Promise<void> {
  if ((await probeHeld(probe, log, extra)) === 'released')
    throw new NotVisibleError(`${log.join('; ')} — ${probe.name} does not see the lock at all: nothing to measure`);
}

/**
 * Runs a range request for kind flock to show the cell is `n/a` by measurement: the
 * API refuses byte ranges for flock (flock(2) locks whole files).
 */
export async function flockRangeNA(l: Locker, command: string, log: string[]): Promise<Measured> {
  const r = await step(l, command, log);
  if (r.result === 'error' && r.code === 'ERR_INVALID_ARG_VALUE') {
    return { outcome: 'n/a', detail: `${log.join('; ')} — flock has no byte ranges (${r.message ?? ''})` };
  }
  throw new Error(`expected flock to refuse a byte range: ${say(l, r)}`);
}
