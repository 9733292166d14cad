// The waiter engine (docs/DESIGN.md, "Waiting"): threads reused across waits and gone
// after the linger, waits that survive a thread limit, a worker blocked in lockSync
// that can be terminated, a foreign SA_RESTART handler on the interrupt signal, and a
// kernel wait that ignores the interrupt (abandoned, its late grant undone).
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AbortError, fcntlLockSync, lock, lockSync, tryLock, type LockKind } from '../dist/index.js';
import { native } from '../dist/native.js';
import { processAgent, procLocks, until, useTempFiles, type ProcLocksEntry } from './helpers.js';
import { useLineChildren } from './line-child.js';
import { canFuse, fdsOn, useStuckFs } from './stuck-fs.js';

const file = useTempFiles();
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const KINDS: LockKind[] = ['flock', 'posix', 'ofd'];

/** Thread ids of this process's waiter threads (they are named syslocks-wait). */
function waiterTids(): string[] {
  return readdirSync('/proc/self/task').filter((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'syslocks-wait';
    } catch {
      return false; // ended meanwhile
    }
  });
}

const child = useLineChildren();
const stuckFs = useStuckFs(child);

describe.each(KINDS)('waiter threads, kind %s', (kind) => {
  it('granted, timed-out and aborted waits reuse one thread, and none is left after the linger', async () => {
    const f = file();
    await until(() => waiterTids().length === 0);
    // Reuse is the engine's promise; a 500 ms linger is its policy. A loaded host can
    // pause this test for longer than that between two waits, so the linger is taken
    // out of the reuse part and put back for the last wait (the thread then ends).
    const linger = native.waiterLinger();
    native.waiterLinger(600_000);
    onTestFinished(() => void native.waiterLinger(linger));
    const holderFd = openSync(f, constants.O_RDWR);
    const waiterFd = openSync(f, constants.O_RDWR);
    // flock and OFD locks on two fds of one process are two owners; POSIX locks are
    // the process's own, so the holder is another process there.
    const agent = kind === 'posix' ? await processAgent() : undefined;
    const hold = async (): Promise<() => Promise<void>> => {
      if (agent) {
        const h = await agent.ok<{ id: number }>('tryLock', { path: f, options: { kind } });
        return async () => void (await agent.ok('release', { id: h.id }));
      }
      const l = tryLock(holderFd, { kind })!;
      return async () => l.release();
    };
    const seen = new Set<string>();
    const note = (): void => void waiterTids().forEach((t) => seen.add(t));
    const blocked = (): boolean => procLocks(f).some((e) => e.waiting);

    let release = await hold();
    const granted = lock(waiterFd, { kind });
    await until(blocked);
    note();
    await release();
    (await granted).release();

    release = await hold();
    const timedOut = lock(waiterFd, { kind, timeout: 30 });
    await until(blocked);
    note();
    await expect(timedOut).rejects.toMatchObject({ code: 'ETIMEDOUT' });

    const ac = new AbortController();
    const aborted = lock(waiterFd, { kind, signal: ac.signal });
    await until(blocked);
    note();
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortError);

    native.waiterLinger(linger);
    expect(() => lockSync(waiterFd, { kind, timeout: 20 })).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    note();
    await release();

    expect(seen.size).toBe(1); // one thread served all four waits
    expect(procLocks(f).filter((e) => e.waiting)).toEqual([]);
    await until(() => waiterTids().length === 0); // the linger ends it
    expect(native.waiterThreads()).toEqual([0, 0]);
    closeSync(holderFd);
    closeSync(waiterFd);
  });

  it('a burst of grants parks every thread; the surplus beyond four ends first, the rest after the linger', async () => {
    // A thread that exits straight after its completion competes for the cores with
    // the JS thread taking the other grants (docs/BENCH.md, 1,000 waits): every thread
    // parks first. On the code before (at most 4 parked, the rest ended at once) the
    // first expectation saw 4 parked threads, not 12.
    const f = file();
    await until(() => waiterTids().length === 0);
    const linger = native.waiterLinger();
    const surplus = native.waiterSurplusLinger();
    native.waiterLinger(600_000);
    native.waiterSurplusLinger(600_000);
    onTestFinished(() => {
      native.waiterLinger(linger);
      native.waiterSurplusLinger(surplus);
    });
    const agent = kind === 'posix' ? await processAgent() : undefined;
    const holderFd = openSync(f, constants.O_RDWR);
    let release: () => Promise<void>;
    if (agent) {
      const h = await agent.ok<{ id: number }>('tryLock', { path: f, options: { kind } });
      release = async () => void (await agent.ok('release', { id: h.id }));
    } else {
      const l = tryLock(holderFd, { kind })!;
      release = async () => l.release();
    }
    const fds = Array.from({ length: 12 }, () => openSync(f, constants.O_RDWR));
    const waits = fds.map((fd) => lock(fd, { kind, mode: 'shared' }));
    await until(() => procLocks(f).filter((e) => e.waiting).length === 12, '12 waits blocked in the kernel');
    await release();
    const locks = await Promise.all(waits);
    expect(native.waiterThreads()).toEqual([12, 12]);
    expect(waiterTids()).toHaveLength(12);

    native.waiterSurplusLinger(20);
    await until(() => native.waiterThreads()[0] === 4, 'the surplus threads to end');
    expect(native.waiterThreads()).toEqual([4, 4]);
    native.waiterLinger(20);
    await until(() => waiterTids().length === 0, 'the kept threads to end after the linger');
    expect(native.waiterThreads()).toEqual([0, 0]);
    for (const l of locks) l.release();
    for (const fd of [holderFd, ...fds]) closeSync(fd);
  });

  it('a foreign SA_RESTART handler on the interrupt signal does not make a wait uncancellable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syslocks-so-'));
    try {
      const so = join(dir, 'foreign-handler.so');
      execFileSync(process.env['CC'] ?? 'cc', ['-shared', '-fPIC', '-o', so, fixture('foreign-handler.c')]);
      const f = file();
      const a = await processAgent();
      const held = await a.ok<{ id: number }>('tryLock', { path: f, options: { kind } });
      const c = child(process.execPath, [fixture('foreign-handler.mjs'), f, kind, so]);
      const out = JSON.parse(await c.line()) as Record<string, unknown>;
      expect(out).toEqual({
        first: 'ETIMEDOUT', // its thread restarts the syscall now: abandoned
        signalMoved: true,
        second: 'ETIMEDOUT', // interrupted on the new signal
        sync: 'ETIMEDOUT',
        aborted: 'ABORT_ERR',
      });
      // The abandoned thread is granted once the holder lets go: it must undo that
      // grant by itself (nobody owns it), so another process can take the lock.
      await a.ok('release', { id: held.id });
      c.proc.stdin.write('go\n');
      expect(JSON.parse(await c.line())).toEqual({ parked: true });
      const b = await processAgent();
      expect(await b.ok('tryLock', { path: f, options: { kind } })).not.toBeNull();
      c.proc.stdin.write('bye\n');
      expect((await c.exit()).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(['terminate', 'exit'])('a worker blocked in lockSync without timeout (%s)', (how) => {
  it('does not keep the process from ending', async () => {
    const f = file();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: {} });
    const c = child(process.execPath, [fixture('sync-worker-exit.mjs'), f, how]);
    expect(await c.line()).toBe(how === 'exit' ? 'exiting' : 'terminated');
    expect(await c.exit()).toEqual({ code: 0, signal: null });
    expect(procLocks(f).some((e) => e.waiting)).toBe(false);
  });
});

