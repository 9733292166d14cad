// A real FUSE filesystem whose blocking lock requests ignore the interrupt and whose
// unlocks can be refused (test/fixtures/stuck-lock-fs.c): needs /dev/fuse, root (to
// mount) and libfuse3's headers.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, onTestFinished } from 'vitest';
import type { LineChild } from './line-child.js';

const fuseFlags = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' });

/** Whether this machine can build and mount the filesystem. */
export const canFuse = existsSync('/dev/fuse') && process.getuid?.() === 0 && fuseFlags.status === 0;

/** A mounted stuck-lock-fs: its one file and the daemon (stdin commands, stdout events). */
export interface StuckFs {
  file: string;
  fs: LineChild;
}

/**
 * Returns the mounter of {@link StuckFs}es: each is built and mounted for one test and
 * unmounted after it (detached after a failed test whose daemon was killed).
 */
export function useStuckFs(child: (cmd: string, args: string[]) => LineChild): () => Promise<StuckFs> {
  const mounts = new Set<string>();
  afterEach(() => {
    for (const m of mounts) spawnSync('fusermount3', ['-u', '-z', m]);
    mounts.clear();
  });
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syslocks-fuse-'));
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    const exe = join(dir, 'stuck-lock-fs');
    const source = fileURLToPath(new URL('./fixtures/stuck-lock-fs.c', import.meta.url));
    execFileSync(process.env['CC'] ?? 'cc', ['-o', exe, source, ...fuseFlags.stdout.trim().split(/\s+/)]);
    mounts.add(mnt);
    const fs = child(exe, [mnt]);
    onTestFinished(async () => {
      fs.proc.stdin.end(); // the filesystem unmounts and exits
      await fs.exit();
      spawnSync('fusermount3', ['-u', mnt]);
      rmSync(dir, { recursive: true, force: true });
    });
    expect(await fs.line()).toBe('mounted');
    return { file: join(mnt, 'f.lock'), fs };
  };
}

/** This process's fds that refer to `file` (/proc/self/fd). */
export function fdsOn(file: string): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false; // closed meanwhile
    }
  });
}
