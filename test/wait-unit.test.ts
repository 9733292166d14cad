// lib/wait.ts on the calling thread, each observable a StrykerJS run found unasserted:
// a blocking lockSync() that waits and is granted when another process lets go (the
// existing tests only timed these out), a kernel error from that blocking wait
// (EDEADLK, POSIX deadlock detection across two processes), and the abort watchers a
// shared signal carries going back to none once its waits have settled.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lock, lockSync, tryLock, type LockKind } from '../dist/index.js';
import { processAgent, procLocks, until, useTempFiles, within } from './helpers.js';
import { pythonHolder } from './python.js';

const temp = useTempFiles();
// The module instance dist/index.js itself loaded (an `import` of dist/wait.js from
// here would be a second instance, with its own watcher table).
const { abortWatchersOf } = createRequire(import.meta.url)('../dist/wait.js') as typeof import('../dist/wait.js');

describe('lockSync() blocks until the holder lets go', () => {
  it.each(['flock', 'posix', 'ofd'] as LockKind[])('%s', async (kind) => {
    const f = temp();
    await pythonHolder(f, kind, 0.5);
    expect(tryLock(f, { kind })).toBeNull(); // held now: the call below has to wait
    const held = lockSync(f, { kind, timeout: 20_000 });
    expect(held.kind).toBe(kind);
    expect(
      procLocks(f)
        .filter((l) => !l.waiting)
        .map((l) => l.pid),
    ).toEqual([kind === 'ofd' ? -1 : process.pid]);
    held.release();
  });
});

it('a POSIX deadlock across two processes: lockSync() throws EDEADLK from the blocking call', async () => {
  const f = temp();
  const mine = tryLock(f, { kind: 'posix', range: { start: 0, length: 1 } })!;
  const a = await processAgent();
  await a.ok('tryLock', { path: f, options: { kind: 'posix', range: { start: 1, length: 1 } } });
  const aWaits = a.call('lock', { path: f, options: { kind: 'posix', range: { start: 0, length: 1 } } });
  await until(() => procLocks(f).some((e) => e.waiting));
  expect(() => lockSync(f, { kind: 'posix', range: { start: 1, length: 1 } })).toThrow(
    expect.objectContaining({ code: 'EDEADLK', syscall: 'fcntl(F_SETLKW)' }),
  );
  mine.release();
  expect((await within(aWaits, 'the agent was not granted after the release')).ok).toBe(true);
});

it('a signal shared by waits watches each while it waits and none once they settle', async () => {
  const f = temp();
  const a = await processAgent();
  const held = await a.ok<{ id: number }>('tryLock', { path: f, options: { kind: 'ofd' } });
  const controller = new AbortController();
  const { signal } = controller;
  const waits = [0, 1, 2].map(() => lock(f, { kind: 'ofd', mode: 'shared', signal, timeout: 20_000 }));
  await until(
    () => abortWatchersOf(signal) === 3,
    () => `watchers: ${abortWatchersOf(signal)}, waiting: ${procLocks(f).filter((l) => l.waiting).length}`,
  );
  await a.ok('release', { id: held.id });
  const locks = await within(Promise.all(waits), 'the three waits were not granted');
  expect(abortWatchersOf(signal)).toBe(0);
  for (const l of locks) l.release();
  controller.abort(); // nothing left to cancel
  expect(procLocks(f)).toEqual([]);
});
