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
  throughput: number;
}

describe.skipIf(process.platform !== 'linux')('counter', () => {
  it.each(['flock', 'posix', 'ofd'])('8 processes under a %s lock: exactly N x M', async (kind) => {
    const r = await runCli(['counter', '--workers', '8', '--iterations', '50', '--kind', kind, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as CounterJson;
    expect(c).toMatchObject({ kind, workers: 8, iterations: 50, expected: 400, final: 400, lost: 0 });
    expect(c.throughput).toBeGreaterThan(0);
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
  it('posix + worker_threads races; posix processes, ofd and flock (threads and processes) do not', async () => {
    const r = await runCli([
      'race',
      '--workers',
      '4',
      '--kind',
      'posix,ofd,flock',
      '--worker-type',
      'thread,process',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { results, node, date } = JSON.parse(r.stdout) as { results: RaceJson[]; node: string; date: string };
    expect(node).toBe(process.version);
    expect(Date.parse(date)).toBeGreaterThan(0);
    expect(results).toHaveLength(6);
    for (const x of results) {
      expect(x.accesses).toBe(40);
      if (x.kind === 'posix' && x.workerType === 'thread') {
        expect(x.racesExpected).toBe(true);
        expect(x.racesSeen).toBeGreaterThan(0);
      } else {
        expect(x.racesExpected).toBe(false);
        expect(x.racesSeen, `${x.kind}/${x.workerType}`).toBe(0);
      }
    }
  });

  it('the table form exits 0 when seen matches expected', async () => {
    const r = await runCli(['race', '--workers', '3', '--kind', 'posix', '--worker-type', 'thread', '--rounds', '5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/posix\s+thread\s+yes\s+[1-9]\d*\/15/);
  });
});
