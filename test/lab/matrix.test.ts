// The matrix: JSON shape, every cell measured now (by fresh processes whose pids
// appear in the details, and cells that flip with the kind), and on this Linux
// machine every local outcome agrees with SEMANTICS.md (the expected column).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANY_ROW_TOKENS, DEFAULT_SCENARIOS, SCENARIO_TOKENS, type MatrixResult } from '../../dist/lab/types.js';
import { runCli } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lab-matrix-'));
let full: MatrixResult;
let table: string;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const json = join(dir, 'matrix.json');
  const r = await runCli(['matrix', '--kinds', 'flock,posix,ofd', '--dir', dir, '--json', json]);
  table = r.stdout;
  expect(r.stderr).toBe(''); // not a TTY: no live line, no colour
  expect(r.code, r.stdout + r.stderr).toBe(0);
  full = JSON.parse(readFileSync(json, 'utf8')) as MatrixResult;
}, 120_000);

describe.skipIf(process.platform !== 'linux')('matrix on this machine', () => {
  it('has the JSON shape of issue 6', () => {
    expect(Object.keys(full).sort()).toEqual(
      [
        'complete',
        'date',
        'dir',
        'fs',
        'fsInfo',
        'kernel',
        'kernelVersion',
        'node',
        'notes',
        'peerDir',
        'peerFsInfo',
        'platform',
        'results',
        'syslocks',
      ].sort(),
    );
    expect(full.platform).toBe('linux');
    expect(full.complete).toBe(true);
    expect(full.notes).toEqual([]);
    expect(full.node).toBe(process.version);
    expect(full.fsInfo.type).toBe(full.fs);
    expect(full.fsInfo.mountPoint).toMatch(/^\//);
    expect(full.fsInfo.options).toMatch(/\b(rw|ro)\b/);
    expect(full.dir).toBe(dir);
    expect(full.peerDir).toBeNull();
    expect(full.fs).toMatch(/\w/);
    expect(Object.keys(full.results)).toEqual(DEFAULT_SCENARIOS);
    for (const name of DEFAULT_SCENARIOS) {
      const row = full.results[name]!;
      expect(Object.keys(row)).toEqual(['flock', 'posix', 'ofd']);
      for (const cell of Object.values(row)) {
        expect(Object.keys(cell).sort()).toEqual(['detail', 'expected', 'matches', 'outcome']);
        expect([...SCENARIO_TOKENS[name], ...ANY_ROW_TOKENS] as readonly string[]).toContain(cell.outcome);
        expect(cell.detail.length).toBeGreaterThan(0);
        expect(typeof cell.matches).toBe('boolean');
      }
    }
  });

  it('agrees with SEMANTICS.md for every local cell (mismatches listed explicitly)', () => {
    const mismatches = Object.entries(full.results).flatMap(([s, row]) =>
      Object.entries(row!)
        .filter(([, c]) => !c.matches)
        .map(([k, c]) => `${s}/${k}: measured ${c.outcome}, expected ${c.expected}: ${c.detail}`),
    );
    expect(mismatches).toEqual([]);
    expect(table).toContain(
      `${DEFAULT_SCENARIOS.length * 3}/${DEFAULT_SCENARIOS.length * 3} cells match the documented semantics`,
    );
    // Not a TTY: the table is laid out for 80 columns.
    for (const line of table.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('measures each cell now: details name the pids of this run, and repeated runs differ in them', async () => {
    const pidsOf = (m: MatrixResult): string[] =>
      Object.values(m.results).flatMap((row) =>
        Object.values(row!).flatMap((c) => [...c.detail.matchAll(/pid (\d+)/g)].map((x) => x[1]!)),
      );
    const again = await runCli([
      'matrix',
      '--kinds',
      'flock,posix,ofd',
      '--scenarios',
      'two_processes_exclusive,getlk_reports',
      '--json',
      '-',
    ]);
    const second = JSON.parse(again.stdout) as MatrixResult;
    const first = new Set(pidsOf(full));
    const fresh = pidsOf(second);
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.filter((p) => first.has(p))).toEqual([]);
    // getlk_reports/posix must report the pid of this run's holder, not a stored one.
    const cell = second.results.getlk_reports!.posix!;
    expect(cell.outcome).toBe('pid');
    expect(cell.detail).toMatch(/the holder's pid is (\d+)/);
  });

  it('a different kind (different kernel behaviour) changes cells: same experiment, different outcome', async () => {
    const flips = [
      'same_process_two_fds',
      'threads_two_fds',
      'close_other_fd_releases',
      'node_fs_read_releases',
      'upgrade_shared_to_exclusive_atomic',
    ];
    const run = async (kind: string): Promise<MatrixResult> => {
      const r = await runCli(['matrix', '--kinds', kind, '--scenarios', flips.join(','), '--json', '-']);
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as MatrixResult;
    };
    const [posix, ofd, flock] = await Promise.all([run('posix'), run('ofd'), run('flock')]);
    const outcome = (m: MatrixResult, s: string, k: string): string | undefined =>
      (m.results as Record<string, Record<string, { outcome: string }>>)[s]?.[k]?.outcome;
    for (const s of flips.slice(0, 2)) {
      expect(outcome(posix, s, 'posix')).toBe('granted');
      expect(outcome(ofd, s, 'ofd')).toBe('conflict');
    }
    for (const s of flips.slice(2, 4)) {
      expect(outcome(posix, s, 'posix')).toBe('released');
      expect(outcome(ofd, s, 'ofd')).toBe('held');
    }
    expect(outcome(flock, flips[4]!, 'flock')).toBe('not-atomic');
    expect(outcome(ofd, flips[4]!, 'ofd')).toBe('atomic');
  });

  it('--md prints a Markdown table', async () => {
    const r = await runCli(['matrix', '--kinds', 'posix,ofd', '--scenarios', 'lock_splitting', '--md']);
    expect(r.stdout).toContain('| scenario | posix | ofd |');
    expect(r.stdout).toContain('| lock_splitting | split | split |');
  });
});
