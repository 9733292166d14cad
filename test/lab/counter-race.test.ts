// counter is exact with every kind and 8 processes, and loses updates without a
// lock; race sees races only for POSIX locks between worker threads.
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

interface CounterJson {
  kind: string;
  workers: number;
  iterations: number;
  expected: number;
  final: number;
  lost: number;
  durationMs: number;
  throughput: number;
}

describe.skipIf(process.platform !== 'linux')('counter', () => {
  it.each(['flock', 'posix', 'ofd'])('8 processes under a %s lock: exactly N x M', async (kind) => {
    const t0 = performance.now();
    const r = await runCli(['counter', '--workers', '8', '--iterations', '50', '--kind', kind, '--json']);
    const wallMs = performance.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as CounterJson;
    expect(c).toMatchObject({ kind, workers: 8, iterations: 50, expected: 400, final: 400, lost: 0 });
    // The duration is measured inside the run (so it cannot exceed the run as seen from
    // here) and the throughput is derived from it; rounding to whole ms and whole
    // increments/s is the only slack. Not a speed limit: only consistency is checked.
    expect(c.durationMs).toBeGreaterThan(0);
    expect(c.durationMs).toBeLessThanOrEqual(wallMs);
    const lo = (c.expected / (c.durationMs + 0.5)) * 1000;
    const hi = (c.expected / Math.max(c.durationMs - 0.5, 0.001)) * 1000;
    expect(c.throughput).toBeGreaterThanOrEqual(Math.floor(lo));
    expect(c.throughput).toBeLessThanOrEqual(Math.ceil(hi));
  });

  it('--no-lock loses updates and exits non-zero', async () => {
    const r = await runCli(['counter', '--workers', '8', '--iterations', '200', '--no-lock', '--json']);
    expect(r.code).toBe(1);
    const c = JSON.parse(r.stdout) as CounterJson;
    expect(c.kind).toBe('none');
    expect(c.final).toBeLessThan(8 * 200);
    expect(c.lost).toBeGreaterThan(0);
  });
});

interface RaceJson {
  kind: string;
  workerType: string;
  accesses: number;
  racesSeen: number;
  racesExpected: boolean | null;
}

describe.skipIf(process.platform !== 'linux')('race', () => {
  it('the table form exits 0 when seen matches expected', async () => {
    const r = await runCli(['race', '--workers', '3', '--kind', 'posix', '--worker-type', 'thread', '--rounds', '5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/posix\s+thread\s+races\s+[1-9]\d*\/15/);
  });

  // The cache study's six combinations and more: no lock, the in-process mutex and each
  // OS kind, with thread and process workers. Races are counted, not looked up: where a
  // race is expected the count must be > 0 (and below every access: the last writer of
  // each round reads its own record back), elsewhere exactly 0.
  it('race --all: races for none, mutex across processes and posix across threads; none elsewhere', async () => {
    const r = await runCli(['race', '--all', '--rounds', '5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { results, node, date } = JSON.parse(r.stdout) as {
      results: (RaceJson & { example?: string })[];
      node: string;
      date: string;
    };
    expect(node).toBe(process.version);
    expect(Date.parse(date)).toBeGreaterThan(0);
    const got = results.map((x) => `${x.kind}/${x.workerType}`);
    expect(got).toEqual([
      'none/thread',
      'none/process',
      'mutex/thread',
      'mutex/process',
      'flock/thread',
      'flock/process',
      'posix/thread',
      'posix/process',
      'ofd/thread',
      'ofd/process',
    ]);
    const racing = new Set(['none/thread', 'none/process', 'mutex/process', 'posix/thread']);
    for (const x of results) {
      const name = `${x.kind}/${x.workerType}`;
      expect(x.accesses).toBe(20);
      expect(x.racesExpected, name).toBe(racing.has(name));
      if (racing.has(name)) {
        expect(x.racesSeen, name).toBeGreaterThan(0);
        expect(x.racesSeen, name).toBeLessThan(x.accesses);
        expect(x.example, name).toMatch(/^pid \d+ thread \d+ read back the record of pid \d+ thread \d+$/);
      } else {
        expect(x.racesSeen, name).toBe(0);
      }
    }
  });

  it('--all prints expected vs measured per lock and worker type; --force-write keeps the verdicts', async () => {
    const r = await runCli(['race', '--lock', 'mutex,ofd', '--rounds', '3', '--workers', '3', '--force-write']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/forced write order/);
    expect(r.stdout).toMatch(/^mutex\s+thread\s+no races\s+0\/9/m);
    expect(r.stdout).toMatch(/^mutex\s+process\s+races\s+[1-9]\d*\/9/m);
    expect(r.stdout).toMatch(/^ofd\s+process\s+no races\s+0\/9/m);
  });
});
