// The matrix: JSON shape, every cell measured now (by fresh processes whose pids
// appear in the details, and cells that flip with the kind), and on this Linux
// machine every local outcome agrees with SEMANTICS.md (the expected column).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANY_ROW_TOKENS, DEFAULT_SCENARIOS, SCENARIO_TOKENS, type MatrixResult } from '../../dist/lab/types.js';
import { until, within } from '../helpers.js';
import { CLI, runCli } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lab-matrix-'));
let full: MatrixResult;
let table: string;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const json = join(dir, 'matrix.json');
  const r = await runCli(['matrix', '--kinds', 'flock,posix,ofd', '--dir', dir, '--json', json], 100_000);
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

  // Fresh pids show the lockers are new processes; that outcomes are measured is the
  // planted-lock test below.
  it('starts fresh lockers each run: details name the pids of this run, and repeated runs differ in them', async () => {
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

  // A matrix that printed the documented table would pass every test above: here the
  // kernel's answer is changed from outside (util-linux flock(1) holds an exclusive
  // flock on one cell's file before the cell runs) and that cell, and only it, must
  // report what it met. flock and fcntl locks are independent on Linux, so the posix
  // cell of the same scenario stays as documented.
  it('measures, not recites: a lock planted by flock(1) changes exactly the cell it blocks', async () => {
    const plantDir = mkdtempSync(join(dir, 'planted-'));
    const lab = spawn(
      process.execPath,
      [
        CLI,
        'matrix',
        '--kinds',
        'flock,posix',
        // Four cells run first (--jobs 1): the lock is planted while they run.
        '--scenarios',
        'lock_splitting,getlk_reports,two_processes_shared',
        '--jobs',
        '1',
        '--dir',
        plantDir,
        '--json',
        '-',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    lab.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => lab.once('close', (c) => r(c)));
    let planter: ChildProcess | undefined;
    try {
      // The lab makes every cell's directory before the first cell runs.
      let cellDir = '';
      await until(() => {
        const base = readdirSync(plantDir).find((d) => d.startsWith('syslocks-lab-'));
        cellDir = base ? join(plantDir, base, 'two_processes_shared-flock') : '';
        return cellDir !== '' && existsSync(cellDir);
      }, "the lab never made the two_processes_shared-flock cell's directory");
      planter = spawn('flock', ['-x', join(cellDir, 'f'), '-c', 'echo locked; exec sleep 120'], {
        stdio: ['ignore', 'pipe', 'inherit'],
        detached: true, // its own process group: the finally below ends flock(1) and its sleep
      });
      let planted = '';
      planter.stdout!.on('data', (d: Buffer) => (planted += d.toString()));
      await until(() => planted.includes('locked'), 'flock(1) never took its lock on the cell file');
      const code = await within(exited, 'the matrix run did not finish', 60_000);
      const m = JSON.parse(out) as MatrixResult;
      const flock = m.results.two_processes_shared!.flock!;
      const posix = m.results.two_processes_shared!.posix!;
      expect(flock.expected).toBe('granted');
      expect(flock.outcome, flock.detail).toBe('error');
      expect(flock.matches).toBe(false);
      expect(flock.detail).toMatch(/A\(pid \d+\) lock read: conflict/);
      expect(posix, posix.detail).toMatchObject({ outcome: 'granted', matches: true });
      for (const s of ['lock_splitting', 'getlk_reports'] as const)
        for (const k of ['flock', 'posix'] as const) expect(m.results[s]![k]!.matches, `${s}/${k}`).toBe(true);
      expect(code).toBe(1); // a mismatch is reported in the exit code
    } finally {
      if (planter?.pid !== undefined) {
        try {
          process.kill(-planter.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      if (lab.exitCode === null) lab.kill('SIGKILL');
    }
    // Hang protection only: the bounded waits above (20 s, 20 s, 60 s) fit inside it.
  }, 120_000);

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
