// POSIX record locks belong to the process (fcntl(2)): every thread's locks on a file
// merge, and any close of any fd of the file drops them all. The library's repair
// (deferred closes, restore on release) must hold across JS threads: nothing a
// worker does - a query, a busy try, a release, being terminated - may drop a POSIX
// lock the main thread holds. Witness: python3 in another process.
import { describe, expect, it } from 'vitest';
import { tryLock } from '../dist/index.js';
import { procLocks, processAgent, threadAgent, useTempFiles } from './helpers.js';
import { outsideTry } from './python.js';

const temp = useTempFiles();
const R = { start: 0, length: 10 };

/** The main thread's lock on bytes 0-9 is still there, seen from another process. */
function mainLockHeld(file: string): boolean {
  return outsideTry(file, 'fcntl', 'exclusive', 0, 10) === 'busy';
}

describe('a worker never drops the main thread’s POSIX lock', () => {
  it('getLock() by path in a worker', async () => {
    const a = temp();
    const held = tryLock(a, { kind: 'posix', range: R })!;
    const worker = await threadAgent();
    expect(await worker.ok('getLock', { path: a, options: { kind: 'posix', range: { start: 50, length: 10 } } })).toBe(
      null,
    );
    expect(mainLockHeld(a)).toBe(true);
    held.release();
  });

  it('a busy tryLock() by path in a worker', async () => {
    const a = temp();
    const other = await processAgent();
    await other.ok('fcntl', {
      fd: await other.ok<number>('open', { path: a }),
      options: { mode: 'exclusive', start: 100, length: 10 },
    });
    const held = tryLock(a, { kind: 'posix', range: R })!;
    const worker = await threadAgent();
    expect(await worker.ok('tryLock', { path: a, options: { kind: 'posix', range: { start: 100, length: 10 } } })).toBe(
      null,
    );
    expect(mainLockHeld(a)).toBe(true);
    held.release();
  });

  it('a worker’s release of an overlapping POSIX lock keeps the main thread’s bytes', async () => {
    const a = temp();
    const held = tryLock(a, { kind: 'posix', mode: 'shared', range: R })!;
    const worker = await threadAgent();
    const w = await worker.ok<{ id: number }>('tryLock', {
      path: a,
      options: { kind: 'posix', mode: 'shared', range: { start: 5, length: 20 } },
    });
    await worker.ok('release', { id: w.id });
    expect(mainLockHeld(a)).toBe(true);
    expect(outsideTry(a, 'fcntl', 'exclusive', 10, 15)).toBe('free'); // the worker's part is gone
    held.release();
    expect(outsideTry(a, 'fcntl', 'exclusive', 0, 0)).toBe('free');
  });

  it('a worker terminated while it holds a POSIX path lock', async () => {
    const a = temp();
    const held = tryLock(a, { kind: 'posix', range: R })!;
    const worker = await threadAgent();
    await worker.ok('tryLock', { path: a, options: { kind: 'posix', range: { start: 50, length: 10 } } });
    expect(outsideTry(a, 'fcntl', 'exclusive', 50, 10)).toBe('busy');
    await worker.kill(); // worker.terminate()
    expect(mainLockHeld(a)).toBe(true);
    expect(outsideTry(a, 'fcntl', 'exclusive', 50, 10)).toBe('free'); // its own lock is released
    held.release();
    expect(outsideTry(a, 'fcntl', 'exclusive', 0, 0)).toBe('free'); // and its deferred fd closed
  });
});

describe('POSIX locks of one thread that overlap', () => {
  it('a shared grant converts the overlap as fcntl(2) says; its release keeps the bytes the other lock covers', () => {
    const a = temp();
    const ex = tryLock(a, { kind: 'posix', mode: 'exclusive', range: R })!;
    const sh = tryLock(a, { kind: 'posix', mode: 'shared', range: { start: 5, length: 10 } })!;
    const state = (): string[][] =>
      procLocks(a)
        .filter((l) => l.pid === process.pid)
        .map((l) => [l.access, l.start, l.end])
        .sort((x, y) => Number(x[1]) - Number(y[1]));
    // fcntl(2): a new lock replaces the process's own on the overlap (kernel rule kept).
    expect(state()).toEqual([
      ['WRITE', '0', '4'],
      ['READ', '5', '14'],
    ]);
    sh.release(); // 0.1.0 unlocked 5-14, leaving ex with 0-4 only
    expect(state()).toEqual([
      ['WRITE', '0', '4'],
      ['READ', '5', '9'],
    ]);
    ex.release();
    expect(state()).toEqual([]);
  });
});
