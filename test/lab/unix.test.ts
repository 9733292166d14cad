// The lab as a careful Unix tool: every subcommand's --help, `try` never creates a
// file, a closed stdout ends quietly, the JSON says where and when it was measured,
// the exit code does not depend on the output form, and counts and durations are
// bounded with a clear error.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { within } from '../helpers.js';
import { CLI, runCli, startCli } from './cli.js';

const COMMANDS = ['matrix', 'hold', 'try', 'race', 'counter', 'scenarios'];
const work = mkdtempSync(join(tmpdir(), 'lab-unix-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('help', () => {
  it.each(COMMANDS)('%s --help and -h: usage on stdout, exit 0, nothing run', async (cmd) => {
    for (const flag of ['--help', '-h']) {
      const r = await runCli([cmd, flag], 30_000, { cwd: work });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^usage: syslocks-lab ${cmd}\\b`));
    }
  });

  it('the overview names every command and how to get its help', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    expect(r.stdout).toContain('COMMAND --help');
  });
});

describe.skipIf(process.platform === 'win32')('try never creates the file it asks about', () => {
  it('try typo.lock: "no such file", exit 2, no file made', async () => {
    const r = await runCli(['try', 'typo.lock'], 30_000, { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/typo\.lock: no such file/);
    expect(existsSync(join(work, 'typo.lock'))).toBe(false);
  });

  it('try -h is help, and -x is an unknown option, never a file name', async () => {
    await runCli(['try', '-h'], 30_000, { cwd: work });
    const r = await runCli(['try', '-x'], 30_000, { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option -x/);
    expect(existsSync(join(work, '-h'))).toBe(false);
    expect(existsSync(join(work, '-x'))).toBe(false);
  });

  it('an existing file is still tried (and a name starting with - works after --)', async () => {
    writeFileSync(join(work, '-odd'), '');
    const r = await runCli(['try', '--kind', 'ofd', '--', '-odd'], 30_000, { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^granted: exclusive ofd lock on -odd/);
  });
});

describe.skipIf(process.platform === 'win32')('a closed stdout (| head) ends the run quietly', () => {
  it('reader gone before the first write: no stack trace, exit 141 like SIGPIPE', async () => {
    const child = spawn(process.execPath, [CLI, 'scenarios'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reading end closes: every write gets EPIPE
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await within(
      new Promise<number | null>((r) => child.on('close', (c) => r(c))),
      () => `scenarios did not exit after its stdout closed (stderr: ${stderr})`,
    );
    expect(stderr).toBe('');
    expect(code).toBe(141);
  });

  it('scenarios | head -1 through a shell: one line, nothing on stderr', async () => {
    const child = spawn('sh', ['-c', `"${process.execPath}" "${CLI}" scenarios | head -1`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await within(
      new Promise((r) => child.on('close', r)),
      () => `scenarios | head -1 did not end (stdout: ${out}; stderr: ${err})`,
    );
    expect(out).toBe('two_processes_exclusive\n');
    expect(err).toBe('');
  });
});

describe.skipIf(process.platform !== 'linux')('--json says where and when', () => {
  it('counter --json: syslocks, Node and kernel versions, date, filesystem of --dir', async () => {
    const r = await runCli(['counter', '--workers', '2', '--iterations', '5', '--dir', work, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown> & {
      fsInfo: { type: string; options: string; mountPoint: string };
    };
    expect(j['syslocks']).toMatch(/^\d+\.\d+\.\d+/);
    expect(j['node']).toBe(process.version);
    expect(j['kernel']).toBe(release());
    expect(Date.now() - Date.parse(j['date'] as string)).toBeGreaterThanOrEqual(0);
    expect(j['fsInfo'].type).toMatch(/\w/);
    expect(j['fsInfo'].options).toMatch(/\b(rw|ro)\b/);
    expect(work.startsWith(j['fsInfo'].mountPoint)).toBe(true);
  });
});

describe.skipIf(process.platform !== 'linux')('one exit code whatever the output form', () => {
  it('race: the JSON form exits 1 exactly when a result disagrees with the documented one, like the table', async () => {
    // Two worker threads under POSIX locks on a short schedule: races are expected
    // (threads share POSIX locks), but a run may or may not see one. Either way the
    // exit code must say what the output says.
    const args = [
      'race',
      '--kind',
      'posix,ofd',
      '--worker-type',
      'thread',
      '--workers',
      '2',
      '--rounds',
      '2',
      '--period',
      '1',
    ];
    for (let i = 0; i < 3; i++) {
      const j = await runCli([...args, '--json']);
      const { results } = JSON.parse(j.stdout) as {
        results: { racesExpected: boolean | null; racesSeen: number }[];
      };
      const agree = results.every((x) => x.racesExpected === null || x.racesExpected === x.racesSeen > 0);
      expect(j.code).toBe(agree ? 0 : 1);
      const t = await runCli(args);
      const rows = [...t.stdout.matchAll(/^\w+\s+(?:thread|process)\s+(races|no races|\?)\s+(\d+)\/\d+/gm)];
      expect(rows).toHaveLength(2);
      const tableAgrees = rows.every(([, exp, seen]) => exp === '?' || (exp === 'races') === Number(seen) > 0);
      expect(t.code).toBe(tableAgrees ? 0 : 1);
    }
  });

  it('matrix: a failing cell exits 1 in table, Markdown and JSON forms alike', async () => {
    const args = ['matrix', '--kinds', 'posix', '--scenarios', 'deadlock_detection', '--cell-timeout', '1000'];
    const codes = await Promise.all([runCli(args), runCli([...args, '--md']), runCli([...args, '--json', '-'])]);
    expect(codes.map((r) => r.code)).toEqual([1, 1, 1]);
  });
});

describe('counts and durations are bounded, with a clear error', () => {
  it.each([
    [['counter', '--workers', '1e3'], /--workers must be a whole number/],
    [['counter', '--workers', '1000'], /--workers must be between 1 and 64/],
    [['counter', '--iterations', '0'], /--iterations must be between 1 and/],
    [['race', '--workers', '65'], /--workers must be between 2 and 64/],
    [['matrix', '--jobs', '100'], /--jobs must be between 1 and 16/],
    [['try', 'x', '--wait', '--timeout', '3000000000'], /--timeout must be at most 2147483647/],
    [['hold', 'x', '--for', '1e400'], /--for must be a number/],
    [['hold', 'x', '--for', '99999999999'], /--for must be at most/],
  ])('%j is refused (exit 2) before anything runs', async (args, message) => {
    const r = await runCli(args as string[], 30_000, { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(existsSync(join(work, 'x'))).toBe(false);
  });

  it.skipIf(process.platform === 'win32')(
    'hold --for 3000000 holds (no TimeoutOverflowWarning, not released early) until Enter',
    async () => {
      const file = join(work, 'long.lock');
      const h = startCli(['hold', file, '--kind', 'ofd', '--for', '3000000']);
      let stderr = '';
      h.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await h.line(/^holding /);
      // An overflowing timer fires after 1 ms; give it ample time to show.
      await new Promise((r) => setTimeout(r, 1000));
      expect(h.lines.some((l) => l.startsWith('released'))).toBe(false);
      const t = await runCli(['try', '--kind', 'ofd', file]);
      expect(t.code).toBe(1); // busy: still held
      h.child.stdin.write('\n');
      expect(await within(h.exited, 'hold --for 3000000 did not exit after Enter released its lock')).toBe(0);
      expect(stderr).not.toMatch(/TimeoutOverflowWarning/);
    },
  );
});

describe('tables fit 80 columns', () => {
  it('the matrix table wraps long row names and a long overlay layer list on purpose, never past 80', async () => {
    const { formatTable } = await import('../../dist/lab/report.js');
    const { DEFAULT_SCENARIOS } = await import('../../dist/lab/types.js');
    const cell = (outcome: string, expected: string) => ({
      outcome,
      expected,
      matches: outcome === expected,
      detail: `A(pid 1) lock write: granted; B(pid 2) lock write: granted ${'and more words '.repeat(12)}`,
    });
    const results = Object.fromEntries(
      DEFAULT_SCENARIOS.map((s) => [
        s,
        {
          flock: cell('new-file-unlocked', 'new-file-unlocked'),
          posix: cell('not-visible', 'released'),
          ofd: cell('error', 'held'),
        },
      ]),
    );
    const lower = Array.from({ length: 12 }, (_, i) => `/var/lib/docker/overlay2/l/LAYER${i}XXXXXXXXXXXX`).join(':');
    const m = {
      platform: 'linux',
      kernel: release(),
      kernelVersion: '#1',
      syslocks: '0.1.0',
      node: process.version,
      date: new Date().toISOString(),
      fs: 'overlay',
      fsInfo: {
        type: 'overlay',
        mountPoint: '/',
        source: 'overlay',
        options: 'rw,relatime',
        superOptions: `rw,lowerdir=${lower},upperdir=/u,workdir=/w`,
        root: '/',
      },
      dir: '/tmp/x',
      peerDir: null,
      peerFsInfo: null,
      complete: true,
      notes: [`cleanup of /tmp/x/${'y'.repeat(120)} did not finish within 10000 ms`],
      results,
    };
    const table = formatTable(m as never, false, 1000, 80);
    for (const line of table.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(table).toContain('n/a (not visible) ✗');
  });
});
