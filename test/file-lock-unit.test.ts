// FileLock and the syscall layer in one process, each observable StrykerJS found
// unasserted (docs/TESTING.md): the syscall named in each kind's errors, offsets past
// 2^53 reaching the kernel exactly (/proc/locks), the wording of a lost lock for a
// path and for an fd, a mode change to the mode already held, `using` disposal, a
// FileHandle closed under the lock (also with its fd number reopened on the same file)
// and an fd whose open mode does not allow the lock.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { fcntlLockSync, flockSync, getLock, lock, lockSync, tryLock, type LockKind } from '../dist/index.js';
import { offset } from '../dist/syscall.js';
import { processAgent, procLocks, thrown, useTempFiles } from './helpers.js';

const file = useTempFiles();

/** The error `f` throws (or rejects with). */
async function errorOf(f: () => unknown): Promise<NodeJS.ErrnoException> {
  try {
    await f();
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error('expected a throw');
}

/** An fd number that is closed now. */
function closedFd(): number {
  const fd = openSync(file(), 'r');
  closeSync(fd);
  return fd;
}

describe('the syscall each kind names in its errors', () => {
  const TRY: Record<'flock' | 'posix' | 'ofd', string> = {
    flock: 'flock',
    posix: 'fcntl(F_SETLK)',
    ofd: 'fcntl(F_OFD_SETLK)',
  };
  it.each(Object.keys(TRY) as ('flock' | 'posix' | 'ofd')[])('%s: try, wait and query on a closed fd', async (kind) => {
    const fd = closedFd();
    const tried = await errorOf(() => tryLock(fd, { kind }));
    expect(tried).toMatchObject({ code: 'EBADF', syscall: TRY[kind] });
    expect(tried.message).toBe(`EBADF: bad file descriptor, ${TRY[kind]}`);
    if (kind !== 'flock') {
      const queried = await errorOf(() => getLock(fd, { kind }));
      expect(queried).toMatchObject({
        code: 'EBADF',
        syscall: kind === 'posix' ? 'fcntl(F_GETLK)' : 'fcntl(F_OFD_GETLK)',
      });
    }
  });
  it("unlocking a closed fd through the primitives names each kind's unlock call", () => {
    const fd = closedFd();
    expect(thrown(() => flockSync(fd, 'unlock'))).toMatchObject({ code: 'EBADF', syscall: 'flock' });
    expect(thrown(() => fcntlLockSync(fd, { mode: 'unlock' }))).toMatchObject({ syscall: 'fcntl(F_SETLK)' });
    expect(thrown(() => fcntlLockSync(fd, { mode: 'unlock', ofd: true }))).toMatchObject({
      syscall: 'fcntl(F_OFD_SETLK)',
    });
  });

  it.each([
    ['flock', 'flock'],
    ['posix', 'fcntl(F_SETLKW)'],
  ] as const)('%s: a timed-out wait names %s', async (kind, call) => {
    const f = file();
    const agent = await processAgent();
    await agent.ok('tryLock', { path: f, options: { kind } });
    expect(thrown(() => lockSync(f, { kind, timeout: 10 }))).toMatchObject({ code: 'ETIMEDOUT', syscall: call });
    await expect(lock(f, { kind, timeout: 10 })).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: call });
  });

  it('a timed-out wait names the blocking call and says it timed out', async () => {
    const f = file();
    const holder = openSync(f, constants.O_RDWR);
    const waiter = openSync(f, constants.O_RDWR);
    const held = tryLock(holder, { kind: 'ofd' })!;
    const err = await errorOf(() => lockSync(waiter, { kind: 'ofd', timeout: 10 }));
    expect(err).toMatchObject({ code: 'ETIMEDOUT', syscall: 'fcntl(F_OFD_SETLKW)' });
    expect(err.message).toMatch(/^ETIMEDOUT: lock wait timed out after 10 ms/);
    held.release();
    closeSync(holder);
    closeSync(waiter);
  });
});

