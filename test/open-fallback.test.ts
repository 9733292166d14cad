// Opening a path for a lock when read-write is refused: where the lock does not need
// write access (flock; shared POSIX and OFD locks) the library falls back to a
// read-only open, and otherwise reports the open's own error. Each refusal the
// fallback handles is produced for real: a directory (EISDIR), an immutable file
// (chattr +i: EPERM even for root), a read-only mount (EROFS) and a read-only file
// in a process without CAP_DAC_OVERRIDE (EACCES). Also: what open errors say, and
// fd 0 being a valid fd.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getLock, lock, tryLock } from '../dist/index.js';
import { closeOwned } from '../dist/open.js';
import { probe } from './fixtures/open-probe.mjs';
import { useTempFiles } from './helpers.js';

const temp = useTempFiles();
const PROBE = fileURLToPath(new URL('./fixtures/open-probe.mjs', import.meta.url));
const isRoot = process.getuid?.() === 0;

/** What probe() must report when read-write opening fails with `code`. */
function fallbackExpected(code: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kind of ['flock', 'posix', 'ofd'])
    for (const mode of ['shared', 'exclusive'])
      for (const via of ['tryLock', 'lockSync', 'lock'])
        out[`${kind} ${mode} ${via}`] = kind === 'flock' || mode === 'shared' ? 'granted' : `${code} open`;
  return out;
}

describe('the read-only fallback', () => {
  it('a directory (EISDIR): flock and shared locks granted read-only, exclusive record locks refused', async () => {
    const dir = join(dirname(temp()), 'd');
    mkdirSync(dir);
    expect(await probe(dir)).toEqual(fallbackExpected('EISDIR'));
  });

  it.runIf(isRoot)('an immutable file (EPERM)', async () => {
    const file = temp();
    execFileSync('chattr', ['+i', file]); // e2fsprogs
    try {
      expect(await probe(file)).toEqual(fallbackExpected('EPERM'));
    } finally {
      execFileSync('chattr', ['-i', file]);
    }
  });

  it.runIf(isRoot)('a read-only mount (EROFS)', async () => {
    const mnt = join(dirname(temp()), 'ro');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    try {
      writeFileSync(join(mnt, 'f'), '');
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      expect(await probe(join(mnt, 'f'))).toEqual(fallbackExpected('EROFS'));
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it.runIf(isRoot)('a read-only file, without CAP_DAC_OVERRIDE (EACCES)', () => {
    const file = temp();
    chmodSync(file, 0o444);
    const run = spawnSync(
      'setpriv', // util-linux: root without the capability that ignores file modes
      ['--bounding-set', '-dac_override,-dac_read_search', '--', process.execPath, PROBE, file],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual(fallbackExpected('EACCES'));
  });
});

describe('what a refused open says', () => {
  it('a missing path with followSymlinks: false is plain ENOENT, not a symlink complaint', async () => {
    const missing = join(dirname(temp()), 'missing');
    const opts = { create: false, followSymlinks: false };
    expect(() => tryLock(missing, opts)).toThrow(`ENOENT: no such file or directory, open '${missing}'`);
    await expect(lock(missing, opts)).rejects.toThrow(`ENOENT: no such file or directory, open '${missing}'`);
  });

  it('a symlink loop followed by default is plain ELOOP', () => {
    const loop = join(dirname(temp()), 'loop');
    symlinkSync(loop, loop);
    expect(() => tryLock(loop)).toThrow(`ELOOP: too many symbolic links encountered, open '${loop}'`);
  });

  const fileTypeError = (path: string, type: string): Error =>
    expect.objectContaining({
      code: 'ERR_LOCK_FILE_TYPE',
      errno: -22,
      syscall: 'open',
      path,
      message: `ERR_LOCK_FILE_TYPE: '${path}' is ${type}: syslocks locks regular files (and directories, with flock) only`,
    }) as Error;

  it('a character device and a block device are named as such; a socket is open(2)’s ENXIO', async () => {
    expect(() => tryLock('/dev/null')).toThrow(fileTypeError('/dev/null', 'a character device'));
    const sock = join(dirname(temp()), 's.sock');
    const server = createServer().listen(sock);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      // open(2) refuses a socket itself: "ENXIO: pathname refers to a UNIX domain socket".
      expect(() => tryLock(sock)).toThrow(
        expect.objectContaining({ code: 'ENXIO', message: `ENXIO: no such device or address, open '${sock}'` }),
      );
    } finally {
      server.close();
    }
    const block = readdirSync('/dev')
      .map((n) => `/dev/${n}`)
      .find((p) => statSync(p).isBlockDevice());
    if (block) expect(() => getLock(block, { kind: 'posix' })).toThrow(fileTypeError(block, 'a block device'));
  });
});

describe('queries open read-only and follow symlinks by default', () => {
  it('getLock() on a directory and through a symlink', () => {
    const file = temp();
    const dir = dirname(file);
    expect(getLock(dir, { kind: 'posix' })).toBeNull();
    const link = join(dir, 'link');
    symlinkSync(file, link);
    expect(getLock(link, { kind: 'ofd' })).toBeNull();
  });
});

describe('fd 0', () => {
  it('a process whose stdin is closed gets fd 0 for its lock, and uses it', () => {
    const file = temp();
    const run = spawnSync(process.execPath, [PROBE, file, 'close-stdin'], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as { fd: number; probe: Record<string, string> };
    expect(out.fd).toBe(0);
    expect(Object.values(out.probe)).toEqual(Array(18).fill('granted'));
  });
});

describe('closeOwned', () => {
  it('reports a failed close', () => {
    const fd = openSync(temp(), 'r');
    closeSync(fd);
    expect(() => closeOwned(fd)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'close' }));
  });
});
