// Byte ranges, splitting, length 0 and queries (SEMANTICS.md rows 8, 11, 13, 22, 24).
import { describe, expect, it } from 'vitest';
import { fcntlGetLockSync, fcntlLockSync, getLock, tryLock, type LockKind } from '../dist/index.js';
import { openSync, closeSync, constants } from 'node:fs';
import { procLocks, processAgent, useTempFiles } from './helpers.js';

// Temp files and agents of each test are removed after it.
const file = useTempFiles();

describe.each<LockKind>(['posix', 'ofd'])('byte ranges, kind %s', (kind) => {
  it('disjoint ranges are both granted; overlapping ones conflict', async () => {
    const f = file();
    const a = await processAgent();
    expect(await a.ok('tryLock', { path: f, options: { kind, range: { start: 0, length: 10 } } })).not.toBeNull();
    const disjoint = tryLock(f, { kind, range: { start: 10, length: 10 } });
    expect(disjoint).not.toBeNull();
    expect(tryLock(f, { kind, range: { start: 9, length: 2 } })).toBeNull();
    disjoint!.release();
  });

  it('unlocking the middle splits the lock: 0-39 and 60-99 stay held, 40-59 is free', async () => {
    const f = file();
    const a = await processAgent();
    const fd = await a.ok<number>('open', { path: f });
    await a.ok('fcntl', { fd, options: { mode: 'exclusive', start: 0, length: 100, ofd: kind === 'ofd' } });
    await a.ok('fcntl', { fd, options: { mode: 'unlock', start: 40, length: 20, ofd: kind === 'ofd' } });
    const entries = procLocks(f);
    expect(entries.map((e) => [e.start, e.end])).toEqual(
      expect.arrayContaining([
        ['0', '39'],
        ['60', '99'],
      ]),
    );
    expect(entries).toHaveLength(2);
    const middle = tryLock(f, { kind, range: { start: 40, length: 20 } });
    expect(middle).not.toBeNull();
    middle!.release();
    expect(tryLock(f, { kind, range: { start: 39, length: 1 } })).toBeNull();
    expect(tryLock(f, { kind, range: { start: 60, length: 1 } })).toBeNull();
  });

  it('length 0 locks to EOF and beyond: a conflict is found at 1 TiB', async () => {
    const f = file();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind, range: { start: 10, length: 0 } } });
    expect(tryLock(f, { kind, range: { start: 2 ** 40, length: 1 } })).toBeNull();
    const before = tryLock(f, { kind, range: { start: 0, length: 10 } });
    expect(before).not.toBeNull();
    before!.release();
  });

  it('offsets beyond 2^53 as bigint reach the kernel exactly', async () => {
    const f = file();
    const start = 2n ** 60n + 3n;
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind, range: { start: `${start}n`, length: '5n' } } });
    const info = getLock(f, { kind, range: { start: 2n ** 60n, length: 100n } });
    expect(info).toMatchObject({ start, length: 5n, mode: 'exclusive' });
    expect(tryLock(f, { kind, range: { start: start + 5n, length: 1n } })).not.toBeNull();
  });
});