describe("an fd whose open mode does not allow the lock (fcntl(2)'s second EBADF)", () => {
  it('tryLock names the access the lock needs; a closed fd keeps the plain wording', async () => {
    const f = file();
    const readOnly = openSync(f, 'r');
    const writeOnly = openSync(f, 'w');
    expect((await errorOf(() => tryLock(readOnly, { kind: 'posix' }))).message).toBe(
      `EBADF: bad file descriptor: fd ${readOnly} is not open for writing, which an exclusive lock needs, fcntl(F_SETLK)`,
    );
    expect(await errorOf(() => lock(writeOnly, { kind: 'ofd', mode: 'shared' }))).toMatchObject({
      code: 'EBADF',
      syscall: 'fcntl(F_OFD_SETLK)',
      message: `EBADF: bad file descriptor: fd ${writeOnly} is not open for reading, which a shared lock needs, fcntl(F_OFD_SETLK)`,
    });
    // flock(2) takes any open mode.
    tryLock(readOnly, { kind: 'flock' })!.release();
    closeSync(readOnly);
    closeSync(writeOnly);
  });

  it.each(['posix', 'ofd'] as LockKind[])(
    '%s: tryChangeMode to exclusive on a read-only fd throws EBADF and keeps the shared lock',
    async (kind) => {
      const f = file();
      const fd = openSync(f, 'r');
      const l = tryLock(fd, { kind, mode: 'shared' })!;
      const err = await errorOf(() => l.tryChangeMode('exclusive'));
      const call = kind === 'posix' ? 'fcntl(F_SETLK)' : 'fcntl(F_OFD_SETLK)';
      expect(err).toMatchObject({ code: 'EBADF', errno: -9, syscall: call });
      expect(err.message).toBe(
        `EBADF: bad file descriptor: fd ${fd} is not open for writing, which an exclusive lock needs, ${call}`,
      );
      expect([l.mode, l.released]).toEqual(['shared', false]);
      expect(procLocks(f).map((e) => e.access)).toEqual(['READ']);
      l.release();
      expect(procLocks(f)).toEqual([]);
      closeSync(fd);
    },
  );
});

describe('offsets beyond 2^53 reach the kernel exactly', () => {
  it.each(['posix', 'ofd'] as LockKind[])('%s: a one-byte lock at 2^60 + 1', (kind) => {
    // Offsets at or below 2^53 - 1 travel as numbers (cheaper through Node-API), the
    // rest as bigints: a number would round 2^60 + 1 to 2^60.
    const f = file();
    const fd = openSync(f, constants.O_RDWR);
    const start = 2n ** 60n + 1n;
    const l = tryLock(fd, { kind, range: { start, length: 1n } })!;
    expect(procLocks(f).map((e) => [e.start, e.end])).toEqual([[String(start), String(start)]]);
    l.release();
    closeSync(fd);
  });
});

