// lockSync fails fast instead of waiting forever for a lock its own thread holds.
import { describe, expect, it } from 'vitest';
import { lockSync, tryLock, type LockKind } from '../dist/index.js';
import { useTempFiles } from './helpers.js';

// Temp files and agents of each test are removed after it.
const file = useTempFiles();

describe.each<LockKind>(['flock', 'ofd'])('kind %s', (kind) => {
  it('lockSync on a lock this thread holds throws EDEADLK at once', () => {
    const f = file();
    const mine = tryLock(f, { kind })!;
    let err: NodeJS.ErrnoException | undefined;
    try {
      lockSync(f, { kind, mode: 'shared' });
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    expect(err).toMatchObject({
      code: 'EDEADLK',
      errno: -35,
      syscall: kind === 'flock' ? 'flock' : 'fcntl(F_OFD_SETLKW)', // the wait it refused to start
      path: f,
      message: expect.stringMatching(
        /^EDEADLK: this thread already holds a conflicting exclusive '.*' lock on the file/,
      ),
    });
    mine.release();
    lockSync(f, { kind }).release(); // and the lock is free afterwards
  });

  it('with a timeout there is no refusal: the wait runs and times out', () => {
    const f = file();
    const mine = tryLock(f, { kind })!;
    expect(() => lockSync(f, { kind, timeout: 30 })).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    mine.release();
  });
});

it('disjoint OFD ranges of this thread do not count', () => {
  const f = file();
  const mine = tryLock(f, { kind: 'ofd', range: { start: 0, length: 10 } })!;
  const other = lockSync(f, { kind: 'ofd', range: { start: 10, length: 10 } });
  other.release();
  mine.release();
});
