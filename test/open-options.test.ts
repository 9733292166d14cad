// Opening paths safely: create / createMode / followSymlinks, special files refused
// without hanging the event loop or a wait, and queries that never create files.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, symlinkSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { getLock, lock, lockSync, tryLock } from '../dist/index.js';
import { useTempFiles, within } from './helpers.js';
import { outsideTry } from './python.js';

const temp = useTempFiles();

describe('create and createMode', () => {
  it('create: false refuses a missing file with ENOENT and creates nothing', async () => {
    const missing = join(dirname(temp()), 'missing.lock');
    expect(() => tryLock(missing, { create: false })).toThrow(
      expect.objectContaining({ code: 'ENOENT', path: missing }),
    );
    expect(() => lockSync(missing, { create: false })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    await expect(lock(missing, { create: false })).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    expect(existsSync(missing)).toBe(false);
  });

  // process.umask() cannot be set in a worker thread (where `npm run mutate` runs tests).
  it.runIf(isMainThread)('createMode sets the new file’s permissions (the umask applies)', () => {
    const path = join(dirname(temp()), 'private.lock');
    const old = process.umask(0o022);
    try {
      tryLock(path, { createMode: 0o600 })!.release();
    } finally {
      process.umask(old);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('bad option values throw before any syscall', () => {
    const path = join(dirname(temp()), 'never.lock');
    expect(() => tryLock(path, { create: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => tryLock(path, { createMode: 0o10000 })).toThrow(RangeError);
    expect(() => tryLock(path, { followSymlinks: 1 as unknown as boolean })).toThrow(TypeError);
    const range = 'It must be an integer >= 0 and <= 0o7777';
    for (const bad of [-1, 0o10000, 1.5])
      expect(() => tryLock(path, { createMode: bad })).toThrow(
        `The value of "options.createMode" is out of range. ${range}. Received type number (${bad})`,
      );
    expect(() => tryLock(path, { createMode: '644' as unknown as number })).toThrow(
      `The "options.createMode" argument must be of type number. Received type string ('644')`,
    );
    expect(() => tryLock(path, { followSymlinks: 1 as unknown as boolean })).toThrow(
      'The "options.followSymlinks" argument must be of type boolean. Received type number (1)',
    );
    expect(existsSync(path)).toBe(false);
    // The bounds themselves are valid (0o7777 first: it creates the file, readable).
    tryLock(path, { createMode: 0o7777 })!.release();
    tryLock(path, { createMode: 0 })!.release();
  });
});

describe('followSymlinks', () => {
  it('false refuses a symbolic link with ELOOP naming the path; true follows it', async () => {
    const target = temp();
    const link = join(dirname(target), 'link.lock');
    symlinkSync(target, link);
    const err = (() => {
      try {
        tryLock(link, { followSymlinks: false });
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
      return undefined;
    })();
    expect(err).toMatchObject({ code: 'ELOOP', syscall: 'open', path: link });
    expect(err?.message).toContain(`'${link}'`);
    expect(err?.message).toContain('followSymlinks');
    await expect(lock(link, { followSymlinks: false })).rejects.toMatchObject({ code: 'ELOOP' });
    const followed = tryLock(link, { kind: 'flock' })!;
    expect(outsideTry(target, 'flock')).toBe('busy');
    followed.release();
  });
});

describe('special files', () => {
  it('a FIFO is refused at once (no hang) by every entry point, with ERR_LOCK_FILE_TYPE', async () => {
    const fifo = join(dirname(temp()), 'fifo');
    execFileSync('mkfifo', [fifo]); // coreutils
    const expected = expect.objectContaining({ code: 'ERR_LOCK_FILE_TYPE', path: fifo });
    expect(() => tryLock(fifo)).toThrow(expected);
    expect(() => lockSync(fifo, { timeout: 100 })).toThrow(expected);
    await expect(within(lock(fifo, { timeout: 100 }), 'lock() on a FIFO did not settle')).rejects.toMatchObject({
      code: 'ERR_LOCK_FILE_TYPE',
    });
    expect(() => getLock(fifo, { kind: 'posix' })).toThrow(expected);
    expect(() => tryLock(fifo)).toThrow(/is a FIFO/);
  });

  it('a directory can still be flocked', () => {
    const dir = dirname(temp());
    const l = tryLock(dir, { kind: 'flock' })!;
    expect(outsideTry(dir, 'flock')).toBe('busy');
    l.release();
  });
});

describe('queries never create files', () => {
  it('getLock() on a missing path throws ENOENT and leaves no file', () => {
    const missing = join(dirname(temp()), 'nothing.lock');
    expect(() => getLock(missing, { kind: 'posix' })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(existsSync(missing)).toBe(false);
  });
});
