/**
 * `syslocks-lab counter`: N processes increment one counter file M times each under
 * the lock (the data is replaced by rename; the lock lives on a separate lock file,
 * so replacing the data never touches the lock). The final value must be exactly
 * N × M; with `--no-lock` it shows the lost updates the lock prevents.
 * @packageDocumentation
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { killTree, makeTempDir, removeDir, spawnTracked } from './cleanup.js';
import { createInterface } from 'node:readline';
import type { LabKind } from './types.js';

/** Where the compiled worker lives. */
export const COUNTER_WORKER = join(__dirname, 'counter-worker.js');

/** Options of {@link runCounter}. */
export interface CounterOptions {
  /** Processes. */
  workers: number;
  /** Increments per process. */
  iterations: number;
  /** Lock kind. */
  kind: LabKind;
  /** Skip the lock (to show lost updates). */
  noLock?: boolean;
  /** Directory (default: a temp dir, removed afterwards). */
  dir?: string;
  /** Bound of the whole run, ms (default 300000); children are killed after it. */
  timeoutMs?: number;
}

/** What a counter run measured. */
export interface CounterResult {
  /** Lock kind (`none` for `--no-lock`). */
  kind: LabKind | 'none';
  /** Processes. */
  workers: number;
  /** Increments per process. */
  iterations: number;
  /** workers × iterations. */
  expected: number;
  /** The counter's final value. */
  final: number;
  /** expected − final. */
  lost: number;
  /** From the common start signal until the last process finished, ms. */
  durationMs: number;
  /** Increments per second. */
  throughput: number;
}

/** Runs the counter; rejects if a worker fails or the run exceeds its bound. */
export async function runCounter(opts: CounterOptions): Promise<CounterResult> {
  const dir = makeTempDir('syslocks-counter-', opts.dir);
  const children: ChildProcessWithoutNullStreams[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const args = [
      '--dir',
      dir,
      '--kind',
      opts.kind,
      '--iterations',
      String(opts.iterations),
      ...(opts.noLock ? ['--no-lock'] : []),
    ];
    const exits: Promise<void>[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < opts.workers; i++) {
      const child = spawnTracked(process.execPath, [COUNTER_WORKER, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
      }) as ChildProcessWithoutNullStreams;
      children.push(child);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      const lines = createInterface({ input: child.stdout });
      ready.push(new Promise((resolve) => lines.once('line', () => resolve())));
      const exit = new Promise<void>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code, signal) =>
          code === 0
            ? resolve()
            : reject(new Error(`counter worker ${child.pid} failed (${signal ?? code}): ${stderr.trim()}`)),
        );
      });
      // Awaited only after the start signal; a worker dying before that (killed by a
      // signal's cleanup) must not be an unhandled rejection that crashes the lab.
      exit.catch(() => undefined);
      exits.push(exit);
    }
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`counter did not finish within ${opts.timeoutMs ?? 300_000} ms`)),
        opts.timeoutMs ?? 300_000,
      );
    });
    await Promise.race([Promise.all(ready), bound]);
    const t0 = performance.now();
    for (const c of children) c.stdin.write('go\n');
    await Promise.race([Promise.all(exits), bound]);
    const durationMs = performance.now() - t0;
    const final = Number(readFileSync(join(dir, 'counter.data'), 'utf8').trim());
    const expected = opts.workers * opts.iterations;
    return {
      kind: opts.noLock ? 'none' : opts.kind,
      workers: opts.workers,
      iterations: opts.iterations,
      expected,
      final,
      lost: expected - final,
      durationMs: Math.round(durationMs),
      throughput: Math.round((expected / durationMs) * 1000),
    };
  } finally {
    clearTimeout(timer);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) killTree(c);
    const note = await removeDir(dir);
    if (note) process.stderr.write(`syslocks-lab: ${note}\n`);
  }
}
