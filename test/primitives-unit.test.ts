// The syscall-level primitives (flockSync/flock, fcntlLockSync/fcntlLock,
// fcntlGetLockSync, the Windows LockFileEx family) against a holder in another
// process, each observable a StrykerJS run found unasserted: `wait: true` really waits
// (a short timeout proves it: ETIMEDOUT, not EAGAIN), 'unlock' unlocks on both paths,
// `ofd: true` makes an OFD lock (/proc/locks says so), a signal aborted before the call
// takes no lock, and what F_GETLK / F_OFD_GETLK report for each mode.
import { closeSync, constants, openSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fcntlGetLockSync,
  fcntlLock,
  fcntlLockSync,
  flock,
  flockSync,
  lockFileEx,
  lockFileExSync,
  unlockFileExSync,
} from '../dist/index.js';
import { processAgent, procLocks, useTempFiles, type Agent, thrown } from './helpers.js';
import { outsideTry } from './python.js';

const temp = useTempFiles();
let file = '';
let fd = -1;
beforeEach(() => {
  file = temp();
  fd = openSync(file, constants.O_RDWR);
});
afterEach(() => {
  closeSync(fd);
});

/** An agent process holding `kind` (exclusive unless said) on the whole file. */
async function holder(kind: 'flock' | 'posix' | 'ofd', mode = 'exclusive'): Promise<{ agent: Agent; id: number }> {
  const agent = await processAgent();
  const held = await agent.ok<{ id: number }>('tryLock', { path: file, options: { kind, mode } });
  return { agent, id: held.id };
}

describe('wait: true waits; without it a held lock is EAGAIN', () => {
  it('flockSync', async () => {
    const { agent, id } = await holder('flock');
    expect(thrown(() => flockSync(fd, 'exclusive')).message).toBe('EAGAIN: resource temporarily unavailable, flock');
    expect(thrown(() => flockSync(fd, 'exclusive', { wait: true, timeout: 50 }))).toMatchObject({
      code: 'ETIMEDOUT',
      syscall: 'flock',
    });
    await agent.ok('release', { id });
    flockSync(fd, 'exclusive', { wait: true, timeout: 20_000 });
    expect(procLocks(file).map((l) => l.type)).toEqual(['FLOCK']);
    flockSync(fd, 'unlock');
    expect(outsideTry(file, 'flock')).toBe('free');
  });

  it.each([
    ['posix', false, 'POSIX', 'fcntl(F_SETLK)', 'fcntl(F_SETLKW)'],
    ['ofd', true, 'OFDLCK', 'fcntl(F_OFD_SETLK)', 'fcntl(F_OFD_SETLKW)'],
  ] as const)('fcntlLockSync %s', async (kind, ofd, procType, trySyscall, waitSyscall) => {
    const { agent, id } = await holder(kind);
    expect(thrown(() => fcntlLockSync(fd, { mode: 'exclusive', ofd }))).toMatchObject({
      code: 'EAGAIN',
      syscall: trySyscall,
    });
    expect(thrown(() => fcntlLockSync(fd, { mode: 'exclusive', ofd, wait: true, timeout: 50 }))).toMatchObject({
      code: 'ETIMEDOUT',
      syscall: waitSyscall,
    });
    await agent.ok('release', { id });
    fcntlLockSync(fd, { mode: 'exclusive', ofd, wait: true, timeout: 20_000 });
    expect(procLocks(file).map((l) => [l.type, l.access])).toEqual([[procType, 'WRITE']]);
    fcntlLockSync(fd, { mode: 'unlock', ofd });
    expect(outsideTry(file, 'fcntl')).toBe('free');
  });
});

it('the sync primitives: an error other than contention with wait: true throws from the try, without waiting', () => {
  // A read-only fd cannot take a write lock (fcntl(2), EBADF): F_SETLK says so at once;
  // waiting would only ask F_SETLKW the same question and name the wrong call.
  const readOnly = openSync(file, 'r');
  try {
    expect(thrown(() => fcntlLockSync(readOnly, { mode: 'exclusive', wait: true }))).toMatchObject({
      code: 'EBADF',
      syscall: 'fcntl(F_SETLK)',
    });
  } finally {
    closeSync(readOnly);
  }
});

