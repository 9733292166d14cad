// SEMANTICS.md rows 1-6 and 27 on Linux, for each kind, with real processes,
// worker threads and kernel locks.
import { closeSync, openSync, constants } from 'node:fs';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fcntlLockSync, flockSync, getLock, tryLock, lock, type LockKind } from '../dist/index.js';
import { fdCount, procLocks, processAgent, threadAgent, until, useTempFiles, within } from './helpers.js';

const KINDS: LockKind[] = ['flock', 'posix', 'ofd'];
// Temp files and agents of each test are removed after it.
const file = useTempFiles();

describe.each(KINDS)('kind %s', (kind) => {
  it('two processes, exclusive: the second is refused, then granted after release', async () => {
    const f = file();
    const a = await processAgent();
    const b = await processAgent();
    const held = await a.ok<{ id: number }>('tryLock', { path: f, options: { kind } });
    expect(held).not.toBeNull();
    expect(await b.ok('tryLock', { path: f, options: { kind } })).toBeNull();
    expect(tryLock(f, { kind })).toBeNull(); // and from this process too
    // The primitives report the same contention with one code on every kind.
    const fd = openSync(f, constants.O_RDWR);
    try {
      const attempt = (): void =>
        kind === 'flock' ? flockSync(fd, 'exclusive') : fcntlLockSync(fd, { mode: 'exclusive', ofd: kind === 'ofd' });
      expect(attempt).toThrow(
        expect.objectContaining({
          code: 'EAGAIN',
          errno: -11,
          syscall: { flock: 'flock', posix: 'fcntl(F_SETLK)', ofd: 'fcntl(F_OFD_SETLK)' }[kind as 'flock'],
          message: expect.stringMatching(/^EAGAIN: resource temporarily unavailable, /),
        }),
      );
    } finally {
      closeSync(fd);
    }
    await a.ok('release', { id: held.id });
    const second = await b.ok<{ id: number }>('tryLock', { path: f, options: { kind } });
    expect(second).not.toBeNull();
  });

  it('two processes, shared: both granted; exclusive then refused', async () => {
    const f = file();
    const a = await processAgent();
    const b = await processAgent();
    expect(await a.ok('tryLock', { path: f, options: { kind, mode: 'shared' } })).not.toBeNull();
    expect(await b.ok('tryLock', { path: f, options: { kind, mode: 'shared' } })).not.toBeNull();
    expect(tryLock(f, { kind, mode: 'exclusive' })).toBeNull();
    const shared = tryLock(f, { kind, mode: 'shared' });
    expect(shared).not.toBeNull();
    shared!.release();
  });

  it('two fds in one process: flock and OFD conflict, POSIX does not (same owner)', () => {
    const f = file();
    const first = tryLock(f, { kind })!;
    const second = tryLock(f, { kind });
    if (kind === 'posix') {
      expect(second).not.toBeNull();
      second!.release();
    } else {
      expect(second).toBeNull();
    }
    first.release();
  });

  it('two worker_threads with their own fds: only POSIX fails to exclude', async () => {
    const f = file();
    const t1 = await threadAgent();
    const t2 = await threadAgent();
    expect(await t1.ok('tryLock', { path: f, options: { kind } })).not.toBeNull();
    const other = await t2.ok('tryLock', { path: f, options: { kind } });
    if (kind === 'posix') expect(other).not.toBeNull();
    else expect(other).toBeNull();
  });

  it('closing another fd of the file: POSIX loses its lock, flock and OFD keep theirs', async () => {
    const f = file();
    const holder = await processAgent();
    const other = await processAgent();
    expect(await holder.ok('tryLock', { path: f, options: { kind } })).not.toBeNull();
    const fd = await holder.ok<number>('open', { path: f });
    await holder.ok('close', { fd });
    const got = await other.ok('tryLock', { path: f, options: { kind } });
    if (kind === 'posix') expect(got).not.toBeNull();
    else expect(got).toBeNull();
  });

  it("Node's own fs.readFileSync(path) in the holder: POSIX loses its lock", async () => {
    const f = file();
    const holder = await processAgent();
    const other = await processAgent();
    expect(await holder.ok('tryLock', { path: f, options: { kind } })).not.toBeNull();
    await holder.ok('readFile', { path: f });
    const got = await other.ok('tryLock', { path: f, options: { kind } });
    if (kind === 'posix') expect(got).not.toBeNull();
    else expect(got).toBeNull();
  });

  it('a child process given the fd: flock/OFD locks travel with it, POSIX locks do not', async () => {
    const f = file();
    const fd = openSync(f, constants.O_RDWR | constants.O_CREAT);
    const mine = tryLock(fd, { kind })!;
    expect(mine).not.toBeNull();
    // The child gets the same open file description as its fd 3, and lingers.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
      stdio: ['ignore', 'ignore', 'ignore', fd],
    });
    await until(() => child.pid !== undefined);
    closeSync(fd); // the parent lets go of its fd (POSIX: this drops the parent's lock)
    const probe = await processAgent();
    const whileChildLives = await probe.ok('tryLock', { path: f, options: { kind } });
    if (kind === 'posix') expect(whileChildLives).not.toBeNull();
    else expect(whileChildLives).toBeNull();
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await within(exited, 'the child given the fd did not exit after SIGKILL');
    await until(async () => (await probe.ok('tryLock', { path: f, options: { kind } })) !== null);
  });

  it('the holder killed with SIGKILL: the kernel releases, a waiter is granted', async () => {
    const f = file();
    const holder = await processAgent();
    expect(await holder.ok('tryLock', { path: f, options: { kind } })).not.toBeNull();
    const waiting = lock(f, { kind });
    await holder.kill('SIGKILL');
    const granted = await within(waiting, 'lock() was not granted after its holder was killed with SIGKILL');
    expect(granted.kind).toBe(kind);
    granted.release();
  });

  it('an exclusive lock on a read-only fd: EBADF for fcntl kinds, granted for flock', () => {
    const f = file();
    closeSync(openSync(f, 'w'));
    const fd = openSync(f, constants.O_RDONLY);
    try {
      if (kind === 'flock') {
        const l = tryLock(fd, { kind })!;
        expect(l).not.toBeNull();
        l.release();
      } else {
        let err: NodeJS.ErrnoException | undefined;
        try {
          tryLock(fd, { kind });
        } catch (e) {
          err = e as NodeJS.ErrnoException;
        }
        expect(err).toBeInstanceOf(Error);
        expect(err!.code).toBe('EBADF');
        expect(err!.errno).toBe(-9);
        expect(err!.syscall).toBe(kind === 'ofd' ? 'fcntl(F_OFD_SETLK)' : 'fcntl(F_SETLK)');
        expect(err!.message).toBe(
          `EBADF: bad file descriptor: fd ${fd} is not open for writing, which an exclusive lock needs, ${err!.syscall}`,
        );
      }
    } finally {
      closeSync(fd);
    }
  });

  it('/proc/locks shows the lock with its type, owner pid and range', async () => {
    const f = file();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind, mode: 'shared' } });
    const entries = procLocks(f);
    expect(entries).toHaveLength(1);
    const e = entries[0]!;
    expect(e.type).toBe(({ flock: 'FLOCK', posix: 'POSIX', ofd: 'OFDLCK' } as Record<string, string>)[kind]);
    expect(e.access).toBe('READ');
    expect(e.pid).toBe(kind === 'ofd' ? -1 : a.pid);
    expect([e.start, e.end]).toEqual(['0', 'EOF']);
  });

  it('a path lock owns its fd: release closes it; a failed try leaves no fd behind', async () => {
    const f = file();
    const busy = file();
    const a = await processAgent();
    await a.ok('tryLock', { path: busy, options: { kind } });
    const count = fdCount;
    const before = count();
    const l = tryLock(f, { kind })!;
    expect(count()).toBe(before + 1);
    // Refused by another process's lock (every kind), and, for flock and OFD locks whose
    // owner is the open file description, by our own lock through a second open.
    expect(tryLock(busy, { kind })).toBeNull();
    if (kind !== 'posix') expect(tryLock(f, { kind })).toBeNull();
    expect(count()).toBe(before + 1);
    l.release();
    expect(count()).toBe(before);
    l.release(); // idempotent
  });
});

