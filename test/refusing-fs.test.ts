// Lock requests and unlocks the filesystem refuses (a FUSE filesystem answering with
// ENOLCK or EIO, test/stuck-fs.ts): the error reaches the caller, naming the call, and
// nothing is leaked on the way (a lock counts as released, an fd the library opened is
// closed). No local Linux filesystem fails these, so without this filesystem those
// error paths of tryLock/lockSync/lock, release() and the unlock primitives run in no test.
import { closeSync, constants, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fcntlLock, fcntlLockSync, lock, lockSync, tryLock } from '../dist/index.js';
import { thrown, within } from './helpers.js';
import { useLineChildren } from './line-child.js';
import { canFuse, fdsOn, useStuckFs } from './stuck-fs.js';

const stuckFs = useStuckFs(useLineChildren());

describe.runIf(canFuse)('an unlock the filesystem refuses (EIO)', () => {
  it('FileLock.release() throws it with the unlock call and path; the lock is released and its fd closed', async () => {
    const { file: f, fs } = await stuckFs();
    const waiting = lock(f, { kind: 'posix' }); // the filesystem refuses every try: a wait
    expect(await fs.line()).toBe('wait');
    fs.proc.stdin.write('grant\n');
    const l = await within(waiting, 'the granted wait did not settle');
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
      await within(waiting, 'the granted wait did not settle');
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

describe.runIf(canFuse)('a lock request the filesystem refuses (ENOLCK)', () => {
  it('tryLock, lockSync and lock throw it with the non-blocking call and close the fd they opened', async () => {
    const { file: f, fs } = await stuckFs();
    fs.proc.stdin.write('fail-tries\n');
    expect(await fs.line()).toBe('failing');
    const expected = { code: 'ENOLCK', syscall: 'fcntl(F_OFD_SETLK)', path: f };
    expect(thrown(() => tryLock(f, { kind: 'ofd' }))).toMatchObject(expected);
    expect(fdsOn(f)).toEqual([]);
    expect(thrown(() => lockSync(f, { kind: 'ofd', timeout: 60_000 }))).toMatchObject(expected);
    expect(fdsOn(f)).toEqual([]);
    await expect(within(lock(f, { kind: 'ofd', timeout: 60_000 }), 'lock() did not settle')).rejects.toMatchObject(
      expected,
    );
    expect(fdsOn(f)).toEqual([]);
  });
});
