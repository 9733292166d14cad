// The multi-terminal counter: `counter init`, workers started as separate processes
// (each its own `syslocks-lab counter worker`, as in separate terminals), `counter
// verify`. The count must be exact, each worker's pid and count reported, and the lock
// timeout must come from --lock-timeout or SYSLOCKS_LOCK_TIMEOUT.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { within } from '../helpers.js';
import { CLI, runCli, startCli } from './cli.js';

const base = mkdtempSync(join(tmpdir(), 'syslocks-counter-terminal-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

interface Verify {
  counter: number;
  sum: number;
  kind: string;
  exact: boolean;
  workers: { id: number; pid: number; iterations: number; done: number; status: string }[];
}

function worker(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CLI, 'counter', 'worker', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    pid: child.pid!,
    // Bounded from the spawn: a worker that never ends fails naming its arguments and output.
    done: within(
      new Promise<{ code: number | null; out: string }>((r) => child.on('close', (code) => r({ code, out }))),
      () => `counter worker ${args.join(' ')} ${JSON.stringify(env)} did not exit (output: ${out})`,
    ),
  };
}

describe.skipIf(process.platform !== 'linux')('counter init | worker | verify', () => {
  it.each(['ofd', 'flock', 'posix'])(
    '4 separately started %s workers x 15: exact, per-worker pid and count',
    async (kind) => {
      const dir = join(base, kind);
      const init = await runCli(['counter', 'init', '--dir', dir, '--kind', kind]);
      expect(init.code, init.stderr).toBe(0);
      const ws = [1, 2, 3, 4].map((id) => worker(['--dir', dir, '--id', String(id), '--iterations', '15']));
      const results = await Promise.all(ws.map((w) => w.done));
      for (const r of results) expect(r.code, r.out).toBe(0);
      const v = await runCli(['counter', 'verify', '--dir', dir, '--json']);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      const res = JSON.parse(v.stdout) as Verify;
      expect(res).toMatchObject({ counter: 60, sum: 60, kind, exact: true });
      expect(res.workers.map((w) => [w.id, w.pid, w.done, w.status])).toEqual(
        ws.map((w, i) => [i + 1, w.pid, 15, 'done']),
      );
      expect(readFileSync(join(dir, 'counter.data'), 'utf8')).toBe('60\n');
      const table = await runCli(['counter', 'verify', '--dir', dir]);
      expect(table.stdout).toMatch(new RegExp(`^\\s+1\\s+${ws[0]!.pid}\\s+15/15\\s`, 'm'));
      expect(table.stdout).toMatch(/counter 60, workers' increments 60: exact/);
    },
  );

  it('SYSLOCKS_LOCK_TIMEOUT and --lock-timeout bound the wait while another process holds the lock', async () => {
    const dir = join(base, 'timeout');
    expect((await runCli(['counter', 'init', '--dir', dir, '--kind', 'ofd'])).code).toBe(0);
    const holder = startCli(['hold', join(dir, 'counter.lock'), '--kind', 'ofd', '--for', '60']);
    await holder.line(/^holding exclusive ofd lock/);
    const byEnv = await worker(['--dir', dir, '--id', '1', '--iterations', '5'], { SYSLOCKS_LOCK_TIMEOUT: '300' }).done;
    expect(byEnv.code, byEnv.out).toBe(3);
    expect(byEnv.out).toMatch(/worker 1 \(pid \d+\): 0\/5 increments .* failed: ETIMEDOUT/);
    // The flag wins over the variable (a variable of 1 hour would hang the test).
    const byFlag = await worker(['--dir', dir, '--id', '2', '--iterations', '5', '--lock-timeout', '200'], {
      SYSLOCKS_LOCK_TIMEOUT: '3600000',
    }).done;
    expect(byFlag.code, byFlag.out).toBe(3);
    holder.child.stdin.write('\n');
    await within(holder.exited, 'hold did not exit after Enter released its lock');
    const v = await runCli(['counter', 'verify', '--dir', dir, '--json']);
    expect(v.code).toBe(1);
    const res = JSON.parse(v.stdout) as Verify;
    expect(res.counter).toBe(0);
    expect(res.workers.map((w) => w.status)).toEqual(['failed: ETIMEDOUT', 'failed: ETIMEDOUT']);
  });

  it('refuses a reused worker id, a kind other than init fixed, and a directory without init', async () => {
    const dir = join(base, 'refusals');
    expect((await runCli(['counter', 'init', '--dir', dir, '--kind', 'flock'])).code).toBe(0);
    expect((await worker(['--dir', dir, '--id', '7', '--iterations', '1']).done).code).toBe(0);
    const again = await worker(['--dir', dir, '--id', '7', '--iterations', '1']).done;
    expect(again.code).toBe(2);
    expect(again.out).toMatch(/worker id 7 already ran/);
    const kind = await worker(['--dir', dir, '--id', '8', '--iterations', '1', '--kind', 'posix']).done;
    expect(kind.code).toBe(2);
    expect(kind.out).toMatch(/differs from the kind init fixed \(flock\)/);
    const none = await worker(['--dir', join(base, 'nothing'), '--id', '1', '--iterations', '1']).done;
    expect(none.code).toBe(2);
    expect(none.out).toMatch(/not a counter directory/);
    const v = await runCli(['counter', 'verify', '--dir', dir, '--json']);
    expect(JSON.parse(v.stdout)).toMatchObject({ counter: 1, sum: 1, exact: true });
  });
});
