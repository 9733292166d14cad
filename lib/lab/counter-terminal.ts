/**
 * `syslocks-lab counter init|worker|verify`: the shared counter for workers started
 * separately (in several terminals, or on several hosts of a shared filesystem), as in
 * the keystore study: `init` prepares a directory, every `worker --id N` increments
 * the counter M times, and `verify` checks the final count against the per-worker
 * reports (pid, increments, time).
 *
 * Every increment is a read-modify-write under an exclusive lock on `counter.lock`:
 * read `counter.data`, add one, write a temp file, fsync, rename it over
 * `counter.data`, unlock. The rename makes each update atomic for readers; the lock
 * makes the read-modify-write atomic for writers, so no update is lost. The lock lives
 * on a separate file because the rename replaces the data file's inode (a lock on the
 * data file would stay on the old inode: SEMANTICS.md row 19).
 * @packageDocumentation
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { lock, type LockKind } from '../index.js';
import { choiceOption, intOption, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { availableKinds } from './matrix.js';
import { ALL_KINDS } from './types.js';

/** Usage of `counter init|worker|verify` (for `--help`). */
export const COUNTER_TERMINAL_USAGE = `usage: syslocks-lab counter init   --dir D [--kind flock|posix|ofd] [--force]
       syslocks-lab counter worker --dir D --id N --iterations M [--lock-timeout MS]
       syslocks-lab counter verify --dir D [--json]

A counter shared by workers started separately (one per terminal, or per host on a
shared filesystem). init writes D/counter.data = 0 and fixes the lock kind for every
worker; each worker adds M under an exclusive lock (read, +1, write a temp file,
fsync, rename over the data file, unlock) and writes D/workers/N.json; verify checks
that the counter equals the sum of the workers' increments.

  --lock-timeout MS  give up waiting for the lock after MS ms (exit 3); default:
                     env SYSLOCKS_LOCK_TIMEOUT, else 30000
`;

/** D/counter.json: what init fixed for every worker. */
interface Meta {
  kind: LockKind;
  created: string;
}

/** D/workers/N.json: one worker's report. */
export interface WorkerReport {
  /** The worker's --id. */
  id: number;
  /** Its pid. */
  pid: number;
  /** Increments asked for. */
  iterations: number;
  /** Increments done. */
  done: number;
  /** `running`, `done`, or `failed: CODE`. */
  status: string;
  /** Wall time from first lock request to last release, ms. */
  ms: number;
  /** Longest single lock wait, ms. */
  maxWaitMs: number;
}

const paths = (dir: string) => ({
  meta: join(dir, 'counter.json'),
  data: join(dir, 'counter.data'),
  lock: join(dir, 'counter.lock'),
  workers: join(dir, 'workers'),
});

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function readMeta(dir: string): Meta {
  const p = paths(dir).meta;
  if (!existsSync(p)) throw new UsageError(`${dir} is not a counter directory; run 'counter init --dir ${dir}' first`);
  return JSON.parse(readFileSync(p, 'utf8')) as Meta;
}

function dirOption(args: ParsedArgs): string {
  const dir = args.values.get('dir');
  if (!dir) throw new UsageError('--dir D is required');
  return dir;
}

function init(argv: string[]): number {
  const args = parseArgs(argv, ['dir', 'kind'], ['force']);
  const dir = dirOption(args);
  const kinds = availableKinds();
  const kind = choiceOption(args, 'kind', ALL_KINDS, kinds.includes('ofd') ? 'ofd' : (kinds[0] ?? 'flock'));
  const p = paths(dir);
  if (existsSync(p.meta) && !args.switches.has('force'))
    throw new UsageError(`${dir} is already a counter directory (use --force to reset it)`);
  mkdirSync(p.workers, { recursive: true });
  for (const f of readdirSync(p.workers))
    if (f.endsWith('.json')) renameSync(join(p.workers, f), join(p.workers, `${f}.old`));
  writeAtomic(p.data, '0\n');
  writeAtomic(p.meta, JSON.stringify({ kind, created: new Date().toISOString() } satisfies Meta) + '\n');
  process.stdout.write(`counter initialised in ${dir}: 0, lock kind ${kind} on ${p.lock}\n`);
  return 0;
}

function lockTimeout(args: ParsedArgs): number {
  if (args.values.has('lock-timeout')) return intOption(args, 'lock-timeout', 30_000, 0);
  const env = process.env['SYSLOCKS_LOCK_TIMEOUT'];
  if (env === undefined || env === '') return 30_000;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`SYSLOCKS_LOCK_TIMEOUT must be an integer >= 0 (got '${env}')`);
  return n;
}

