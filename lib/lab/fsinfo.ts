/**
 * Which filesystem a directory lives on, named precisely: the mount's type with its
 * subtype (`fuse.bindfs`, `fuse.glusterfs`), the mount source, the per-mount and
 * superblock options, and for overlay its layers, for btrfs its subvolume. From
 * /proc/self/mountinfo (proc_pid_mountinfo(5)); elsewhere the statfs magic number.
 * @packageDocumentation
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync, statfsSync } from 'node:fs';

/** A directory's filesystem, as precisely as this platform tells. */
export interface FsInfo {
  /** Type with subtype, as mountinfo field 9 has it: `ext4`, `tmpfs`, `fuse.bindfs`, `overlay`, `nfs4`. */
  type: string;
  /** Mount point of the mount the directory is on (null without mountinfo). */
  mountPoint: string | null;
  /** Mount source: a device, `host:/export`, the bindfs source dir, `overlay`, ... */
  source: string | null;
  /** Per-mount options (`rw,nosuid,relatime`). */
  options: string | null;
  /** Superblock options (`rw,user_id=0,...`; overlay layers live here). */
  superOptions: string | null;
  /** The directory of the filesystem mounted there (mountinfo field 4: `/` or a bind/subvolume root). */
  root: string | null;
  /** overlay: its layers. */
  overlay?: { lower: string[]; upper: string | null; work: string | null };
  /** btrfs: the subvolume mounted. */
  btrfsSubvolume?: string;
  /**
   * FUSE: the daemon serving the mount, when one is visible here (a process with
   * /dev/fuse open whose arguments name the mount point; bindfs, for one, mounts as
   * plain `fuse`).
   */
  fuseDaemon?: { pid: number; command: string };
}

function holdsDevFuse(pid: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === '/dev/fuse';
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** The process whose argv names `mountPoint` (a FUSE daemon is started with it), or undefined. */
function fuseDaemonOf(mountPoint: string): { pid: number; command: string } | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
        // Naming the mount point is not enough (a shell script may): the daemon has /dev/fuse open.
        if (argv.slice(1).includes(mountPoint) && holdsDevFuse(entry))
          return { pid: Number(entry), command: argv.join(' ') };
      } catch {
        /* gone meanwhile */
      }
    }
  } catch {
    /* no /proc */
  }
  return undefined;
}

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

/** `a=1,b=x\,y` → map (overlay escapes commas inside layer paths with a backslash). */
function optionMap(opts: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of opts.split(/(?<!\\),/)) {
    const eq = part.indexOf('=');
    out.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? '' : part.slice(eq + 1).replace(/\\,/g, ','));
  }
  return out;
}

/** The filesystem of `dir` (never throws; `type` is `unknown` when nothing tells). */
export function fsInfoOf(dir: string): FsInfo {
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    /* keep dir */
  }
  const none: FsInfo = {
    type: 'unknown',
    mountPoint: null,
    source: null,
    options: null,
    superOptions: null,
    root: null,
  };
  try {
    let best: FsInfo | null = null;
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [left, right] = line.split(' - ');
      if (!left || !right) continue;
      const f = left.split(' ');
      const mountPoint = unescapeMount(f[4] ?? '');
      const inside = real === mountPoint || real.startsWith(mountPoint.endsWith('/') ? mountPoint : mountPoint + '/');
      // The last matching line wins on a tie: it is the mount stacked on top.
      if (!inside || (best && mountPoint.length < best.mountPoint!.length)) continue;
      const [type = 'unknown', source = '', superOptions = ''] = right.split(' ');
      const info: FsInfo = {
        type,
        mountPoint,
        source: unescapeMount(source),
        options: f[5] ?? '',
        superOptions: unescapeMount(superOptions),
        root: unescapeMount(f[3] ?? ''),
      };
      const sup = optionMap(info.superOptions!);
      if (type === 'overlay') {
        info.overlay = {
          lower: (sup.get('lowerdir') ?? '').split(/(?<!\\):/).filter(Boolean),
          upper: sup.get('upperdir') ?? null,
          work: sup.get('workdir') ?? null,
        };
      }
      if (type === 'btrfs' && sup.has('subvol')) info.btrfsSubvolume = sup.get('subvol')!;
      best = info;
    }
    if (best && /^fuse(blk)?(\.|$)/.test(best.type)) {
      const daemon = fuseDaemonOf(best.mountPoint!);
      if (daemon) best.fuseDaemon = daemon;
    }
    if (best) return best;
  } catch {
    /* not Linux */
  }
  try {
    const magic = Number(statfsSync(dir).type);
    return { ...none, type: MAGIC[magic] ?? `0x${magic.toString(16)}` };
  } catch {
    return none;
  }
}

/** The filesystem type of `dir` (with subtype, e.g. `fuse.bindfs`), or `unknown`. */
export function filesystemOf(dir: string): string {
  return fsInfoOf(dir).type;
}

/** One line for people: `fuse.bindfs on /mnt/a from /src (rw,nosuid; rw,user_id=0)`. */
export function describeFs(info: FsInfo): string {
  if (info.mountPoint === null) return info.type;
  const parts = [`${info.type} on ${info.mountPoint}`];
  if (info.source && info.source !== info.type) parts.push(`from ${info.source}`);
  if (info.root && info.root !== '/') parts.push(`(root ${info.root})`);
  if (info.btrfsSubvolume) parts.push(`subvolume ${info.btrfsSubvolume}`);
  if (info.fuseDaemon) parts.push(`served by pid ${info.fuseDaemon.pid}: ${info.fuseDaemon.command}`);
  if (info.overlay)
    parts.push(
      `lower ${info.overlay.lower.join(':')}, upper ${info.overlay.upper ?? '-'}, work ${info.overlay.work ?? '-'}`,
    );
  parts.push(`[${info.options}; ${info.superOptions}]`);
  return parts.join(' ');
}
