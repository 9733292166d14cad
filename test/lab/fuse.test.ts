// The matrix on a FUSE mount that keeps locks per mount (bindfs without lock
// forwarding, mounted twice: --dir through one mount, --peer-dir through the other).
// The contender never sees the holder's lock there, so the release rows must say
// `n/a (not visible)` instead of `released`; and a mount whose daemon stops
// answering during the run must still leave a table and a complete JSON behind.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatrixResult } from '../../dist/lab/types.js';
import { until, within } from '../helpers.js';
import { CLI, runCli } from './cli.js';

function hasBindfs(): boolean {
  try {
    execFileSync('bindfs', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const why =
  process.platform !== 'linux'
    ? 'not Linux'
    : !existsSync('/dev/fuse')
      ? '/dev/fuse is absent (no FUSE in this machine or container)'
      : process.getuid?.() !== 0
        ? 'mounting needs root'
        : !hasBindfs()
          ? 'bindfs is not installed (apt-get install bindfs)'
          : null;

const root = mkdtempSync(join(tmpdir(), 'lab-fuse-'));
const src = join(root, 'src');
const a = join(root, 'a');
const b = join(root, 'b');
const mounted: string[] = [];

function daemonOf(mountPoint: string): number {
  const out = execFileSync('pgrep', ['-f', `bindfs ${src} ${mountPoint}$`], { encoding: 'utf8' });
  return Number(out.trim().split('\n')[0]);
}

describe.skipIf(why !== null)(`matrix on bindfs without lock forwarding${why ? ` (skipped: ${why})` : ''}`, () => {
  beforeAll(() => {
    for (const d of [src, a, b]) mkdirSync(d);
    for (const m of [a, b]) {
      execFileSync('bindfs', [src, m]); // bindfs forwards no locks unless --enable-lock-forwarding
      mounted.push(m);
    }
  });
  afterAll(() => {
    for (const m of mounted) execFileSync('umount', ['-l', m]);
    rmSync(root, { recursive: true, force: true });
  });

  it('release, split and wait rows say n/a (not visible) where the contender never saw the lock', async () => {
    const rows = [
      'two_processes_exclusive',
      'close_other_fd_releases',
      'node_fs_read_releases',
      'holder_killed_releases',
      'other_process_unlock_noop',
      'lock_splitting',
      'bounded_wait_timeout',
      'getlk_reports',
    ];
    const json = join(root, 'm.json');
    const r = await runCli([
      'matrix',
      '--kinds',
      'posix,ofd',
      '--scenarios',
      rows.join(','),
      '--dir',
      a,
      '--peer-dir',
      b,
      '--json',
      json,
      '--md',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(json, 'utf8')) as MatrixResult;
    // The contention row is a measurement (granted: the two mounts do not exclude).
    expect(m.results.two_processes_exclusive!.posix!.outcome).toBe('granted');
    for (const row of rows.slice(1, 7))
      for (const k of ['posix', 'ofd'] as const)
        expect(m.results[row as 'lock_splitting']![k]!.outcome, `${row}/${k}`).toBe('not-visible');
    expect(m.results.getlk_reports!.posix!.outcome).toBe('invisible');
    expect(r.stdout).toContain('| close_other_fd_releases | **n/a (not visible)** ✗ (expected released)');
    // The report names both mounts precisely: FUSE, its source, its daemon.
    expect(m.fs).toBe('fuse');
    expect(m.fsInfo.source).toBe(src);
    expect(m.fsInfo.fuseDaemon?.command).toContain('bindfs');
    expect(m.peerFsInfo?.mountPoint).toBe(b);
    expect(r.stdout).toMatch(/served by pid \d+: bindfs/);
  });

  it('a daemon that stops answering mid-run: the run still ends with a table, a complete JSON and a note', async () => {
    const json = join(root, 'wedged.json');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'matrix',
        '--kinds',
        'posix',
        '--scenarios',
        'two_processes_exclusive,deadlock_detection,bounded_wait_timeout',
        '--jobs',
        '1',
        '--cell-timeout',
        '3000',
        '--dir',
        a,
        '--json',
        json,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    // The JSON appears after the first cell; then the daemon of --dir stops.
    await until(
      () => existsSync(json) || child.exitCode !== null,
      () => `the matrix did not write its JSON after the first cell (stdout: ${stdout}; stderr: ${stderr})`,
    );
    const daemon = daemonOf(a);
    process.kill(daemon, 'SIGSTOP');
    let code: number | null;
    try {
      code = await within(
        exited,
        () => `the matrix did not end after its FUSE daemon stopped answering (stdout: ${stdout}; stderr: ${stderr})`,
        35_000,
      );
    } finally {
      process.kill(daemon, 'SIGCONT');
    }
    expect(code).toBe(1); // cells that could not finish are `error`
    const m = JSON.parse(readFileSync(json, 'utf8')) as MatrixResult;
    expect(m.complete).toBe(true);
    expect(m.results.two_processes_exclusive!.posix!.outcome).toBe('conflict');
    expect(m.notes.join(' ')).toMatch(/did not finish within \d+ ms \(a wedged filesystem\?\)/);
    expect(stdout).toContain('two_processes_exclusive');
    expect(stderr).toMatch(/note: cleanup of .* did not finish/);
    // Hang protection only: the bounded waits above (20 s, 35 s) fit inside it.
  }, 90_000);
});