it('an AbortSignal whose addEventListener throws rejects before any native wait starts', async () => {
  const f = file();
  const a = await processAgent();
  await a.ok('tryLock', { path: f, options: { kind: 'ofd' } });
  const ac = new AbortController();
  const boom = new Error('no listeners here');
  ac.signal.addEventListener = () => {
    throw boom;
  };
  const err = await lock(f, { kind: 'ofd', signal: ac.signal }).catch((e: unknown) => e);
  expect(err).toBe(boom);
  expect(native.pendingWaits()).toBe(0);
  expect(procLocks(f).some((e) => e.waiting)).toBe(false);
});

// RLIMIT_NPROC is not enforced for root (setrlimit(2)), so the child runs as an unprivileged uid.
// (Under `npm run mutate`, test/stryker/children.ts opens StrykerJS's sandbox to it.)
const canDropPrivileges = process.getuid?.() === 0;
describe.runIf(canDropPrivileges)('under a thread limit (prlimit --nproc, as an unprivileged uid)', () => {
  it('more waits than threads: all granted, libuv still works, never an abort', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syslocks-nproc-'));
    chmodSync(dir, 0o777);
    const f = join(dir, 'f.lock');
    closeSync(openSync(f, 'w', 0o666));
    chmodSync(f, 0o666);
    try {
      const a = await processAgent();
      const held = await a.ok<{ id: number }>('tryLock', { path: f, options: { kind: 'ofd' } });
      // 16 tasks for that uid: Node's own threads, libuv's 4, and a few waiters.
      // RLIMIT_NPROC counts every process and thread of the real uid, so a uid of this
      // test process's own: two runs side by side (StrykerJS runners) must not share it.
      const uid = 20_000 + (process.pid % 40_000);
      const c = child('setpriv', [
        `--reuid=${uid}`,
        `--regid=${uid}`,
        '--clear-groups',
        'prlimit',
        '--nproc=16',
        process.execPath,
        fixture('thread-limit.cjs'),
        f,
        '40',
      ]);
      const first = JSON.parse(await c.line().catch(() => c.stderr())) as Record<string, unknown>;
      expect(first).toMatchObject({ waiting: true, timedOut: 'ETIMEDOUT', syncTimedOut: 'ETIMEDOUT' });
      expect(first['live']).toBeLessThan(40); // the rest poll
      await a.ok('release', { id: held.id });
      c.proc.stdin.write('go\n');
      expect(JSON.parse(await c.line())).toEqual({ granted: 40 });
      expect(await c.exit()).toEqual({ code: 0, signal: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A real FUSE filesystem whose blocking lock requests ignore the interrupt (test/stuck-fs.ts).
describe.runIf(canFuse)('a FUSE filesystem that ignores the interrupt', () => {
  it('the wait settles at its timeout; the abandoned thread undoes the late grant through the still-open fd', async () => {
    const { file: f, fs } = await stuckFs();
    const fd = openSync(f, constants.O_RDWR);
    try {
      await expect(lock(fd, { kind: 'posix', timeout: 100 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(await fs.line()).toBe('wait'); // the request is still in the kernel
      expect(() => lockSync(fd, { kind: 'posix', timeout: 100 })).toThrow(
        expect.objectContaining({ code: 'ETIMEDOUT' }),
      );
      expect(await fs.line()).toBe('wait');
      expect(native.waiterThreads()[0]).toBeGreaterThanOrEqual(2); // both threads still stuck
      fs.proc.stdin.write('grant\n');
      // Each abandoned thread is granted now: nobody owns that lock, so it unlocks it.
      expect([await fs.line(), await fs.line()]).toEqual(['unlock', 'unlock']);
      await until(() => native.waiterThreads()[0] === native.waiterThreads()[1]); // parked again
    } finally {
      closeSync(fd);
    }
  });

  it('a late POSIX grant undone after the fd number was reused for another file unlocks nothing there', async () => {
    // The abandoned thread may only undo through an fd that still names the file it
    // waited on (native/waiter_pool.cc, UndoAbandoned). A close before the grant is
    // caught by the kernel itself (fs/locks.c fcntl_setlk drops a lock granted to a
    // closed fd and returns EBADF); the window that is left is between the grant and
    // the undo, which a test hook holds open here. Without the identity check (native
    // mutant skip-identity-check) the undo unlocks the other file through the reused
    // number and drops the process's lock there.
    const { file: f, fs } = await stuckFs();
    native.waiterHoldUndos(true);
    onTestFinished(() => void native.waiterHoldUndos(false));
    const fd = openSync(f, constants.O_RDWR);
    await expect(lock(fd, { kind: 'posix', timeout: 100 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(await fs.line()).toBe('wait');
    fs.proc.stdin.write('grant\n');
    await until(() => native.waiterHoldUndos() === 1, 'the granted abandoned wait to stop before its undo');
    closeSync(fd);
    const other = file();
    const opened: number[] = [];
    let reused = -1;
    while (reused !== fd && opened.length < 50) opened.push((reused = openSync(other, constants.O_RDWR)));
    expect(reused).toBe(fd); // the lowest free number: the one just closed
    fcntlLockSync(reused, { mode: 'exclusive' }); // a primitive: not in the library's table
    const mine = (): ProcLocksEntry[] => procLocks(other).filter((e) => e.pid === process.pid && !e.waiting);
    expect(mine()).toMatchObject([{ type: 'POSIX', access: 'WRITE' }]);
    native.waiterHoldUndos(false);
    await until(() => native.waiterHoldUndos() === 0, 'the held undo to go on');
    await until(() => native.waiterThreads()[0] === native.waiterThreads()[1], 'the abandoned thread to park again');
    expect(mine()).toMatchObject([{ type: 'POSIX', access: 'WRITE' }]);
    for (const o of opened) closeSync(o);
  });

  it('an abandoned OFD wait closes its own reference to the file once the late grant is undone', async () => {
    // flock and OFD undos go through a dup of the caller's fd (same open file
    // description): the thread must close it afterwards. Without that close (native
    // mutant skip-undo-fd-close) the dup stays open on the file for good.
    const { file: f, fs } = await stuckFs();
    const fd = openSync(f, constants.O_RDWR);
    await expect(lock(fd, { kind: 'ofd', timeout: 100 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(await fs.line()).toBe('wait');
    closeSync(fd);
    expect(fdsOn(f)).toHaveLength(1); // the thread's dup
    fs.proc.stdin.write('grant\n');
    expect(await fs.line()).toBe('unlock'); // the undo, through the dup
    await until(() => native.waiterThreads()[0] === native.waiterThreads()[1], 'the abandoned thread to park again');
    expect(fdsOn(f)).toEqual([]);
  });
});