describe('getLock / F_GETLK reports', () => {
  it('null when nothing would block', () => {
    const f = file();
    for (const kind of ['flock', 'posix', 'ofd'] as const) expect(getLock(f, { kind })).toBeNull();
  });

  it('POSIX holder: the holder pid, for both query commands', async () => {
    const f = file();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind: 'posix', range: { start: 5, length: 10 } } });
    expect(getLock(f, { kind: 'posix' })).toEqual({
      kind: 'posix',
      mode: 'exclusive',
      start: 5n,
      length: 10n,
      pid: a.pid,
    });
    expect(getLock(f, { kind: 'ofd' })).toEqual({ kind: 'ofd', mode: 'exclusive', start: 5n, length: 10n, pid: a.pid });
  });

  it('OFD holder: F_GETLK says pid -1 (fcntl(2): "l_pid is set to -1"); getLock names it from /proc', async () => {
    const f = file();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind: 'ofd', mode: 'shared' } });
    expect(getLock(f, { kind: 'ofd' })).toEqual({ kind: 'ofd', mode: 'shared', start: 0n, length: 0n, pid: a.pid });
    expect(getLock(f, { kind: 'posix' })).toMatchObject({ pid: a.pid });
    const fd = openSync(f, 'r');
    expect(fcntlGetLockSync(fd, { ofd: true })).toMatchObject({ pid: -1 });
    closeSync(fd);
    expect(getLock(f, { kind: 'ofd', mode: 'shared' })).toBeNull(); // shared does not block shared
  });

  it('flock holder: found through /proc/locks with its pid; the own fd never blocks itself', async () => {
    const f = file();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind: 'flock' } });
    expect(getLock(f, { kind: 'flock' })).toEqual({
      kind: 'flock',
      mode: 'exclusive',
      start: 0n,
      length: 0n,
      pid: a.pid,
    });
    await a.kill();
    const fd = openSync(f, constants.O_RDWR);
    const mine = tryLock(fd, { kind: 'flock' })!;
    expect(getLock(fd, { kind: 'flock' })).toBeNull();
    expect(getLock(f, { kind: 'flock' })).toMatchObject({ pid: process.pid });
    mine.release();
    closeSync(fd);
  });

  it('fcntlGetLockSync mirrors F_GETLK on a caller fd', async () => {
    const f = file();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind: 'posix', mode: 'shared', range: { start: 0, length: 1 } } });
    const fd = openSync(f, constants.O_RDWR);
    try {
      expect(fcntlGetLockSync(fd, { mode: 'exclusive' })).toMatchObject({ mode: 'shared', pid: a.pid, length: 1n });
      expect(fcntlGetLockSync(fd, { mode: 'shared' })).toBeNull();
    } finally {
      closeSync(fd);
    }
  });
});

describe('flock and fcntl family interaction (local filesystem)', () => {
  it('OFD and POSIX locks conflict, even in one process on one fd; flock is independent of both', async () => {
    const f = file();
    const fd = openSync(f, constants.O_RDWR);
    try {
      fcntlLockSync(fd, { mode: 'exclusive', ofd: true });
      let err: NodeJS.ErrnoException | undefined;
      try {
        fcntlLockSync(fd, { mode: 'exclusive' });
      } catch (e) {
        err = e as NodeJS.ErrnoException;
      }
      expect(err?.code).toBe('EAGAIN');
      const fl = tryLock(f, { kind: 'flock' });
      expect(fl).not.toBeNull();
      fl!.release();
    } finally {
      closeSync(fd);
    }
  });
});

describe.each<LockKind>(['posix', 'ofd'])('the whole-file hot path after a ranged call, kind %s', (kind) => {
  it('fcntlLockSync without a range locks the whole file, whatever range the call before it used', () => {
    // The sync primitives pass a whole-file request without rewriting the range of the
    // request buffer when it is already (0, 0) (lib/hot_path.ts): a ranged call in
    // between must not leave its range there for the next whole-file call.
    const f = file();
    const fd = openSync(f, constants.O_RDWR);
    try {
      const ofd = kind === 'ofd';
      fcntlLockSync(fd, { mode: 'exclusive', ofd });
      fcntlLockSync(fd, { mode: 'unlock', ofd });
      fcntlLockSync(fd, { mode: 'exclusive', start: 10n, length: 5n, ofd });
      expect(procLocks(f).map((e) => [e.start, e.end])).toEqual([['10', '14']]);
      fcntlLockSync(fd, { mode: 'unlock', ofd });
      expect(procLocks(f)).toEqual([]);
      fcntlLockSync(fd, { mode: 'exclusive', ofd });
      expect(procLocks(f).map((e) => [e.start, e.end])).toEqual([['0', 'EOF']]);
      fcntlLockSync(fd, { mode: 'unlock', ofd });
      expect(procLocks(f)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });
});
