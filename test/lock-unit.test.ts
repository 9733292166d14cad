// lock()/lockSync()/tryLock()/getLock() in one process, each observable a StrykerJS run
// found unasserted: an uncontended lock() records one lock (not a second from a
// needless wait), a signal aborted while the path is being opened closes that fd,
// an abort's reason is the error's cause, the flock-with-range refusal names the
// option and the value, and getLock() names the holder's pid for POSIX and OFD holders
// (the OFD one resolved through /proc/locks).
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getLock, lock, lockSync, tryLock } from '../dist/index.js';
import { native } from '../dist/native.js';
import { processAgent, procLocks, useTempFiles } from './helpers.js';

const temp = useTempFiles();

/** This process's fds open on `file`. */
function fdsOn(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      /* the fd readdir itself used, closed by now */
    }
  }
  return n;
}

describe('an uncontended lock records exactly one lock', () => {
  it.each(['lock', 'lockSync', 'tryLock'] as const)('%s', async (via) => {
    const file = temp();
    const before = native.tableStats().liveLocks;
    const held = via === 'lock' ? await lock(file) : via === 'lockSync' ? lockSync(file) : tryLock(file)!;
    expect(native.tableStats().liveLocks).toBe(before + 1);
    expect(native.pendingWaits()).toBe(0);
    held.release();
    expect(native.tableStats().liveLocks).toBe(before);
    expect(fdsOn(file)).toBe(0);
  });
});

describe('aborts', () => {
  it('a signal aborted before the call: its reason is the cause, nothing opened', async () => {
    const file = temp();
    const reason = new Error('before');
    const err = await lock(file, { signal: AbortSignal.abort(reason) }).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect((err as Error).cause).toBe(reason);
    expect(fdsOn(file)).toBe(0);
  });

  it('a signal aborted while the path is being opened closes that fd and takes no lock', async () => {
    const file = temp();
    const controller = new AbortController();
    const reason = new Error('during the open');
    const pending = lock(file, { signal: controller.signal });
    controller.abort(reason); // the open is on libuv's pool now
    const err = await pending.catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect((err as Error).cause).toBe(reason);
    expect(fdsOn(file)).toBe(0);
    expect(procLocks(file)).toEqual([]);
  });
});

describe('argument errors name the option and the value', () => {
  it("kind 'flock' with a range", () => {
    expect(() => tryLock(temp(), { kind: 'flock', range: { start: 1, length: 2 } })).toThrow(
      "The argument 'options.range' cannot be used with kind 'flock', which locks whole files only (flock(2)); " +
        "use 'ofd' or 'posix' for byte ranges. Received an instance of Object",
    );
  });

  it("'auto' with a range is an OFD lock on that range, not a whole-file flock", () => {
    const file = temp();
    const held = tryLock(file, { range: { start: 10, length: 5 } })!;
    expect(held.kind).toBe('ofd');
    expect(procLocks(file).map((l) => [l.type, l.start, l.end])).toEqual([['OFDLCK', '10', '14']]);
    held.release();
  });
});

describe('getLock() names the holder', () => {
  it.each(['posix', 'ofd'] as const)('%s holder in another process', async (kind) => {
    const file = temp();
    const agent = await processAgent();
    await agent.ok('tryLock', { path: file, options: { kind } });
    expect(getLock(file, { kind })).toEqual({ kind, mode: 'exclusive', start: 0n, length: 0n, pid: agent.pid });
  });
});
