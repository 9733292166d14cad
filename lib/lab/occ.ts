/**
 * `syslocks-lab occ`: optimistic concurrency against locking. N writer processes each
 * commit M transactions to one table (occ-worker.ts: a log of immutable versions,
 * committed by an atomic link(2) that fails when another writer took the version),
 * first optimistically (version check, retry with jittered backoff), then the same
 * workload under an exclusive lock. Prints commits, conflicts, retries and throughput
 * of each and checks the final table (every commit present exactly once).
 * @packageDocumentation
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LockKind } from '../index.js';
import { choiceOption, intOption, parseArgs, UsageError } from './args.js';
import { availableKinds } from './matrix.js';
import { readLatest, versionPath, type OccWorkerSummary } from './occ-table.js';
import { ALL_KINDS } from './types.js';

/** Where the compiled writer lives. */
export const OCC_WORKER = join(__dirname, 'occ-worker.js');

/** Usage of `occ` (for `--help`). */
export const OCC_USAGE = `usage: syslocks-lab occ [--writers N] [--commits M] [--work MS] [--kind K] [--mode occ|lock|both] [--dir D] [--json]

N writer processes commit M transactions each to one table: optimistically (read
version v, work, commit v+1 with an atomic link(2) that fails if another writer
took v+1; on conflict back off a random time and retry), and the same workload
under an exclusive lock of kind K. Prints commits, conflicts, retries, throughput.

  --writers N   processes (default 4)       --commits M   per writer (default 25)
  --work MS     work inside each transaction, between read and commit (default 2)
  --kind K      lock kind of the locked run (default ofd where available)
  --mode        occ, lock or both (default both)
`;

/** Options of {@link runOcc}. */
export interface OccOptions {
  /** Writer processes. */
  writers: number;
  /** Commits per writer. */
  commits: number;
  /** Optimistic or locked. */
  mode: 'occ' | 'lock';
  /** Lock kind of the locked mode. */
  kind: LockKind;
  /** Work per transaction, ms. */
  workMs?: number;
  /** Parent directory of the run's table (default: the OS temp dir); the table is removed afterwards. */
  dir?: string;
}

/** What one run measured. */
export interface OccResult {
  /** `occ` or `lock`. */
  mode: 'occ' | 'lock';
  /** Lock kind (locked mode) or null. */
  kind: LockKind | null;
  /** Writers. */
  writers: number;
  /** Commits in all. */
  commits: number;
  /** Failed version checks in all. */
  conflicts: number;
  /** Transactions that retried. */
  retried: number;
  /** Most attempts one transaction needed. */
  maxAttempts: number;
  /** Wall time, ms. */
  durationMs: number;
  /** Commits per second. */
  throughput: number;
  /** The final table holds every commit exactly once (version = total = commits, rows = per-writer commits). */
  consistent: boolean;
  /** Per writer. */
  perWriter: OccWorkerSummary[];
}

/** Runs one mode; rejects if a writer fails. Bounded: writers are killed after 5 minutes. */
export async function runOcc(opts: OccOptions): Promise<OccResult> {
  const dir = mkdtempSync(join(opts.dir ?? tmpdir(), `syslocks-occ-${opts.mode}-`));
  const children: ChildProcessWithoutNullStreams[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    mkdirSync(join(dir, 'log'));
    mkdirSync(join(dir, 'tmp'));
    writeFileSync(versionPath(dir, 0), JSON.stringify({ version: 0, rows: {}, total: 0 }) + '\n');
    const summaries: Promise<OccWorkerSummary>[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 1; i <= opts.writers; i++) {
      const child = spawn(
        process.execPath,
        [
          OCC_WORKER,
          ...['--dir', dir, '--id', String(i), '--commits', String(opts.commits), '--mode', opts.mode],
          ...['--kind', opts.kind, '--work', String(opts.workMs ?? 2)],
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      children.push(child);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      const lines = createInterface({ input: child.stdout });
      ready.push(new Promise((r) => lines.once('line', () => r())));
      summaries.push(
        new Promise((resolve, reject) => {
          let last = '';
          lines.on('line', (l) => (last = l));
          child.on('exit', (code) =>
            code === 0
              ? resolve(JSON.parse(last) as OccWorkerSummary)
              : reject(new Error(`occ writer ${i} failed: ${stderr.trim()}`)),
          );
        }),
      );
    }
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('occ did not finish within 5 minutes')), 300_000);
    });
    await Promise.race([Promise.all(ready), bound]);
    const t0 = performance.now();
    for (const c of children) c.stdin.write('go\n');
    const perWriter = await Promise.race([Promise.all(summaries), bound]);
    const durationMs = performance.now() - t0;
    const commits = perWriter.reduce((n, w) => n + w.commits, 0);
    const final = readLatest(dir, 0);
    const consistent =
      final.version === commits && final.total === commits && perWriter.every((w) => final.rows[w.id] === w.commits);
    return {
      mode: opts.mode,
      kind: opts.mode === 'lock' ? opts.kind : null,
      writers: opts.writers,
      commits,
      conflicts: perWriter.reduce((n, w) => n + w.conflicts, 0),
      retried: perWriter.reduce((n, w) => n + w.retried, 0),
      maxAttempts: Math.max(...perWriter.map((w) => w.maxAttempts)),
      durationMs: Math.round(durationMs),
      throughput: Math.round((commits / durationMs) * 1000),
      consistent,
      perWriter,
    };
  } finally {
    clearTimeout(timer);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The comparison table. */
export function formatOcc(results: readonly OccResult[], workMs: number): string {
  const first = results[0];
  const out = [
    `occ: ${first?.writers ?? 0} writers x ${first ? first.commits / first.writers : 0} commits to one table, ${workMs} ms of work per transaction`,
    '',
    'mode          commits  conflicts  retried  max tries    time  commits/s  table',
  ];
  for (const r of results)
    out.push(
      `${(r.mode === 'occ' ? 'optimistic' : `locked ${r.kind}`).padEnd(12)}  ${String(r.commits).padStart(7)}  ${String(r.conflicts).padStart(9)}  ${String(r.retried).padStart(7)}  ${String(r.maxAttempts).padStart(9)}  ${(r.durationMs / 1000).toFixed(2).padStart(5)} s  ${String(r.throughput).padStart(9)}  ${r.consistent ? 'consistent' : 'INCONSISTENT'}`,
    );
  return out.join('\n') + '\n';
}

/** Runs `occ`; resolves with the exit code (1 if a table came out inconsistent). */
export async function occCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['writers', 'commits', 'work', 'kind', 'mode', 'dir'], ['json']);
  if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const kinds = availableKinds();
  const kind = choiceOption(args, 'kind', ALL_KINDS, kinds.includes('ofd') ? 'ofd' : (kinds[0] ?? 'flock'));
  const mode = choiceOption(args, 'mode', ['occ', 'lock', 'both'] as const, 'both');
  const workMs = intOption(args, 'work', 2, 0);
  const base = {
    writers: intOption(args, 'writers', 4),
    commits: intOption(args, 'commits', 25),
    kind,
    workMs,
    ...(args.values.has('dir') ? { dir: args.values.get('dir')! } : {}),
  };
  const results: OccResult[] = [];
  for (const m of mode === 'both' ? (['occ', 'lock'] as const) : [mode])
    results.push(await runOcc({ ...base, mode: m }));
  process.stdout.write(
    args.switches.has('json') ? JSON.stringify(results, null, 2) + '\n' : formatOcc(results, workMs),
  );
  return results.every((r) => r.consistent) ? 0 : 1;
}
