// Issue 3: waits that never block the event loop or starve the threadpool, and
// that end (timeout, abort, teardown) without leaving a thread, fd or lock behind.
import { spawn } from 'node:child_process';
import { openSync, closeSync, constants, promises as fsp } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AbortError, lock, lockSync, tryLock, type FileLock, type LockKind } from '../dist/index.js';
import { native } from '../dist/native.js';
import { fdCount, procLocks, processAgent, threadCount, until, useTempFiles, within } from './helpers.js';

/** This process's thread count once no waiter thread is left (they linger after a wait). */
async function settledThreadCount(): Promise<number> {
  await until(() => native.waiterThreads()[0] === 0);
  return threadCount();
}

/**
 * The process is back to at most `threads` threads and no waiter thread lives. At
 * most, not exactly: a thread of someone else's (V8, a test runner's worker) may end
 * meanwhile; a thread of ours that stays fails here, naming the counts.
 */
async function threadsBackTo(threads: number): Promise<void> {
  await until(
    () => native.waiterThreads()[0] === 0 && threadCount() <= threads,
    () => `threads did not come back to ${threads} (now ${threadCount()}, waiters ${native.waiterThreads()[0]})`,
  );
}

// Temp files and agents of each test are removed after it.
const file = useTempFiles();
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const KINDS: LockKind[] = ['flock', 'posix', 'ofd'];

describe.each(KINDS)('lock() waits, kind %s', (kind) => {
  it('is granted when the other process releases', async () => {
    const f = file();
    const a = await processAgent();
    const held = await a.ok<{ id: number }>('tryLock', { path: f, options: { kind } });
    let granted = false;
    const waiting = lock(f, { kind }).then((l) => {
      granted = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(granted).toBe(false);
    await a.ok('release', { id: held.id });
    const l = await within(waiting, 'lock() was not granted after the other process released');
    expect(l.kind).toBe(kind);
    expect(procLocks(f).filter((e) => !e.waiting)).toHaveLength(1);
    l.release();
  });

  it('timeout ends the kernel wait: ETIMEDOUT, no thread, fd or lock left', async () => {
    const f = file();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind } });
    const threads = await settledThreadCount();
    const fds = fdCount();
    const err = await within(
      lock(f, { kind, timeout: 30 }).catch((e: unknown) => e as NodeJS.ErrnoException),
      'lock() with a 30 ms timeout behind a held lock did not time out',
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      code: 'ETIMEDOUT',
      path: f,
      message: expect.stringMatching(
        new RegExp(`^ETIMEDOUT: lock wait timed out after 30 ms \\(held by pid ${a.pid} 'node'\\), `),
      ),
    });
    await threadsBackTo(threads);
    expect(fdCount()).toBe(fds);
    expect(procLocks(f).filter((e) => e.pid === process.pid || e.waiting)).toEqual([]);
  });

  it('abort ends the kernel wait with an AbortError; the lock is free for others afterwards', async () => {
    const f = file();
    const a = await processAgent();
    const held = await a.ok<{ id: number }>('tryLock', { path: f, options: { kind } });
    const ac = new AbortController();
    const waiting = lock(f, { kind, signal: ac.signal });
    await until(() => procLocks(f).some((e) => e.waiting));
    ac.abort(new Error('user gave up'));
    const err = (await within(
      waiting.catch((e: unknown) => e),
      'lock() did not end after its signal was aborted',
    )) as AbortError;
    expect(err).toBeInstanceOf(AbortError);
    expect(err.name).toBe('AbortError');
    expect(err.code).toBe('ABORT_ERR');
    expect((err.cause as Error).message).toBe('user gave up');
    expect(procLocks(f).some((e) => e.waiting)).toBe(false);
    await a.ok('release', { id: held.id });
    const b = await processAgent();
    expect(await b.ok('tryLock', { path: f, options: { kind } })).not.toBeNull();
  });

  it('lockSync with a timeout ends the wait too', async () => {
    const f = file();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: { kind } });
    const threads = await settledThreadCount();
    const fds = fdCount();
    expect(() => lockSync(f, { kind, timeout: 20 })).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    await threadsBackTo(threads);
    expect(fdCount()).toBe(fds);
  });
});

it('an already-aborted signal rejects at once, without a syscall (the path is not even created)', async () => {
  const path = `${dirname(file())}/not-created.lock`;
  const ac = new AbortController();
  ac.abort();
  const err = await within(
    lock(path, { signal: ac.signal }).catch((e: unknown) => e),
    'lock() with an already-aborted signal did not reject',
  );
  expect(err).toBeInstanceOf(AbortError);
  await expect(fsp.access(path)).rejects.toMatchObject({ code: 'ENOENT' });
});

