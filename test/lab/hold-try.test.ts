// hold and try as two real processes, for every kind: try names the holder's pid and
// command (from /proc), shows what F_GETLK alone says, and --wait waits until the
// holder lets go.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { within } from '../helpers.js';
import { runCli, startCli, type Live } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lab-hold-try-'));
const started: Live[] = [];
afterAll(() => {
  for (const l of started) if (l.child.exitCode === null) l.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const GETLK: Record<string, RegExp> = {
  flock: /F_GETLK sees no conflicting lock/,
  posix: /F_GETLK: exclusive lock held by pid (\d+)/,
  ofd: /F_GETLK: exclusive lock held, pid -1/,
};

describe.each(['flock', 'posix', 'ofd'])('hold/try, kind %s', (kind) => {
  it('try reports busy with the holder pid and command, then --wait is granted once hold ends', async () => {
    const file = join(dir, `${kind}.lock`);
    const holder = startCli(['hold', file, '--kind', kind]);
    started.push(holder);
    const holding = await holder.line(/^holding /);
    expect(holding).toContain(`exclusive ${kind} lock on ${file}`);
    expect(holding).toContain(`as pid ${holder.child.pid}`);

    const busy = await runCli(['try', file, '--kind', kind]);
    expect(busy.code).toBe(1);
    expect(busy.stdout).toMatch(/^busy: /);
    const holderLine = busy.stdout.split('\n').find((l) => l.includes(`pid ${holder.child.pid} `));
    expect(holderLine, busy.stdout).toBeDefined();
    expect(holderLine).toContain(kind);
    expect(holderLine).toContain(`hold ${file} --kind ${kind}`);
    const getlk = GETLK[kind]!.exec(busy.stdout);
    expect(getlk, busy.stdout).not.toBeNull();
    // F_GETLK's own answer names the holder (POSIX locks have a pid), not just the /proc line above.
    if (kind === 'posix') expect(Number(getlk![1])).toBe(holder.child.pid);

    // A shared request on another kind's lock: flock and fcntl locks are independent.
    const other = await runCli(['try', file, '--kind', kind === 'flock' ? 'ofd' : 'flock']);
    expect(other.code).toBe(0);
    expect(other.stdout).toMatch(/^granted: /);

    const waiter = startCli(['try', file, '--kind', kind, '--wait', '--timeout', '30000']);
    started.push(waiter);
    await waiter.line(/^waiting for the lock/);
    holder.child.stdin.write('\n'); // Enter releases
    await holder.line(/^released after/);
    const granted = await waiter.line(/^granted after [\d.]+ s/);
    expect(granted).toContain(`${kind} lock on ${file}`);
    expect(await within(waiter.exited, 'try --wait did not exit after it was granted')).toBe(0);
    expect(await within(holder.exited, 'hold did not exit after Enter released its lock')).toBe(0);
  });
});

it('try --wait --timeout gives up with exit 3 and takes nothing', async () => {
  const file = join(dir, 'timeout.lock');
  const holder = startCli(['hold', file, '--kind', 'ofd', '--mode', 'shared', '--range', '0:10']);
  started.push(holder);
  await holder.line(/^holding shared ofd lock .*bytes 0-9/);
  const r = await runCli(['try', file, '--kind', 'ofd', '--range', '5:10', '--wait', '--timeout', '300']);
  expect(r.code).toBe(3);
  expect(r.stdout).toMatch(/timed out after [\d.]+ s; no lock taken/);
  expect((await runCli(['try', file, '--kind', 'ofd', '--range', '10:10'])).code).toBe(0); // disjoint range is free
  holder.child.kill('SIGTERM');
  expect(await within(holder.exited, 'hold did not exit on SIGTERM')).toBe(0);
});

it('usage errors exit 2', async () => {
  const r = await runCli(['try']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('try needs a FILE');
});
