// @ts-check
// What the figures were measured on: machine, kernel, filesystem of the lock files, load,
// and the commit.
import { spawnSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import os from 'node:os';

const FS_TYPES = {
  0xef53: 'ext2/3/4',
  0x01021994: 'tmpfs',
  0x9123683e: 'btrfs',
  0x58465342: 'xfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
};

export function machine(dir, root) {
  const cpus = os.cpus();
  let fsType = 'unknown';
  try {
    const t = statfsSync(dir).type;
    fsType = FS_TYPES[t] ?? `0x${t.toString(16)}`;
  } catch {
    /* statfs is Node >= 18.15 */
  }
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    platform: `${process.platform} ${process.arch}`,
    kernel: os.release(),
    node: process.version,
    lockDir: dir,
    lockFs: fsType,
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
    source: sourceState(root),
  };
}

/** The commit measured, and whether lib/ or native/ differ from it (best effort). */
function sourceState(root) {
  const git = (args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const head = git(['rev-parse', '--short', 'HEAD']);
  if (head.status !== 0) return 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'lib', 'native']).stdout.trim();
  return `${head.stdout.trim()}${dirty ? ' + uncommitted changes in lib/ or native/' : ''}`;
}
