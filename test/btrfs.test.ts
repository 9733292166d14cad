// holders() and getLock() on btrfs, for real: a loop-mounted btrfs image with a
// subvolume. There `stat` reports each subvolume's anonymous device (the top level's
// too) while /proc/locks prints the superblock's, so matching by stat's device alone
// finds nothing. Needs root, loop devices and btrfs-progs (.ci/run installs it); where
// a loop mount is impossible the suite is skipped and says why.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { getLock, holders } from '../dist/index.js';
import { procLocks, processAgent, stopAgents } from './helpers.js';

function run(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return `${cmd}: ${r.error.message}`;
  return r.status === 0 ? undefined : `${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim()}`;
}

const dir = mkdtempSync(join(tmpdir(), 'syslocks-btrfs-'));
const image = join(dir, 'btrfs.img');
const mnt = join(dir, 'mnt');
mkdirSync(mnt);
writeFileSync(image, '');
let mounted = false;
const why =
  process.platform !== 'linux'
    ? 'not Linux'
    : (run('truncate', ['-s', '128M', image]) ??
      run('mkfs.btrfs', ['-q', image]) ??
      ((mounted = run('mount', ['-o', 'loop', image, mnt]) === undefined),
      mounted ? undefined : 'mount -o loop failed') ??
      run('btrfs', ['subvolume', 'create', join(mnt, 'sub')]));

afterEach(stopAgents);
afterAll(() => {
  if (mounted) run('umount', [mnt]);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(why !== undefined)(`btrfs (loop-mounted image)${why ? `: skipped, ${why}` : ''}`, () => {
  describe.each([
    ['top level', 'top.lock'],
    ['subvolume', 'sub/f.lock'],
  ])('a file in the %s', (_where, name) => {
    const file = join(mnt, name);

    it('stat and /proc/locks disagree on the device (the reason for this suite)', async () => {
      writeFileSync(file, '');
      const a = await processAgent();
      await a.ok('tryLock', { path: file, options: { kind: 'ofd' } });
      const line = spawnSync('grep', [`:${statSync(file).ino} `, '/proc/locks'], { encoding: 'utf8' }).stdout;
      const dev = statSync(file).dev;
      const statDev = `${(dev >> 8).toString(16).padStart(2, '0')}:${(dev & 0xff).toString(16).padStart(2, '0')}`;
      expect(line).toContain('OFDLCK');
      expect(line).not.toContain(` ${statDev}:`);
    });

    it('holders() and getLock() name an OFD holder in another process', async () => {
      writeFileSync(file, '');
      const a = await processAgent();
      await a.ok('tryLock', { path: file, options: { kind: 'ofd', range: { start: 0, length: 8 } } });
      expect(holders(file)).toMatchObject([{ pid: a.pid, kind: 'ofd', mode: 'exclusive', start: 0n, length: 8n }]);
      expect(getLock(file, { kind: 'ofd' })).toEqual({
        kind: 'ofd',
        mode: 'exclusive',
        start: 0n,
        length: 8n,
        pid: a.pid,
      });
    });

    it('holders() and getLock() name a flock holder in another process', async () => {
      writeFileSync(file, '');
      const a = await processAgent();
      await a.ok('tryLock', { path: file, options: { kind: 'flock', mode: 'shared' } });
      expect(procLocks(file)).toHaveLength(1);
      expect(holders(file)).toMatchObject([{ pid: a.pid, kind: 'flock', mode: 'shared' }]);
      expect(getLock(file, { kind: 'flock' })).toMatchObject({ kind: 'flock', mode: 'shared', pid: a.pid });
    });
  });
});
