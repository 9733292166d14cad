// holders(): real owners for every kind, where F_GETLK and /proc/locks fall short.
import { spawn } from 'node:child_process';
import { closeSync, openSync, constants } from 'node:fs';
import { expect, it } from 'vitest';
import { holders, lock, tryLock } from '../dist/index.js';
import { procLocks, processAgent, until, useTempFiles, within } from './helpers.js';

// Temp files and agents of each test are removed after it.
const file = useTempFiles();

it('an OFD holder is named by pid and command, though /proc/locks shows -1', async () => {
  const f = file();
  const a = await processAgent();
  await a.ok('tryLock', { path: f, options: { kind: 'ofd', mode: 'shared', range: { start: 3, length: 4 } } });
  expect(procLocks(f)[0]!.pid).toBe(-1);
  const h = holders(f);
  expect(h).toEqual([
    {
      pid: a.pid,
      command: expect.stringContaining('agent.mjs'),
      kind: 'ofd',
      mode: 'shared',
      start: 3n,
      length: 4n,
      waiting: false,
    },
  ]);
});

it('a flock handed to a child is attributed to the child, not to the parent that placed it', async () => {
  const f = file();
  const fd = openSync(f, constants.O_RDWR);
  // Not released through `l`: the child shares the open file description, and an
  // unlock through it would release the child's lock too (flock(2)).
  expect(tryLock(fd, { kind: 'flock' })).not.toBeNull();
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
    stdio: ['ignore', 'ignore', 'ignore', fd],
  });
  await until(() => child.pid !== undefined);
  closeSync(fd);
  await until(() => holders(f).every((h) => h.pid === child.pid));
  expect(procLocks(f)[0]!.pid).toBe(process.pid); // /proc/locks keeps the placer's pid
  expect(holders(f)).toMatchObject([{ pid: child.pid, kind: 'flock', mode: 'exclusive' }]);
  child.kill('SIGKILL');
  await until(() => holders(f).length === 0);
});

it('POSIX holders and waiters', async () => {
  const f = file();
  const a = await processAgent();
  await a.ok('tryLock', { path: f, options: { kind: 'posix' } });
  const waiting = lock(f, { kind: 'posix', timeout: 5000 });
  await until(() => holders(f).some((h) => h.waiting));
  expect(holders(f)).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ pid: a.pid, kind: 'posix', waiting: false }),
      expect.objectContaining({ pid: process.pid, kind: 'posix', waiting: true }),
    ]),
  );
  await a.kill();
  (await within(waiting, 'lock() was not granted after the POSIX holder was killed')).release();
  expect(holders(f)).toEqual([]);
});
