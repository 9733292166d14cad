// lib/wait.ts's asynchronous wait around the native engine, each observable a StrykerJS
// run found unasserted. The paths need the engine in a given state (no thread to be
// had, a cancel still pending, a result already posted), so some tests stand in for one
// native call through the module instance the library itself loaded (createRequire:
// an `import` from here would load a second copy of dist/ with its own bindings).
import { closeSync, constants, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import type * as Index from '../dist/index.js';
import type * as Native from '../dist/native.js';
import type * as Syscall from '../dist/syscall.js';
import type * as Errors from '../dist/errors.js';
import { procLocks, until, useTempFiles, within } from './helpers.js';
import { pythonHolder } from './python.js';

const load = createRequire(import.meta.url);
const { lock, tryLock } = load('../dist/index.js') as typeof Index;
const { native } = load('../dist/native.js') as typeof Native;
const syscall = load('../dist/syscall.js') as typeof Syscall;
const { errnoOf } = load('../dist/errors.js') as typeof Errors;
const temp = useTempFiles();

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** Replaces one property of `obj` for the rest of the test. */
function standIn<T extends object, K extends keyof T>(obj: T, key: K, value: T[K]): T[K] {
  const real = obj[key];
  (obj as Mutable<T>)[key] = value;
  onTestFinished(() => void ((obj as Mutable<T>)[key] = real));
  return real;
}

/** A file held exclusively (OFD) by this process through a lock of its own, and another fd on it. */
function heldFile(): { f: string; held: Index.FileLock; fd: number } {
  const f = temp();
  const held = tryLock(f, { kind: 'ofd' })!;
  const fd = openSync(f, constants.O_RDWR);
  onTestFinished(() => {
    if (!held.released) held.release();
    closeSync(fd);
  });
  return { f, held, fd };
}

/** The locks on `f` that are held, not waited for. */
const heldOn = (f: string): number => procLocks(f).filter((l) => !l.waiting).length;

describe('no waiter thread to be had: the wait polls', () => {
  it('an aborted polling wait polls no more: nothing is taken after the holder goes', async () => {
    const { f, held, fd } = heldFile();
    standIn(native, 'waitStart', () => errnoOf('ENOMEM'));
    const ac = new AbortController();
    const waiting = lock(fd, { kind: 'ofd', signal: ac.signal });
    await sleep(20); // a few polls
    ac.abort();
    await expect(within(waiting, 'the aborted polling wait did not settle')).rejects.toMatchObject({
      name: 'AbortError',
    });
    held.release();
    // Past the longest backoff (32 ms) several times: a poll left scheduled would take it.
    await sleep(200);
    expect(heldOn(f)).toBe(0);
  });

  it('a kernel error while polling ends the wait with it, naming the non-blocking call', async () => {
    const { fd } = heldFile();
    standIn(native, 'waitStart', () => errnoOf('ENOMEM'));
    const realTry = syscall.trySet;
    let polls = 0;
    // fcntl(2): "ENOLCK Too many segment locks open, lock table is full".
    standIn(syscall, 'trySet', (req) => (++polls < 3 ? realTry(req) : errnoOf('ENOLCK')));
    const err = await within(
      lock(fd, { kind: 'ofd', timeout: 60_000 }).catch((e: unknown) => e),
      'the polling wait did not end at the error',
    );
    expect(err).toMatchObject({ code: 'ENOLCK', syscall: 'fcntl(F_OFD_SETLK)' });
    expect(polls).toBe(3);
  });
});

it('a wait the engine refuses to start (ECANCELED: shutting down) rejects with that, naming the wait', async () => {
  const { fd } = heldFile();
  standIn(native, 'waitStart', () => errnoOf('ECANCELED'));
  const err = await within(
    lock(fd, { kind: 'ofd', timeout: 60_000 }).catch((e: unknown) => e),
    'the refused wait did not settle',
  );
  expect(err).toMatchObject({ code: 'ECANCELED', syscall: 'fcntl(F_OFD_SETLKW)' });
});

it('a cancel while another is still pending keeps the first reason (timeout, then abort)', async () => {
  const { fd } = heldFile();
  let hold = true;
  let calls = 0;
  const realCancel = native.waitCancel;
  // While `hold`, the engine answers "pending" (its answer while a thread leaves the kernel).
  standIn(native, 'waitCancel', (id, abandon) => (++calls, hold ? 1 : realCancel(id, abandon)));
  const ac = new AbortController();
  const waiting = lock(fd, { kind: 'ofd', timeout: 10, signal: ac.signal });
  await until(() => calls > 0, 'the timeout to cancel the wait');
  ac.abort();
  hold = false;
  await expect(within(waiting, 'the cancelled wait did not settle')).rejects.toMatchObject({ code: 'ETIMEDOUT' });
});

describe.each(['flock', 'posix', 'ofd'] as const)('%s: a grant already posted when the caller aborts', (kind) => {
  it('is unlocked again by the JS side; the caller holds nothing', async () => {
    // Cancel() answers "pending" once the thread has posted its result, so the native
    // side cannot undo it: the completion arrives with code 0 after the abort, and
    // wait.ts must hand the lock back. On the caller's own fd, so nothing else (an owned
    // fd being closed) drops it in its place.
    const f = temp();
    const fd = openSync(f, constants.O_RDWR);
    onTestFinished(() => closeSync(fd));
    // python3 holds it (POSIX locks are the process's own: another process for all kinds
    // alike) and lets go on its own after a second, while this thread spins below.
    await pythonHolder(f, kind, 1);
    const records = native.tableStats().liveLocks;
    const ac = new AbortController();
    const waiting = lock(fd, { kind, signal: ac.signal });
    await until(() => procLocks(f).some((l) => l.waiting), 'the wait to block in the kernel');
    const [live] = native.waiterThreads();
    // Synchronously from here to the abort: the completion cannot be delivered meanwhile.
    const deadline = Date.now() + 10_000;
    while (native.waiterThreads()[1] < live && Date.now() < deadline); // the thread parked: result posted
    expect(heldOn(f)).toBe(1); // granted to the waiter
    ac.abort();
    await expect(within(waiting, 'the aborted wait did not settle')).rejects.toMatchObject({ name: 'AbortError' });
    expect(heldOn(f)).toBe(0);
    // The addon records a granted wait's lock before its callback, unless the caller
    // gave up first: nothing may stay in the lock table for a lock nobody holds.
    expect(native.tableStats().liveLocks).toBe(records);
  });
});
