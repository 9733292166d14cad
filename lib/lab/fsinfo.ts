/**
 * Which filesystem a directory lives on: the `fstype` of its mount in
 * /proc/self/mountinfo (e.g. `ext4`, `tmpfs`, `fuse.glusterfs`, `nfs4`), else the
 * statfs magic number.
 * @packageDocumentation
 */
import { readFileSync, realpathSync, statfsSync } from 'node:fs';

const MAGIC: Record<number, string> = {
  0xef53: 'ext4',
  0x01021994: 'tmpfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x6969: 'nfs',
  0x65735546: 'fuse',
  0x794c7630: 'overlay',
  0x2fc12fc1: 'zfs',
  0xff534d42: 'cifs',
  0xfe534d42: 'smb2',
};

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The filesystem type of `dir`, or `unknown`. */
export function filesystemOf(dir: string): string {
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    /* keep dir */
  }
  try {
    let best = '';
    let type = '';
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [left, right] = line.split(' - ');
      if (!left || !right) continue;
      const mountPoint = unescapeMount(left.split(' ')[4] ?? '');
      const fstype = right.split(' ')[0] ?? '';
      const inside = real === mountPoint || real.startsWith(mountPoint.endsWith('/') ? mountPoint : mountPoint + '/');
      if (inside && mountPoint.length >= best.length) {
        best = mountPoint;
        type = fstype;
      }
    }
    if (type) return type;
  } catch {
    /* not Linux */
  }
  try {
    const magic = Number(statfsSync(dir).type);
    return MAGIC[magic] ?? `0x${magic.toString(16)}`;
  } catch {
    return 'unknown';
  }
}