it('200 pending waits leave fs.promises, timers and the event loop working', async () => {
  const f = file();
  const other = file();
  await fsp.writeFile(other, 'still readable');
  const a = await processAgent();
  const held = await a.ok<{ id: number }>('tryLock', { path: f, options: { kind: 'ofd', mode: 'exclusive' } });
  const waits = Array.from({ length: 200 }, () => lock(f, { kind: 'ofd', mode: 'shared' }));
  let settled = 0;
  for (const w of waits)
    void w.then(
      () => settled++,
      () => settled++,
    );
  await until(() => procLocks(f).filter((e) => e.waiting).length === 200, '200 waiters in /proc/locks');
  // Every libuv threadpool thread would be taken if the waits sat there.
  const reads = await within(
    Promise.all(Array.from({ length: 16 }, () => fsp.readFile(other, 'utf8'))),
    '16 fs.promises reads did not finish while 200 lock waits were pending (do the waits sit on the threadpool?)',
  );
  expect(reads.every((r) => r === 'still readable')).toBe(true);
  // Timers fire while the waits are pending: 20 ticks of a 1 ms interval, and at the 20th
  // the kernel still has all 200 waiters queued and no wait has settled.
  const atTick20 = await within(
    new Promise<{ waiting: number; settled: number }>((resolve) => {
      let ticks = 0;
      const t = setInterval(() => {
        if (++ticks === 20) {
          clearInterval(t);
          resolve({ waiting: procLocks(f).filter((e) => e.waiting).length, settled });
        }
      }, 1);
    }),
    'a 1 ms interval did not fire 20 times while 200 lock waits were pending',
  );
  expect(atTick20).toEqual({ waiting: 200, settled: 0 });
  await a.ok('release', { id: held.id });
  const locks = await within(Promise.all(waits), '200 shared waits were not all granted after the holder released');
  expect(locks).toHaveLength(200);
  for (const l of locks) l.release();
});

/** Waits (a tick at a time) until a waiter on `f` shows in /proc/locks. */
async function untilQueued(f: string, round: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!procLocks(f).some((e) => e.waiting)) {
    if (Date.now() > deadline) throw new Error(`round ${round}: the wait never showed as queued in /proc/locks`);
    await new Promise((r) => setImmediate(r));
  }
}

it('10,000 waits that were granted, timed out or aborted leave threads, fds and /proc/locks as before', async () => {
  const f = file();
  const holderFd = openSync(f, constants.O_RDWR);
  const waiterFd = openSync(f, constants.O_RDWR);
  const threads = await settledThreadCount();
  const fds = fdCount();
  // OFD locks on two fds of one process are two owners (fcntl(2)), so the waits are
  // contended without another process; every third one is granted.
  let holder: FileLock | null = tryLock(holderFd, { kind: 'ofd' })!;
  // `npm run mutate` runs 300 rounds (each surviving mutant reruns every test covering it).
  const rounds = process.env['SYSLOCKS_MUTATION_RUN'] ? 300 : 10_000;
  for (let i = 0; i < rounds; i++) {
    const how = i % 3;
    if (how === 0) {
      const p = lock(waiterFd, { kind: 'ofd' });
      // Release only once the kernel has the wait queued: released earlier, the first
      // non-blocking attempt would take the lock and no wait would be granted at all.
      await untilQueued(f, i);
      holder!.release();
      const granted = await within(p, `round ${i}: lock() was not granted after the holder released`);
      // The grant is a real exclusive lock: the holder's fd (another owner) is refused.
      if (tryLock(holderFd, { kind: 'ofd' }) !== null) throw new Error(`round ${i}: the granted wait holds no lock`);
      granted.release();
      holder = tryLock(holderFd, { kind: 'ofd' });
      if (holder === null) throw new Error(`round ${i}: the released grant still blocks the holder`);
    } else if (how === 1) {
      const err = await within(
        lock(waiterFd, { kind: 'ofd', timeout: 0.5 + (i % 2) }).catch((e: unknown) => e),
        `round ${i}: lock() with a ${0.5 + (i % 2)} ms timeout behind a held lock did not time out`,
      );
      expect(err).toMatchObject({ code: 'ETIMEDOUT' });
    } else {
      const ac = new AbortController();
      const p = lock(waiterFd, { kind: 'ofd', signal: ac.signal });
      if (i % 4 === 0) await new Promise((r) => setImmediate(r));
      ac.abort();
      const aborted = await within(
        p.catch((e: unknown) => e),
        `round ${i}: lock() did not end after its signal was aborted`,
      );
      expect(aborted).toBeInstanceOf(AbortError);
    }
  }
  holder!.release();
  await threadsBackTo(threads);
  expect(fdCount()).toBe(fds);
  expect(procLocks(f)).toEqual([]);
  closeSync(holderFd);
  closeSync(waiterFd);
});

it('EDEADLK from a POSIX wait surfaces as an error, never as a hang', async () => {
  const f = file();
  const a = await processAgent();
  const b = await processAgent();
  await a.ok('tryLock', { path: f, options: { kind: 'posix', range: { start: 0, length: 1 } } });
  await b.ok('tryLock', { path: f, options: { kind: 'posix', range: { start: 1, length: 1 } } });
  const aWaits = a.call('lock', { path: f, options: { kind: 'posix', range: { start: 1, length: 1 } } });
  await until(() => procLocks(f).some((e) => e.waiting));
  const bWaits = await b.call('lock', { path: f, options: { kind: 'posix', range: { start: 0, length: 1 } } });
  expect(bWaits.ok).toBe(false);
  expect(bWaits.error).toMatchObject({ code: 'EDEADLK', syscall: 'fcntl(F_SETLKW)' });
  await b.kill();
  expect((await aWaits).ok).toBe(true);
});