describe('offsets beyond 2^53 in queries and waits', () => {
  it.each(['posix', 'ofd'] as LockKind[])(
    '%s: a holder of one byte at 2^60 + 1 is found by getLock() and blocks lock() and lockSync()',
    async (kind) => {
      // Rounded to a number, 2^60 + 1 would become 2^60: a byte nobody holds.
      const f = file();
      const start = 2n ** 60n + 1n;
      const range = { start, length: 1n };
      const agent = await processAgent();
      await agent.ok('tryLock', { path: f, options: { kind, range: { start: `${start}n`, length: '1n' } } });
      expect(getLock(f, { kind, range })).toMatchObject({ start, length: 1n, pid: agent.pid });
      await expect(lock(f, { kind, range, timeout: 30 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(() => lockSync(f, { kind, range, timeout: 30 })).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    },
  );

  it('offset(): numbers up to 2^53 - 1, bigints beyond', () => {
    expect(offset(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(offset(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toBe(BigInt(Number.MAX_SAFE_INTEGER) + 1n);
    expect(offset(0n)).toBe(0);
  });
});

describe('FileLock', () => {
  it('a lost lock names its path, or its fd when it has none; closed and reused read differently', async () => {
    const f = file();
    const byPath = tryLock(f, { kind: 'ofd' })!;
    closeSync(byPath.fd);
    const reused = openSync(file(), 'r'); // the lowest free number: the one just closed
    expect(reused).toBe(byPath.fd);
    const e1 = await errorOf(() => byPath.release());
    expect(e1).toMatchObject({ code: 'ERR_LOCK_LOST', errno: -9, syscall: 'release', path: f });
    expect(e1.message).toBe(
      `ERR_LOCK_LOST: lock on '${f}' was lost before release(): fd ${byPath.fd} was closed and now refers to another file, which was left alone`,
    );
    closeSync(reused);

    const fd = openSync(file(), constants.O_RDWR);
    const byFd = tryLock(fd, { kind: 'ofd' })!;
    expect(byFd.path).toBeUndefined();
    closeSync(fd);
    const e2 = await errorOf(() => byFd.tryChangeMode('shared'));
    expect(e2).toMatchObject({ code: 'ERR_LOCK_LOST', syscall: 'tryChangeMode' });
    expect(e2.message).toBe(
      `ERR_LOCK_LOST: lock on fd ${fd} was lost before tryChangeMode(): fd ${fd} was closed (closing it dropped the lock)`,
    );
    expect(byFd.released).toBe(true);
    expect(() => byFd.tryChangeMode('shared')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it("release() of a lock on the caller's fd leaves that fd open; on a path it closes its own", () => {
    const f = file();
    const fd = openSync(f, constants.O_RDWR);
    tryLock(fd, { kind: 'flock' })!.release();
    expect(fstatSync(fd).ino).toBe(statSync(f).ino); // still the caller's
    closeSync(fd);
    const byPath = tryLock(f, { kind: 'flock' })!;
    const own = byPath.fd;
    byPath.release();
    expect(() => fstatSync(own)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('tryChangeMode to the mode already held is true and changes nothing', () => {
    const f = file();
    const fd = openSync(f, constants.O_RDWR);
    const l = tryLock(fd, { kind: 'posix', mode: 'shared' })!;
    expect(l.tryChangeMode('shared')).toBe(true);
    expect(procLocks(f).map((e) => e.access)).toEqual(['READ']);
    expect(l.tryChangeMode('exclusive')).toBe(true);
    expect(procLocks(f).map((e) => e.access)).toEqual(['WRITE']);
    l.release();
    expect(procLocks(f)).toEqual([]);
    closeSync(fd);
  });

  it('a FileHandle closed under the lock: tryChangeMode throws ERR_LOCK_LOST and touches nothing', async () => {
    const f = file();
    const handle = await open(f, 'r+');
    const l = tryLock(handle, { kind: 'ofd' })!;
    const fd = handle.fd;
    await handle.close();
    const err = await errorOf(() => l.tryChangeMode('shared'));
    expect(err).toMatchObject({ code: 'ERR_LOCK_LOST', syscall: 'tryChangeMode' });
    expect(err.message).toContain(`fd ${fd} was closed (closing it dropped the lock)`);
    expect(l.released).toBe(true);
  });

  it('a lock through a FileHandle changes mode and releases like any other', async () => {
    const f = file();
    const handle = await open(f, 'r+');
    const l = tryLock(handle, { kind: 'posix', mode: 'shared' })!;
    expect(l.tryChangeMode('exclusive')).toBe(true);
    expect(procLocks(f).map((e) => e.access)).toEqual(['WRITE']);
    l.release();
    expect(procLocks(f)).toEqual([]);
    expect(fstatSync(handle.fd).ino).toBe(statSync(f).ino); // the handle's fd stays open
    await handle.close();
  });

  it('a released lock refuses tryChangeMode, naming itself', async () => {
    const l = tryLock(file(), { kind: 'ofd' })!;
    l.release();
    expect((await errorOf(() => l.tryChangeMode('shared'))).message).toBe(
      "The argument 'this' is a released lock. Received an instance of FileLock",
    );
    const byFlock = tryLock(file(), { kind: 'flock' })!;
    expect((await errorOf(() => byFlock.tryChangeMode('shared'))).message).toBe(
      "An atomic mode change of a 'flock' lock is unavailable on this platform (linux)",
    );
    byFlock.release();
  });

  it('tryChangeMode to the mode already held still finds a lock lost with its FileHandle', async () => {
    const handle = await open(file(), 'r+');
    const byHandle = tryLock(handle, { kind: 'posix', mode: 'shared' })!;
    await handle.close();
    expect(thrown(() => byHandle.tryChangeMode('shared'))).toMatchObject({ code: 'ERR_LOCK_LOST' });
  });

  it('a lock on an fd has no path property at all', () => {
    const fd = openSync(file(), constants.O_RDWR);
    const l = tryLock(fd, { kind: 'flock' })!;
    expect(Object.hasOwn(l, 'path')).toBe(false);
    l.release();
    closeSync(fd);
  });

  it('`using` and `await using` release at the end of the block', async () => {
    const f = file();
    {
      using l = tryLock(f, { kind: 'posix' })!;
      expect(procLocks(f)).toHaveLength(1);
      void l;
    }
    expect(procLocks(f)).toEqual([]);
    {
      await using l = tryLock(f, { kind: 'posix' })!;
      expect(procLocks(f)).toHaveLength(1);
      void l;
    }
    expect(procLocks(f)).toEqual([]);
  });
});

// A FileHandle closed under its lock sets its fd to -1; the fd number is free, and the
// next open of the same file may get it. The lock table alone would then see "the same
// file on the same fd" and act on the caller's new fd: only the handle tells.
describe('a FileHandle closed under the lock, its fd number reopened on the same file', () => {
  /** Locks `f` through a FileHandle, closes the handle, reopens `f` on the same number. */
  async function lostThroughHandle(f: string, kind: LockKind, mode: 'shared' | 'exclusive' = 'exclusive') {
    const handle = await open(f, 'r+');
    const lost = tryLock(handle, { kind, mode })!;
    const fd = handle.fd;
    await handle.close(); // drops the lock (flock(2), fcntl(2))
    const reopened = openSync(f, constants.O_RDWR);
    expect(reopened).toBe(fd); // the lowest free number
    return { lost, reopened };
  }

  /** The stale-record check: a POSIX lock by path must still close its own fd on release. */
  function ownFdIsClosedOnRelease(f: string): void {
    const l = tryLock(f, { kind: 'posix' })!;
    const own = l.fd;
    l.release();
    expect(() => fstatSync(own)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  }

  it.each(['flock', 'ofd'] as LockKind[])(
    "%s: release() throws ERR_LOCK_LOST and leaves the caller's new lock on that fd alone",
    async (kind) => {
      const f = file();
      const { lost, reopened } = await lostThroughHandle(f, kind);
      const mine = tryLock(reopened, { kind })!;
      const err = await errorOf(() => lost.release());
      expect(err).toMatchObject({ code: 'ERR_LOCK_LOST', syscall: 'release' });
      expect(err.message).toContain(`fd ${reopened} was closed (closing it dropped the lock)`);
      expect(procLocks(f)).toHaveLength(1); // `mine`, still held
      if (kind === 'flock') expect(spawnSync('flock', ['-n', f, 'true']).status).toBe(1); // util-linux agrees
      mine.release();
      expect(procLocks(f)).toEqual([]);
      closeSync(reopened);
    },
  );

  it('posix: release() throws ERR_LOCK_LOST, takes no lock and keeps no record of it', async () => {
    const f = file();
    const { lost, reopened } = await lostThroughHandle(f, 'posix');
    expect(await errorOf(() => lost.release())).toMatchObject({ code: 'ERR_LOCK_LOST' });
    expect(procLocks(f)).toEqual([]);
    ownFdIsClosedOnRelease(f);
    closeSync(reopened);
  });

  it.each(['posix', 'ofd'] as LockKind[])(
    '%s: tryChangeMode throws ERR_LOCK_LOST, takes no lock on the new fd and keeps no record',
    async (kind) => {
      const f = file();
      const { lost, reopened } = await lostThroughHandle(f, kind, 'shared');
      const err = await errorOf(() => lost.tryChangeMode('exclusive'));
      expect(err).toMatchObject({ code: 'ERR_LOCK_LOST', syscall: 'tryChangeMode' });
      expect(err.message).toContain(`fd ${reopened} was closed (closing it dropped the lock)`);
      expect(procLocks(f)).toEqual([]);
      expect(lost.released).toBe(true);
      ownFdIsClosedOnRelease(f);
      closeSync(reopened);
    },
  );
});
