// Picking the right line when a file carries several locks (lib/holders.ts, survivors of
// a StrykerJS run whose scenes had one holder each): getLock() names the OFD holder of
// the conflicting range, not of another; a timeout names the holders its range really
// overlaps (half-open ranges, both boundaries), never a waiter, never the asker's own
// POSIX lock; getLock() for flock passes over a waiting request.
import { describe, expect, it } from 'vitest';
import { getLock, lockSync, tryLock, type LockError } from '../dist/index.js';
import { processAgent, procLocks, thrown, until, useTempFiles } from './helpers.js';

const temp = useTempFiles();

/** The pids a timed-out wait for `range` names as holders. */
function namedBy(f: string, kind: 'ofd' | 'posix', start: number, length: number): number[] {
  const err = thrown(() => lockSync(f, { kind, range: { start, length }, timeout: 10 })) as LockError;
  expect(err.code).toBe('ETIMEDOUT');
  return err.holders!.map((h) => h.pid).sort();
}

describe('two OFD holders of neighbouring ranges, [0, 10) and [20, 30)', () => {
  it('getLock names the holder of the range asked about; a timeout names those its range overlaps', async () => {
    const f = temp();
    const [a, b] = [await processAgent(), await processAgent()];
    await a.ok('tryLock', { path: f, options: { kind: 'ofd', mode: 'shared', range: { start: 0, length: 10 } } });
    await b.ok('tryLock', { path: f, options: { kind: 'ofd', mode: 'shared', range: { start: 20, length: 10 } } });
    // F_OFD_GETLK says -1 for both; /proc tells them apart by their lines.
    expect(getLock(f, { kind: 'ofd', range: { start: 0, length: 10 } })).toMatchObject({ pid: a.pid, start: 0n });
    expect(getLock(f, { kind: 'ofd', range: { start: 20, length: 10 } })).toMatchObject({ pid: b.pid, start: 20n });
    expect(namedBy(f, 'ofd', 9, 11)).toEqual([a.pid]); // [9, 20): A's last byte, up to B
    expect(namedBy(f, 'ofd', 10, 11)).toEqual([b.pid]); // [10, 21): from A's end, B's first byte
    expect(namedBy(f, 'ofd', 5, 20)).toEqual([a.pid, b.pid].sort());
  });
});

it("a POSIX timeout names the other process's lock, not the asker's own", async () => {
  const f = temp();
  const mine = tryLock(f, { kind: 'posix', range: { start: 0, length: 10 } })!;
  const other = await processAgent();
  await other.ok('tryLock', { path: f, options: { kind: 'posix', range: { start: 20, length: 10 } } });
  expect(namedBy(f, 'posix', 0, 30)).toEqual([other.pid]);
  mine.release();
});

it('flock: getLock and a timeout pass over a waiting request', async () => {
  const f = temp();
  const [holder, waiter] = [await processAgent(), await processAgent()];
  await holder.ok('tryLock', { path: f, options: { kind: 'flock', mode: 'shared' } });
  const waits = waiter.call('lock', { path: f, options: { kind: 'flock' } });
  await until(() => procLocks(f).some((l) => l.waiting), 'the exclusive flock request to wait');
  // A shared request conflicts with neither the shared holder nor a mere request.
  expect(getLock(f, { kind: 'flock', mode: 'shared' })).toBeNull();
  const err = thrown(() => lockSync(f, { kind: 'flock', timeout: 10 })) as LockError;
  expect(err.holders!.map((h) => h.pid)).toEqual([holder.pid]);
  void waits;
});