it('OFD locks have no deadlock detection (fcntl(2)): a timeout is the way out', async () => {
  const f = file();
  const a = await processAgent();
  const b = await processAgent();
  await a.ok('tryLock', { path: f, options: { kind: 'ofd', range: { start: 0, length: 1 } } });
  await b.ok('tryLock', { path: f, options: { kind: 'ofd', range: { start: 1, length: 1 } } });
  const aWaits = a.call('lock', { path: f, options: { kind: 'ofd', range: { start: 1, length: 1 }, timeout: 300 } });
  const bWaits = b.call('lock', { path: f, options: { kind: 'ofd', range: { start: 0, length: 1 }, timeout: 300 } });
  const [ra, rb] = await Promise.all([aWaits, bWaits]);
  expect([ra.error?.code, rb.error?.code]).toEqual(['ETIMEDOUT', 'ETIMEDOUT']);
});

it('a worker terminated mid-wait ends cleanly: no crash, no lock and no fd left', async () => {
  const held = file();
  const waitFor = file();
  const a = await processAgent();
  await a.ok('tryLock', { path: waitFor, options: {} });
  const fds = fdCount();
  const worker = new Worker(fixture('worker-waiter.mjs'), { workerData: { heldPath: held, waitPath: waitFor } });
  const messages: unknown[] = [];
  worker.on('message', (m) => messages.push(m));
  await until(() => messages.includes('waiting'));
  expect(messages[0]).toEqual({ held: true });
  expect(procLocks(waitFor).some((e) => e.waiting)).toBe(true);
  await within(worker.terminate(), 'a worker waiting in lock() did not stop after terminate()');
  expect(messages).not.toContain('granted');
  expect(procLocks(waitFor).some((e) => e.waiting)).toBe(false);
  expect(procLocks(held)).toEqual([]); // the worker's held path lock went with it
  expect(fdCount()).toBe(fds);
  const mine = tryLock(held);
  expect(mine).not.toBeNull();
  mine!.release();
});

describe.each(['exit', 'throw'])('a process that ends (%s) with pending waits', (how) => {
  it('exits instead of hanging', async () => {
    const f = file();
    const a = await processAgent();
    await a.ok('tryLock', { path: f, options: {} });
    const child = spawn(process.execPath, [fixture('exit-while-waiting.mjs'), f, '20', how], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await within(
      new Promise<number | null>((r) => child.once('exit', (c) => r(c))),
      () => `a process that ended (${how}) with 20 pending waits did not exit (stdout: ${JSON.stringify(out)})`,
    ).finally(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // none outlives a failure
    });
    expect(out).toBe('waiting\n');
    expect(code).toBe(how === 'exit' ? 0 : 1);
    expect(procLocks(f).some((e) => e.waiting)).toBe(false);
  });
});

describe.each(['flock', 'posix', 'ofd'] as const)('a process whose contended lock() was granted (%s)', (kind) => {
  // An addon handle, timer or listener left ref'd after the last wait would keep the
  // process alive; only example scripts hanging until a spawn timeout showed it before.
  it.each(['plain', 'timeout', 'signal'])(
    'exits on its own after its last lock is granted and released (%s)',
    async (how) => {
      const f = file();
      const a = await processAgent();
      const held = await a.ok<{ id: number }>('tryLock', { path: f, options: { kind } });
      const child = spawn(process.execPath, [fixture('exit-after-grant.mjs'), f, kind, how], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      try {
        await until(
          () =>
            procLocks(f).some((e) => e.waiting && e.pid === (kind === 'ofd' ? -1 : child.pid)) ||
            child.exitCode !== null,
          `the child's wait never showed in /proc/locks (stdout: ${out}, stderr: ${err})`,
        );
        await a.ok('release', { id: held.id });
        await until(
          () => out.includes('released\n') || child.exitCode !== null,
          `the child was not granted (stdout: ${out}, stderr: ${err})`,
        );
        const code = await within(exited, 'process did not exit after its last lock was granted', 10_000);
        expect({ out, err, code }).toEqual({ out: 'granted\nreleased\n', err: '', code: 0 });
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  );
});

it('one AbortSignal shared by 50 waits aborts them all, with one listener and no warning', async () => {
  const f = file();
  const a = await processAgent();
  await a.ok('tryLock', { path: f, options: { kind: 'ofd' } });
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  const ac = new AbortController();
  const waits = Array.from({ length: 50 }, () => lock(f, { kind: 'ofd', signal: ac.signal }).catch((e: unknown) => e));
  await until(() => procLocks(f).filter((e) => e.waiting).length === 50);
  ac.abort();
  const results = await within(
    Promise.all(waits),
    'the 50 waits did not all end after their shared signal was aborted',
  );
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  expect(results.every((r) => r instanceof AbortError)).toBe(true);
  expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  expect(procLocks(f).some((e) => e.waiting)).toBe(false);
});
