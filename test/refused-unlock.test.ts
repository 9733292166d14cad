// An unlock the filesystem refuses (a FUSE filesystem answering F_UNLCK with EIO,
// test/stuck-fs.ts): the error reaches the caller, naming the unlock call, and nothing
// is leaked on the way (the lock counts as released, its own fd is closed).
// Linux has no local filesystem whose unlock fails, so without this filesystem the
// error paths of release() and of the unlock primitives run in no test.
import { closeSync, constants, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fcntlLock, fcntlLockSync, lock } from '../dist/index.js';
import { thrown } from './helpers.js';
import { useLineChildren } from './line-child.js';
import { canFuse, fdsOn, useStuckFs } from './stuck-fs.js';

const stuckFs = useStuckFs(useLineChildren());

describe.runIf(canFuse)('an unlock the filesystem refuses (EIO)', () => {
  it('FileLock.release() throws it with the unlock call and path; the lock is released and its fd closed', async () => {
    const { file: f, fs } = await stuckFs();
    const waiting = lock(f, { kind: 'posix' }); // the filesystem refuses every try: a wait
    expect(await fs.line()).toBe('wait');
    fs.proc.stdin.write('grant\n');
    const l = await waiting;
    expect(fdsOn(f)).toHaveLength(1);
    fs.proc.stdin.write('fail-unlocks\n');
    expect(await fs.line()).toBe('failing');
    const err = thrown(() => l.release());
    expect(err).toMatchObject({ code: 'EIO', errno: -5, syscall: 'fcntl(F_SETLK)', path: f });
    expect(err.message).toBe(`EIO: i/o error, fcntl(F_SETLK) '${f}'`);
    expect(await fs.line()).toBe('unlock');
    expect(l.released).toBe(true);
    expect(fdsOn(f)).toEqual([]); // closed all the same
    expect(() => l.release()).not.toThrow(); // released once is released
  });

  it('fcntlLockSync unlock throws it with the unlock call', async () => {
    const { file: f, fs } = await stuckFs();
    const fd = openSync(f, constants.O_RDWR);
    try {
      const waiting = fcntlLock(fd, { mode: 'exclusive' });
      expect(await fs.line()).toBe('wait');
      fs.proc.stdin.write('grant\n');
      await waiting;
      fs.proc.stdin.write('fail-unlocks\n');
      expect(await fs.line()).toBe('failing');
      expect(thrown(() => fcntlLockSync(fd, { mode: 'unlock' }))).toMatchObject({
        code: 'EIO',
        syscall: 'fcntl(F_SETLK)',
        message: 'EIO: i/o error, fcntl(F_SETLK)',
      });
      expect(await fs.line()).toBe('unlock');
    } finally {
      closeSync(fd);
    }
  });
});
