// /proc/locks parsing and the owner resolution behind holders(), getLock() and the
// timeout messages, each observable a StrykerJS run found unasserted: every field of
// a lock line, checked against util-linux lslocks (a parser nobody here wrote); two
// look-alike OFD lines resolved to their two owners once each; flock and fcntl locks
// kept apart; shared/shared, disjoint ranges and the asker's own POSIX locks not
// counted as conflicts; the asker's own flock skipped by getLock().
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { getLock, holders, lock, lockSync, tryLock, type LockError } from '../dist/index.js';
import { parseLockLine } from '../dist/holders.js';
import { processAgent, until, useTempFiles, within } from './helpers.js';

const temp = useTempFiles();

describe('parseLockLine', () => {
  it('reads each field of the line forms /proc/locks prints', () => {
    expect(parseLockLine('1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF')).toEqual({
      kind: 'posix',
      mode: 'exclusive',
      pid: 1234,
      dev: '08:01',
      ino: 5678n,
      start: 0n,
      length: 0n,
      waiting: false,
      key: 'POSIX ADVISORY WRITE 1234 08:01:5678 0 EOF',
    });
    expect(parseLockLine('12: OFDLCK ADVISORY  READ  -1 fd:0a:99 10 14')).toMatchObject({
      kind: 'ofd',
      mode: 'shared',
      pid: -1,
      dev: 'fd:0a',
      start: 10n,
      length: 5n,
    });
    expect(parseLockLine('3: -> FLOCK  ADVISORY  WRITE 55 00:2f:123 0 EOF')).toMatchObject({
      kind: 'flock',
      waiting: true,
      key: 'FLOCK ADVISORY WRITE 55 00:2f:123 0 EOF',
    });
    // fdinfo's form: "lock:\t" then the same line.
    expect(parseLockLine('\t1: FLOCK  ADVISORY  READ 7 00:2f:1 0 EOF')).toMatchObject({ kind: 'flock', pid: 7 });
    expect(parseLockLine('4: LEASE  ACTIVE    READ 9 00:2f:1 0 EOF')).toBeNull();
    expect(parseLockLine('4: POSIX  ADVISORY  WRITE 9 00:2f:1 0')).toBeNull();
    expect(parseLockLine('')).toBeNull();
  });

  it('agrees with util-linux lslocks on real locks of every kind', () => {
    const f = temp();
    const fds = [0, 1, 2].map(() => openSync(f, constants.O_RDWR));
    const held = [
      tryLock(fds[0]!, { kind: 'flock', mode: 'shared' })!,
      tryLock(fds[1]!, { kind: 'posix', range: { start: 5, length: 10 } })!,
      tryLock(fds[2]!, { kind: 'ofd', mode: 'shared', range: { start: 100, length: 0 } })!,
    ];
    const ino = BigInt(execFileSync('stat', ['-c', '%i', f], { encoding: 'utf8' }).trim());
    const ours = execFileSync('cat', ['/proc/locks'], { encoding: 'latin1' })
      .split('\n')
      .map(parseLockLine)
      .filter((l) => l !== null && l.ino === ino)
      .map((l) => ({ type: l!.kind, mode: l!.mode, pid: l!.pid, start: l!.start, length: l!.length }))
      .sort((a, b) => a.type.localeCompare(b.type));
    const lslocks = (
      JSON.parse(
        execFileSync('lslocks', ['--json', '-b', '-o', 'TYPE,MODE,PID,START,END,INODE'], { encoding: 'utf8' }),
      ) as {
        locks: { type: string; mode: string; pid: number; start: number; end: number; inode: number }[];
      }
    ).locks
      .filter((l) => BigInt(l.inode) === ino)
      .map((l) => ({
        type: { FLOCK: 'flock', POSIX: 'posix', OFDLCK: 'ofd' }[l.type] as string,
        mode: l.mode === 'READ' ? 'shared' : 'exclusive',
        pid: l.pid,
        start: BigInt(l.start),
        length: l.end === 0 ? 0n : BigInt(l.end) - BigInt(l.start) + 1n,
      }))
      .sort((a, b) => a.type.localeCompare(b.type));
    expect(ours).toEqual(lslocks);
    expect(ours.map((l) => l.type)).toEqual(['flock', 'ofd', 'posix']);
    for (const h of held) h.release();
    for (const fd of fds) closeSync(fd);
  });
});

