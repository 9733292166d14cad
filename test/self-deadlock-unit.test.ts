// ownConflict (lib/self_deadlock.ts), the check before a blocking lockSync without a
// timeout, case by case on real fds: which held locks count as blocking a request of
// this thread, by kind family, fd, mode, range boundary and file identity.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { ownConflict, trackHeld, untrackHeld, type HeldLock } from '../dist/self_deadlock.js';
import type { LockKind, LockMode } from '../dist/index.js';
import { useTempFiles } from './helpers.js';

const temp = useTempFiles();
const require = createRequire(import.meta.url);
const tracked: HeldLock[] = [];
const fds: number[] = [];
afterEach(() => {
  for (const l of tracked.splice(0)) untrackHeld(l);
  for (const fd of fds.splice(0)) closeSync(fd);
});

function fdOn(f: string): number {
  const fd = openSync(f, constants.O_RDWR);
  fds.push(fd);
  return fd;
}

function lockOf(kind: LockKind, fd: number, mode: LockMode = 'exclusive', start = 0n, length = 0n): HeldLock {
  return { kind, fd, mode, range: { start, length } };
}

function hold(l: HeldLock): HeldLock {
  trackHeld(l);
  tracked.push(l);
  return l;
}

describe('what blocks a request of this thread', () => {
  it('an exclusive flock on another fd of the same file; nothing once untracked', () => {
    const f = temp();
    const mine = hold(lockOf('flock', fdOn(f)));
    const req = lockOf('flock', fdOn(f), 'shared');
    expect(ownConflict(req)).toBe(mine);
    untrackHeld(mine);
    expect(ownConflict(req)).toBeUndefined();
  });

  it('never a request of the same kind through the same fd (one open file description)', () => {
    const f = temp();
    const fd = fdOn(f);
    hold(lockOf('ofd', fd));
    expect(ownConflict(lockOf('ofd', fd))).toBeUndefined();
  });

  it("a POSIX request: never the process's own POSIX lock, always its OFD lock, even on the same fd", () => {
    const f = temp();
    const fd = fdOn(f);
    hold(lockOf('posix', fdOn(f)));
    expect(ownConflict(lockOf('posix', fd))).toBeUndefined();
    const ofd = hold(lockOf('ofd', fd));
    expect(ownConflict(lockOf('posix', fd))).toBe(ofd);
    expect(ownConflict(lockOf('posix', fdOn(f)))).toBe(ofd);
  });

  it('shared against shared never; shared against exclusive either way', () => {
    const f = temp();
    hold(lockOf('ofd', fdOn(f), 'shared'));
    expect(ownConflict(lockOf('ofd', fdOn(f), 'shared'))).toBeUndefined();
    expect(ownConflict(lockOf('ofd', fdOn(f), 'exclusive'))).toBeDefined();
  });

  it('by family: flock and fcntl locks are independent, a POSIX lock blocks an OFD request', () => {
    const f = temp();
    const posix = hold(lockOf('posix', fdOn(f)));
    expect(ownConflict(lockOf('flock', fdOn(f)))).toBeUndefined();
    expect(ownConflict(lockOf('ofd', fdOn(f)))).toBe(posix);
  });

  it('another file never, even with every other condition met', () => {
    hold(lockOf('flock', fdOn(temp())));
    expect(ownConflict(lockOf('flock', fdOn(temp())))).toBeUndefined();
  });

  it('a closed fd behind the request finds nothing (its file is unknown), even against a closed one', () => {
    const f = temp();
    hold(lockOf('flock', fdOn(f)));
    const [a, b] = [openSync(f, 'r'), openSync(f, 'r')];
    closeSync(a);
    closeSync(b);
    expect(ownConflict(lockOf('flock', a))).toBeUndefined();
    hold(lockOf('flock', b)); // a lock whose fd was closed under it: no file either
    expect(ownConflict(lockOf('flock', a))).toBeUndefined();
  });
});

describe('ranges: half-open [start, start + length), length 0 = to EOF and beyond', () => {
  const cases: [string, [bigint, bigint], [bigint, bigint], boolean][] = [
    ['adjacent after', [0n, 10n], [10n, 5n], false],
    ['adjacent before', [10n, 5n], [0n, 10n], false],
    ['last byte shared', [0n, 10n], [9n, 1n], true],
    ['first byte shared', [5n, 5n], [0n, 6n], true],
    ['held to EOF, request far beyond', [5n, 0n], [1000n, 1n], true],
    ['held to EOF, request ends where it starts', [5n, 0n], [0n, 5n], false],
    ['request to EOF, held before it', [0n, 5n], [5n, 0n], false],
    ['request to EOF, held inside it', [7n, 1n], [5n, 0n], true],
    ['both to EOF', [100n, 0n], [3n, 0n], true],
  ];
  it.each(cases)('%s', (_name, [hs, hl], [rs, rl], conflicts) => {
    const f = temp();
    hold(lockOf('ofd', fdOn(f), 'exclusive', hs, hl));
    expect(ownConflict(lockOf('ofd', fdOn(f), 'exclusive', rs, rl)) !== undefined).toBe(conflicts);
  });
});

it('lockSync of a POSIX lock over an OFD lock of its own thread: EDEADLK at once, not a wait for ever', () => {
  // fcntl(2): the two conflict even in one process, so without the check this blocks
  // for good: run in a child, bounded, so a regression fails here instead of hanging.
  const f = temp();
  const code = `
    const { tryLock, lockSync } = require(${JSON.stringify(require.resolve('../dist/index.js'))});
    tryLock(process.argv[1], { kind: 'ofd' });
    try { lockSync(process.argv[1], { kind: 'posix' }); console.log('granted'); }
    catch (e) { console.log(e.code, e.syscall); }`;
  const r = spawnSync(process.execPath, ['-e', code, f], { encoding: 'utf8', timeout: 20_000 });
  expect(r.signal, 'lockSync did not return within 20 s').toBeNull();
  expect(r.stdout.trim()).toBe('EDEADLK fcntl(F_SETLKW)');
});
