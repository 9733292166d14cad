// Matrix cells whose contender is a program nobody here wrote: python3's fcntl module
// (flock, lockf, OFD through fcntl.fcntl), util-linux flock(1) and the sqlite3 shell.
// Each cell runs live processes of the tool in both directions; a missing tool gives a
// `skipped (no TOOL)` cell, never a crash.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MatrixResult } from '../../dist/lab/types.js';
import { runCli } from './cli.js';

const ROWS = [
  'python_flock_contender',
  'python_lockf_contender',
  'python_ofd_contender',
  'flock1_contender',
  'sqlite3_contender',
] as const;
const dir = mkdtempSync(join(tmpdir(), 'syslocks-outside-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const has = (cmd: string, ...args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

describe.skipIf(process.platform !== 'linux')('outside contenders', () => {
  it('python3, flock(1) and sqlite3 against each kind, measured in both directions', async () => {
    const json = join(dir, 'm.json');
    const r = await runCli(
      ['matrix', '--kinds', 'flock,posix,ofd', '--scenarios', ROWS.join(','), '--dir', dir, '--json', json],
      240_000,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(json, 'utf8')) as MatrixResult;
    const outcome = (row: (typeof ROWS)[number]) =>
      Object.fromEntries(Object.entries(m.results[row]!).map(([k, c]) => [k, c.outcome]));
    // What Linux does on a local filesystem: flock(2) locks (python flock, flock(1)) and
    // fcntl locks (lockf = POSIX, F_OFD_SETLK, sqlite3's POSIX byte ranges) do not see
    // each other; within each family, locks of two processes exclude each other.
    const flockFamily = { flock: 'conflict', posix: 'granted', ofd: 'granted' };
    const fcntlFamily = { flock: 'granted', posix: 'conflict', ofd: 'conflict' };
    const py = has('python3', '-c', 'import fcntl');
    expect(outcome('python_flock_contender')).toEqual(
      py ? flockFamily : { flock: 'skipped', posix: 'skipped', ofd: 'skipped' },
    );
    if (py) {
      expect(outcome('python_lockf_contender')).toEqual(fcntlFamily);
      expect(outcome('python_ofd_contender')).toEqual(fcntlFamily);
    }
    if (has('flock', '--version')) expect(outcome('flock1_contender')).toEqual(flockFamily);
    if (has('sqlite3', '-version')) expect(outcome('sqlite3_contender')).toEqual(fcntlFamily);
    else expect(outcome('sqlite3_contender')).toEqual({ flock: 'skipped', posix: 'skipped', ofd: 'skipped' });
    // Live processes: the tool's holder and its try are processes other than the syslocks locker.
    if (py) {
      const d = m.results.python_ofd_contender!.posix!.detail;
      const [, toolPid, ourPid, tryPid] =
        /F_OFD_SETLK, F_WRLCK whole file\) \(pid (\d+)\) holds its lock; A\(pid (\d+)\) lock write: conflict; .*\(pid (\d+)\) try: conflict \("busy EAGAIN"\)/.exec(
          d,
        ) ?? [];
      expect(toolPid, d).toBeDefined();
      expect(new Set([toolPid, ourPid, tryPid]).size).toBe(3);
    }
  });

  it('a missing tool gives skipped (no TOOL) cells, and the run still succeeds', async () => {
    // PATH with an empty directory: no python3, flock or sqlite3 (node itself is
    // started by its full path, and so are the lockers).
    const empty = mkdtempSync(join(tmpdir(), 'syslocks-empty-path-'));
    const r = spawnSync(
      process.execPath,
      [
        new URL('../../dist/lab/cli.js', import.meta.url).pathname,
        'matrix',
        '--kinds',
        'flock,ofd',
        '--scenarios',
        'python_lockf_contender,sqlite3_contender',
        '--dir',
        dir,
      ],
      { encoding: 'utf8', env: { ...process.env, PATH: empty }, timeout: 50_000, killSignal: 'SIGKILL' },
    );
    rmSync(empty, { recursive: true, force: true });
    const hung =
      (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT'
        ? 'matrix without python3/sqlite3 did not exit within 50000 ms (killed)\n'
        : '';
    expect(r.status, hung + r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/python_lockf_contender\s+skipped \(no python3\)\s+skipped \(no python3\)/);
    expect(r.stdout).toMatch(/sqlite3_contender\s+skipped \(no sqlite3\)/);
  });
});