describe('POSIX locks survive the library’s own closes', () => {
  it('a busy try, a query and the release of other path locks on the file do not drop them', async () => {
    const f = file();
    const other = await processAgent();
    const mine = tryLock(f, { kind: 'posix', range: { start: 0, length: 10 } })!;
    await other.ok('tryLock', { path: f, options: { kind: 'posix', range: { start: 20, length: 10 } } });
    // Each of these opens the file and closes that fd again (fcntl(2): any close drops
    // all of the process's POSIX locks on the file).
    expect(tryLock(f, { kind: 'posix', range: { start: 20, length: 1 } })).toBeNull();
    expect(getLock(f, { kind: 'ofd', range: { start: 20, length: 1 } })).toMatchObject({ pid: other.pid });
    const ofd = tryLock(f, { kind: 'ofd', range: { start: 40, length: 1 } })!;
    ofd.release();
    const second = tryLock(f, { kind: 'posix', range: { start: 50, length: 1 } })!;
    second.release();
    expect(
      await other.ok('tryLock', { path: f, options: { kind: 'posix', range: { start: 0, length: 1 } } }),
    ).toBeNull();
    mine.release();
    expect(
      await other.ok('tryLock', { path: f, options: { kind: 'posix', range: { start: 0, length: 1 } } }),
    ).not.toBeNull();
  });
});