describe('holders()', () => {
  it('two processes with look-alike shared OFD lines: each named once', async () => {
    const f = temp();
    const [a, b] = [await processAgent(), await processAgent()];
    for (const agent of [a, b]) await agent.ok('tryLock', { path: f, options: { kind: 'ofd', mode: 'shared' } });
    expect(
      holders(f)
        .map((h) => h.pid)
        .sort(),
    ).toEqual([a.pid, b.pid].sort());
  });

  it('a path, an fd and a FileHandle name the same holders, waiters included', async () => {
    const f = temp();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind: 'flock' } });
    const waiting = lock(f, { kind: 'flock', timeout: 20_000 });
    await until(() => holders(f).some((h) => h.waiting));
    const byPath = holders(f);
    expect(byPath).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pid: a.pid, waiting: false }),
        expect.objectContaining({ pid: process.pid, waiting: true, command: expect.stringContaining('node') }),
      ]),
    );
    const fd = openSync(f, 'r');
    const handle = await open(f, 'r');
    expect(holders(fd)).toEqual(byPath);
    expect(holders(handle)).toEqual(byPath);
    closeSync(fd);
    await handle.close();
    await a.kill();
    (await within(waiting, 'lock() was not granted after the flock holder was killed')).release();
  });
});

describe('the holders a timeout names', () => {
  function timedOut(f: string, options: Parameters<typeof lockSync>[1]): number[] {
    try {
      lockSync(f, { ...options, timeout: 20 }).release();
    } catch (e) {
      return (e as LockError).holders!.map((h) => h.pid).sort();
    }
    throw new Error('lockSync was granted');
  }

  it('flock and fcntl locks apart; shared with shared and disjoint ranges are no conflict', async () => {
    const f = temp();
    const [p, o1, o2, fl] = [await processAgent(), await processAgent(), await processAgent(), await processAgent()];
    await p.ok('tryLock', { path: f, options: { kind: 'posix', mode: 'shared', range: { start: 0, length: 10 } } });
    await o1.ok('tryLock', { path: f, options: { kind: 'ofd', mode: 'shared', range: { start: 20, length: 10 } } });
    await o2.ok('tryLock', { path: f, options: { kind: 'ofd', range: { start: 40, length: 10 } } });
    await fl.ok('tryLock', { path: f, options: { kind: 'flock', mode: 'shared' } });
    expect(timedOut(f, { kind: 'flock' })).toEqual([fl.pid]);
    expect(timedOut(f, { kind: 'ofd' })).toEqual([p.pid, o1.pid, o2.pid].sort());
    expect(timedOut(f, { kind: 'ofd', mode: 'shared' })).toEqual([o2.pid]);
    expect(timedOut(f, { kind: 'posix', range: { start: 5, length: 20 } })).toEqual([p.pid, o1.pid].sort());
    expect(timedOut(f, { kind: 'posix', range: { start: 45, length: 0 } })).toEqual([o2.pid]);
  });

  it("the asker's own POSIX locks are never named", async () => {
    const f = temp();
    const mine = tryLock(f, { kind: 'posix', range: { start: 0, length: 10 } })!;
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind: 'posix', range: { start: 20, length: 10 } } });
    expect(timedOut(f, { kind: 'posix' })).toEqual([a.pid]);
    mine.release();
  });
});

describe('getLock() for flock', () => {
  it("skips the asker's own flock; shared does not conflict with shared", async () => {
    const f = temp();
    const fd = openSync(f, constants.O_RDWR);
    const own = tryLock(fd, { kind: 'flock', mode: 'shared' })!;
    expect(getLock(fd, { kind: 'flock' })).toBeNull();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind: 'flock', mode: 'shared' } });
    expect(getLock(fd, { kind: 'flock', mode: 'shared' })).toBeNull();
    expect(getLock(fd, { kind: 'flock' })).toEqual({
      kind: 'flock',
      mode: 'shared',
      start: 0n,
      length: 0n,
      pid: a.pid,
    });
    own.release();
    closeSync(fd);
  });
});