async function worker(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['dir', 'id', 'iterations', 'lock-timeout', 'kind'], []);
  const dir = dirOption(args);
  if (!args.values.has('id')) throw new UsageError('--id N is required');
  const id = intOption(args, 'id', 1, 0);
  const iterations = intOption(args, 'iterations', 20);
  const timeout = lockTimeout(args);
  const meta = readMeta(dir);
  const k = args.values.get('kind');
  if (k !== undefined && k !== meta.kind)
    throw new UsageError(
      `--kind ${k} differs from the kind init fixed (${meta.kind}): different kinds may not exclude each other`,
    );
  const p = paths(dir);
  const reportPath = join(p.workers, `${id}.json`);
  const report: WorkerReport = { id, pid: process.pid, iterations, done: 0, status: 'running', ms: 0, maxWaitMs: 0 };
  // Claim the id atomically: a second worker with the same id would make verify's sums lie.
  try {
    writeFileSync(reportPath, JSON.stringify(report) + '\n', { flag: 'wx' });
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST')
      throw new UsageError(`worker id ${id} already ran in ${dir} (${reportPath}); use another --id`);
    throw err;
  }
  const t0 = performance.now();
  let code = 0;
  try {
    for (let i = 0; i < iterations; i++) {
      const w0 = performance.now();
      const held = await lock(p.lock, { kind: meta.kind, mode: 'exclusive', timeout });
      report.maxWaitMs = Math.max(report.maxWaitMs, performance.now() - w0);
      try {
        const value = Number(readFileSync(p.data, 'utf8').trim());
        if (!Number.isInteger(value)) throw new Error(`${p.data} does not hold an integer`);
        writeAtomic(p.data, `${value + 1}\n`);
        report.done++;
      } finally {
        held.release();
      }
    }
    report.status = 'done';
  } catch (err) {
    const c = (err as { code?: string }).code ?? 'ERROR';
    report.status = `failed: ${c}`;
    process.stderr.write(`worker ${id}: ${(err as Error).message}\n`);
    code = c === 'ETIMEDOUT' ? 3 : 1;
  }
  report.ms = Math.round(performance.now() - t0);
  report.maxWaitMs = Math.round(report.maxWaitMs);
  writeAtomic(reportPath, JSON.stringify(report) + '\n');
  process.stdout.write(
    `worker ${id} (pid ${process.pid}): ${report.done}/${iterations} increments in ${(report.ms / 1000).toFixed(2)} s, longest lock wait ${report.maxWaitMs} ms, ${report.status}\n`,
  );
  return code;
}

/** What verify found. */
export interface VerifyResult {
  /** The counter's value. */
  counter: number;
  /** Sum of the workers' increments. */
  sum: number;
  /** Lock kind. */
  kind: LockKind;
  /** Per-worker reports, by id. */
  workers: WorkerReport[];
  /** counter === sum and no worker is still running or failed. */
  exact: boolean;
}

function verify(argv: string[]): number {
  const args = parseArgs(argv, ['dir'], ['json']);
  const dir = dirOption(args);
  const meta = readMeta(dir);
  const p = paths(dir);
  const counter = Number(readFileSync(p.data, 'utf8').trim());
  const workers = readdirSync(p.workers)
    .filter((f) => /^\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(p.workers, f), 'utf8')) as WorkerReport)
    .sort((a, b) => a.id - b.id);
  const sum = workers.reduce((s, w) => s + w.done, 0);
  const exact = counter === sum && workers.every((w) => w.status === 'done');
  const r: VerifyResult = { counter, sum, kind: meta.kind, workers, exact };
  if (args.switches.has('json')) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return exact ? 0 : 1;
  }
  const lines = [
    `counter in ${dir} (lock kind ${meta.kind})`,
    '',
    '  id      pid  increments      time  longest wait  status',
  ];
  for (const w of workers)
    lines.push(
      `  ${String(w.id).padStart(2)}  ${String(w.pid).padStart(7)}  ${`${w.done}/${w.iterations}`.padStart(10)}  ${(w.ms / 1000).toFixed(2).padStart(6)} s  ${String(w.maxWaitMs).padStart(9)} ms  ${w.status}`,
    );
  lines.push(
    '',
    `counter ${counter}, workers' increments ${sum}: ${exact ? 'exact' : counter === sum ? 'incomplete' : `${sum - counter} lost`}`,
  );
  process.stdout.write(lines.join('\n') + '\n');
  return exact ? 0 : 1;
}

/** Runs `counter init|worker|verify`; resolves with the exit code. */
export async function counterTerminalCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'init') return init(rest);
  if (sub === 'worker') return worker(rest);
  if (sub === 'verify') return verify(rest);
  throw new UsageError(`unknown counter mode '${sub ?? ''}' (init, worker or verify)`);
}

/** True when `counter`'s first argument selects the multi-terminal mode. */
export function isCounterTerminal(argv: readonly string[]): boolean {
  return argv[0] === 'init' || argv[0] === 'worker' || argv[0] === 'verify';
}