describe('the async primitives', () => {
  it.each([
    ['posix', false, 'POSIX', 'fcntl(F_SETLKW)'],
    ['ofd', true, 'OFDLCK', 'fcntl(F_OFD_SETLKW)'],
  ] as const)('fcntlLock %s: times out while held, locks after, unlocks', async (kind, ofd, procType, waitSyscall) => {
    const { agent, id } = await holder(kind);
    await expect(fcntlLock(fd, { mode: 'shared', ofd, timeout: 50 })).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      syscall: waitSyscall,
    });
    await agent.ok('release', { id });
    await fcntlLock(fd, { mode: 'shared', ofd, timeout: 20_000 });
    expect(procLocks(file).map((l) => [l.type, l.access])).toEqual([[procType, 'READ']]);
    await fcntlLock(fd, { mode: 'unlock', ofd });
    expect(outsideTry(file, 'fcntl')).toBe('free');
  });

  it('flock: times out while held, locks after, unlocks', async () => {
    const { agent, id } = await holder('flock');
    await expect(flock(fd, 'shared', { timeout: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'flock' });
    await agent.ok('release', { id });
    await flock(fd, 'shared', { timeout: 20_000 });
    expect(procLocks(file).map((l) => [l.type, l.access])).toEqual([['FLOCK', 'READ']]);
    await flock(fd, 'unlock');
    expect(outsideTry(file, 'flock')).toBe('free');
  });

  it('a signal aborted before the call takes no lock, even on a free file', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    for (const p of [
      flock(fd, 'exclusive', { signal: controller.signal }),
      fcntlLock(fd, { mode: 'exclusive', signal: controller.signal }),
    ]) {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      expect(err?.cause).toBe(reason);
    }
    expect(procLocks(file)).toEqual([]);
  });

  it('an error other than contention rejects at once, naming the non-waiting call', async () => {
    const closed = openSync(file, 'r');
    closeSync(closed);
    await expect(fcntlLock(closed, { mode: 'exclusive', timeout: 20_000 })).rejects.toMatchObject({
      code: 'EBADF',
      syscall: 'fcntl(F_SETLK)',
    });
    await expect(flock(closed, 'exclusive')).rejects.toMatchObject({ code: 'EBADF', syscall: 'flock' });
  });
});

describe('fcntlGetLockSync', () => {
  it('asks for an exclusive lock unless told; ofd: true uses F_OFD_GETLK', async () => {
    const { agent } = await holder('posix', 'shared');
    const conflict = { mode: 'shared', start: 0n, length: 0n, pid: agent.pid };
    expect(fcntlGetLockSync(fd)).toEqual({ kind: 'posix', ...conflict });
    expect(fcntlGetLockSync(fd, { mode: 'shared' })).toBeNull();
    expect(fcntlGetLockSync(fd, { ofd: true })).toEqual({ kind: 'ofd', ...conflict });
    expect(() => fcntlGetLockSync(fd, { mode: 'unlock' as 'shared' })).toThrow(
      "The argument 'options.mode' must be 'shared', 'exclusive'. Received type string ('unlock')",
    );
  });
});

describe('the Windows primitives on Linux', () => {
  it('throw (or reject) ERR_FEATURE_UNAVAILABLE_ON_PLATFORM and touch nothing', async () => {
    const unavailable = expect.objectContaining({ code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' });
    expect(() => lockFileExSync(fd)).toThrow(unavailable);
    expect(() => unlockFileExSync(fd)).toThrow(unavailable);
    const p = lockFileEx(fd); // a promise, not a throw
    await expect(p).rejects.toEqual(unavailable);
    expect(procLocks(file)).toEqual([]);
  });
});

describe('bad operations name what is allowed', () => {
  it('flockSync and fcntlLockSync', () => {
    expect(() => flockSync(fd, 'up' as 'shared')).toThrow(
      "The argument 'operation' must be 'shared', 'exclusive' or 'unlock'. Received type string ('up')",
    );
    expect(() => fcntlLockSync(fd, { mode: 'up' as 'shared' })).toThrow(
      "The argument 'options.mode' must be 'shared', 'exclusive' or 'unlock'. Received type string ('up')",
    );
  });

  it('flock and fcntlLock reject with the same words', async () => {
    await expect(flock(fd, 'up' as 'shared')).rejects.toThrow(
      "The argument 'operation' must be 'shared', 'exclusive' or 'unlock'. Received type string ('up')",
    );
    await expect(fcntlLock(fd, { mode: 'up' as 'shared' })).rejects.toThrow(
      "The argument 'options.mode' must be 'shared', 'exclusive' or 'unlock'. Received type string ('up')",
    );
  });
});
