// A lock only ever releases what it holds: release() never unlocks or closes through
// an fd that stopped being the lock's (closed, number reused), a FileHandle target is
// checked by the handle, two copies of the library each take real locks, and the
// deferred closes POSIX locks need stay bounded. Witnesses: python3 in another
// process, /proc/self/fd.
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { open as openHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import {
  fcntlLockSync,
  flockSync,
  getLock,
  lock as lockAsync,
  lockSync,
  tryLock,
  type LockKind,
} from '../dist/index.js';
import { fdCount, processAgent, procLocks, until, useTempFiles, within } from './helpers.js';
import { outsideTry, pythonHolder } from './python.js';

const temp = useTempFiles();
const KINDS: LockKind[] = ['flock', 'posix', 'ofd'];
const family = (k: LockKind): 'flock' | 'fcntl' => (k === 'flock' ? 'flock' : 'fcntl');

/** Locks `fd` exclusively with the primitive of `kind`: someone else's lock, not a FileLock. */
function primitiveLock(fd: number, kind: LockKind): void {
  if (kind === 'flock') flockSync(fd, 'exclusive');
  else fcntlLockSync(fd, { mode: 'exclusive', ofd: kind === 'ofd' });
}

/** What `f` threw (undefined when it returned). */
function thrown(f: () => void): { code?: string; message: string } | undefined {
  try {
    f();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  return undefined;
}

describe.each(KINDS)('identity, kind %s', (kind) => {
  it('release() after the fd was closed and its number reused leaves the other file’s lock alone', () => {
    const a = temp();
    const b = temp();
    const fd = openSync(a, 'r+');
    const lock = tryLock(fd, { kind })!;
    closeSync(fd); // the lock dies with the close (flock(2), fcntl(2))
    const other = openSync(b, 'r+');
    expect(other).toBe(fd); // open(2): the lowest free number
    try {
      primitiveLock(other, kind);
      expect(outsideTry(b, family(kind))).toBe('busy');
      const err = thrown(() => lock.release());
      expect(outsideTry(b, family(kind))).toBe('busy'); // the other lock is untouched
      expect(err?.code).toBe('ERR_LOCK_LOST');
      expect(err?.message).toMatch(new RegExp(`fd ${fd} was closed and now refers to another file`));
      expect(lock.released).toBe(true);
      expect(() => lock.release()).not.toThrow(); // once released, always released
    } finally {
      closeSync(other);
    }
  });

  it('a path lock whose fd the caller closed does not close the fd that now has its number', () => {
    const a = temp();
    const b = temp();
    const lock = tryLock(a, { kind })!;
    closeSync(lock.fd);
    const other = openSync(b, 'r+');
    expect(other).toBe(lock.fd);
    try {
      const err = thrown(() => lock.release());
      expect(fstatSync(other).ino).toBe(statSync(b).ino); // not closed under its owner
      expect(err?.code).toBe('ERR_LOCK_LOST');
    } finally {
      closeSync(other);
    }
  });
});

// flock and OFD locks belong to the open file description, which a pending wait keeps
// alive after the caller closes its fd: the grant goes to the file the wait began on.
// (A POSIX wait fails instead: the kernel sees the close and drops the grant, fcntl(2).)
describe.each(['flock', 'ofd'] as const)('identity of a wait, kind %s', (kind) => {
  it('an fd closed and reused while the lock was awaited: release() leaves the new file’s lock alone', async () => {
    const a = temp();
    const b = temp();
    const fd = openSync(a, 'r+');
    await pythonHolder(a, kind, 1); // another process; lets go after a second
    const waiting = lockAsync(fd, { kind });
    await until(() => procLocks(a).some((l) => l.waiting), 'the wait to block in the kernel');
    closeSync(fd);
    const other = openSync(b, 'r+');
    expect(other).toBe(fd); // open(2): the lowest free number
    try {
      primitiveLock(other, kind);
      // Granted on a (python3 has exited). Before 0.2.0 the record read the fd's
      // identity after the grant, found b, and release() unlocked b through `other`.
      const lock = await within(waiting, 'the wait was not granted');
      expect(outsideTry(b, family(kind))).toBe('busy');
      const err = thrown(() => lock.release());
      expect(outsideTry(b, family(kind))).toBe('busy'); // the caller's lock on b is untouched
      expect(err?.code).toBe('ERR_LOCK_LOST');
      expect(err?.message).toMatch(new RegExp(`fd ${fd} was closed and now refers to another file`));
    } finally {
      closeSync(other);
    }
  });

  it('lockSync: another thread closed and reused the fd while it waited; release() leaves its lock alone', async () => {
    const a = temp();
    const b = temp();
    const fd = openSync(a, 'r+');
    await pythonHolder(a, kind, 1); // another process; lets go after a second
    // While this thread blocks in lockSync, a worker waits for the wait to show in
    // /proc/locks, closes the fd, opens b under the same number and locks it.
    const worker = new Worker(
      `const { closeSync, openSync, readFileSync, statSync } = require('node:fs');
       const { workerData: d, parentPort } = require('node:worker_threads');
       const { flockSync, fcntlLockSync } = require(d.dist);
       const ino = statSync(d.a).ino;
       const blocked = () => readFileSync('/proc/locks', 'utf8').split('\\n').some((l) => l.includes('->') && l.includes(':' + ino + ' '));
       const deadline = Date.now() + 20000;
       while (!blocked() && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
       closeSync(d.fd);
       const other = openSync(d.b, 'r+');
       if (d.kind === 'flock') flockSync(other, 'exclusive');
       else fcntlLockSync(other, { mode: 'exclusive', ofd: true });
       parentPort.postMessage(other);
       parentPort.once('message', () => {}); // alive until terminated: Node closes a worker's fs fds when it ends`,
      {
        eval: true,
        workerData: { fd, a, b, kind, dist: join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js') },
      },
    );
    const reply = once(worker, 'message');
    // Granted on a (python3 has exited). Before 0.2.0 the record read the fd's identity
    // after the grant, found b, and release() unlocked b through the reused number.
    const lock = lockSync(fd, { kind, timeout: 20_000 });
    const [other] = (await within(reply, 'the worker did not reuse the fd')) as [number];
    try {
      expect(other).toBe(fd); // open(2): the lowest free number
      expect(outsideTry(b, family(kind))).toBe('busy');
      const err = thrown(() => lock.release());
      expect(outsideTry(b, family(kind))).toBe('busy'); // the worker's lock on b is untouched
      expect(err?.code).toBe('ERR_LOCK_LOST');
    } finally {
      await worker.terminate(); // closes `other`
    }
  });
});

// flock has no atomic conversion (tryChangeMode throws ERR_FEATURE_UNAVAILABLE_ON_PLATFORM).
describe.each(['posix', 'ofd'] as const)('identity of a conversion, kind %s', (kind) => {
  it('tryChangeMode through a reused fd reports the loss and converts nothing', () => {
    const a = temp();
    const b = temp();
    const fd = openSync(a, 'r+');
    const lock = tryLock(fd, { kind, mode: 'shared' })!;
    closeSync(fd);
    const other = openSync(b, 'r+');
    expect(other).toBe(fd);
    try {
      primitiveLock(other, kind);
      const err = thrown(() => lock.tryChangeMode('exclusive'));
      expect(outsideTry(b, 'fcntl', 'shared')).toBe('busy'); // still exclusive: not converted
      expect(err?.code).toBe('ERR_LOCK_LOST');
      expect(lock.released).toBe(true);
    } finally {
      closeSync(other);
    }
  });
});

describe('a FileHandle target is tied to the handle', () => {
  it('after handle.close() and a reopen of the same file under the same number, release() leaves the new lock', async () => {
    const a = temp();
    const handle = await openHandle(a, 'r+');
    const fd = handle.fd;
    const lock = tryLock(handle, { kind: 'flock' })!;
    await handle.close(); // handle.fd is now -1; the flock died with the description
    const again = openSync(a, 'r+'); // same file, same number: fstat alone cannot tell
    expect(again).toBe(fd);
    try {
      flockSync(again, 'exclusive');
      const err = thrown(() => lock.release());
      expect(outsideTry(a, 'flock')).toBe('busy'); // the reopened fd keeps its flock
      expect(err?.code).toBe('ERR_LOCK_LOST');
      expect(err?.message).toMatch(/was closed/);
    } finally {
      closeSync(again);
    }
  });
});

describe('deferred closes stay bounded while a POSIX lock lives', () => {
  it('10,000 busy tries and queries by path reuse the deferred fds', async () => {
    const a = temp();
    const other = await processAgent();
    await other.ok('fcntl', {
      fd: await other.ok<number>('open', { path: a }),
      options: { mode: 'exclusive', start: 100, length: 10 },
    });
    const held = tryLock(a, { kind: 'posix', range: { start: 0, length: 10 } })!;
    const before = fdCount();
    for (let i = 0; i < 5000; i++) {
      expect(tryLock(a, { kind: 'posix', range: { start: 100, length: 10 } })).toBeNull(); // busy
      expect(getLock(a, { kind: 'posix', range: { start: 100, length: 10 } })).not.toBeNull();
    }
    expect(fdCount() - before).toBeLessThanOrEqual(4);
    expect(outsideTry(a, 'fcntl', 'exclusive', 0, 10)).toBe('busy'); // never dropped by a close
    held.release();
    expect(fdCount()).toBeLessThanOrEqual(before - 1);
    expect(outsideTry(a, 'fcntl', 'exclusive', 0, 10)).toBe('free');
  });
});

describe('a release only ever gives up', () => {
  // Two POSIX FileLocks of this process, then a close of a third fd of the file, which
  // drops every POSIX lock of the process (fcntl(2)). Releasing the exclusive one must
  // not take the shared one's bytes back (the lock table remembers them, the kernel
  // does not): 0.1.0's restore re-set them, and failed with EAGAIN once another
  // process had taken them.
  it('after a close of another fd dropped the locks, release() takes no bytes back', () => {
    const a = temp();
    const fd = openSync(a, 'r+');
    const other = openSync(a, 'r');
    const exclusive = tryLock(fd, { kind: 'posix', range: { start: 0, length: 1 } })!;
    const shared = tryLock(fd, { kind: 'posix', mode: 'shared' })!;
    // fcntl(2): the shared request converts the process's exclusive byte: READ 0 EOF.
    expect(procLocks(a).map((e) => [e.pid, e.access, e.start, e.end])).toEqual([[process.pid, 'READ', '0', 'EOF']]);
    closeSync(other); // drops both, as the kernel documents
    expect(procLocks(a)).toEqual([]);
    exclusive.release();
    expect(procLocks(a)).toEqual([]); // not READ 0 0: the shared lock was not re-taken
    expect(outsideTry(a, 'fcntl', 'exclusive', 0, 0)).toBe('free');
    shared.release();
    closeSync(fd);
  });

  it('... and does not fail when another process took those bytes meanwhile', async () => {
    const a = temp();
    const fd = openSync(a, 'r+');
    const other = openSync(a, 'r');
    const exclusive = tryLock(fd, { kind: 'posix', range: { start: 0, length: 1 } })!;
    const shared = tryLock(fd, { kind: 'posix', mode: 'shared' })!;
    closeSync(other);
    const agent = await processAgent();
    await agent.ok('tryLock', { path: a, options: { kind: 'posix', range: { start: 0, length: 1 } } });
    expect(() => exclusive.release()).not.toThrow(); // 0.1.0: EAGAIN from the restore
    expect(procLocks(a).map((e) => [e.pid, e.access])).toEqual([[agent.pid, 'WRITE']]);
    shared.release();
    closeSync(fd);
  });
});

describe('two copies of the library over one addon', () => {
  it('each copy takes real locks (the request channel is per copy)', () => {
    const require = createRequire(import.meta.url);
    const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
    const load = (): typeof import('../dist/index.js') => {
      // A cleared require.cache for the JS only (jest.resetModules() keeps native
      // modules): the second copy gets the same addon exports.
      for (const k of Object.keys(require.cache)) if (k.startsWith(dist)) delete require.cache[k];
      return require(join(dist, 'index.js')) as typeof import('../dist/index.js');
    };
    const first = load();
    const second = load();
    expect(first.tryLock).not.toBe(second.tryLock);
    const a = temp();
    const b = temp();
    const lb = second.tryLock(b, { kind: 'flock' })!;
    const la = first.tryLock(a, { kind: 'flock' })!;
    expect(la).not.toBeNull();
    expect(outsideTry(a, 'flock')).toBe('busy');
    expect(outsideTry(b, 'flock')).toBe('busy');
    la.release();
    expect(outsideTry(a, 'flock')).toBe('free');
    expect(outsideTry(b, 'flock')).toBe('busy');
    lb.release();
    expect(outsideTry(b, 'flock')).toBe('free');
  });
});
