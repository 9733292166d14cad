// A wait that ends by timeout or abort while the kernel grants it must leave every
// lock the caller held before the wait exactly as it was. The undo is one function
// (native/late_grant.h, lib/late_grant.ts) shared by the waiter threads and the JS
// wait path; the deterministic tests put the kernel into the "granted to nobody"
// state with the primitives, call the undo, and read the result from /proc/locks and
// python3's F_GETLK in another process.
import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fcntlLockSync, flockSync, lock, tryLock } from '../dist/index.js';
import { undoLateGrant } from '../dist/late_grant.js';
import { procLocks, processAgent, useTempFiles, within } from './helpers.js';
import { outsideGetlk, outsideTry } from './python.js';

const temp = useTempFiles();

describe('undoing a late grant restores the earlier locks', () => {
  it('POSIX: a grant through another fd over a held shared range goes back to shared, the rest is unlocked', () => {
    const a = temp();
    const held = tryLock(a, { kind: 'posix', mode: 'shared', range: { start: 0, length: 10 } })!;
    const fd = openSync(a, 'r+');
    try {
      // What the kernel leaves when an exclusive 0-19 wait is granted as it is cancelled.
      fcntlLockSync(fd, { mode: 'exclusive', start: 0, length: 20 });
      undoLateGrant({ kind: 'posix', fd, mode: 'exclusive', start: 0n, length: 20n });
      expect(
        procLocks(a)
          .filter((l) => l.pid === process.pid)
          .map((l) => [l.access, l.start, l.end]),
      ).toEqual([['READ', '0', '9']]);
      expect(outsideGetlk(a, 'exclusive', 0, 10)).toBe(`shared 0 10 ${process.pid}`);
      expect(outsideTry(a, 'fcntl', 'exclusive', 10, 10)).toBe('free');
      held.release();
      expect(outsideTry(a, 'fcntl', 'exclusive', 0, 0)).toBe('free');
    } finally {
      closeSync(fd);
    }
  });

  it('OFD: an upgrade wait granted late through the same fd goes back to the shared lock', () => {
    const a = temp();
    const fd = openSync(a, 'r+');
    try {
      const held = tryLock(fd, { kind: 'ofd', mode: 'shared', range: { start: 0, length: 10 } })!;
      fcntlLockSync(fd, { mode: 'exclusive', start: 0, length: 10, ofd: true });
      undoLateGrant({ kind: 'ofd', fd, mode: 'exclusive', start: 0n, length: 10n });
      expect(procLocks(a).map((l) => [l.type, l.access, l.start, l.end])).toEqual([['OFDLCK', 'READ', '0', '9']]);
      expect(outsideTry(a, 'fcntl', 'shared', 0, 10)).toBe('free');
      expect(outsideTry(a, 'fcntl', 'exclusive', 0, 10)).toBe('busy');
      held.release();
      expect(procLocks(a)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });

  it('flock: a late exclusive grant on the same fd goes back to the shared flock', () => {
    const a = temp();
    const fd = openSync(a, 'r+');
    try {
      const held = tryLock(fd, { kind: 'flock', mode: 'shared' })!;
      flockSync(fd, 'exclusive');
      undoLateGrant({ kind: 'flock', fd, mode: 'exclusive', start: 0n, length: 0n });
      expect(procLocks(a).map((l) => [l.type, l.access])).toEqual([['FLOCK', 'READ']]);
      expect(outsideTry(a, 'flock', 'shared')).toBe('free');
      held.release();
      expect(procLocks(a)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });

  it('a late grant nobody held anything under is unlocked entirely', () => {
    const a = temp();
    const fd = openSync(a, 'r+');
    try {
      fcntlLockSync(fd, { mode: 'exclusive', start: 5, length: 5, ofd: true });
      undoLateGrant({ kind: 'ofd', fd, mode: 'exclusive', start: 5n, length: 5n });
      expect(procLocks(a)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });
});

describe('timeouts racing a real grant', () => {
  it('an upgrade wait that times out as the other reader leaves keeps the shared POSIX lock (20 rounds)', async () => {
    const a = temp();
    const held = tryLock(a, { kind: 'posix', mode: 'shared', range: { start: 0, length: 10 } })!;
    const other = await processAgent();
    const ofd = await other.ok<number>('open', { path: a });
    for (let round = 0; round < 20; round++) {
      await other.ok('fcntl', { fd: ofd, options: { mode: 'shared', start: 0, length: 10 } });
      const timeout = 5 + (round % 5) * 3;
      const waiting = lock(a, { kind: 'posix', range: { start: 0, length: 10 }, timeout }).then(
        (l) => l,
        () => null,
      );
      // Let the other reader go at about the moment the timeout fires.
      await new Promise((r) => setTimeout(r, timeout - 2 + (round % 3)));
      await other.ok('fcntl', { fd: ofd, options: { mode: 'unlock', start: 0, length: 10 } });
      const granted = await within(
        waiting,
        `round ${round}: lock() with a ${timeout} ms timeout neither timed out nor was granted after the reader left`,
      );
      granted?.release();
      expect(
        procLocks(a)
          .filter((l) => l.pid === process.pid && !l.waiting)
          .map((l) => [l.access, l.start, l.end]),
      ).toEqual([['READ', '0', '9']]);
    }
    held.release();
    expect(procLocks(a).filter((l) => l.pid === process.pid)).toEqual([]);
  });
});
