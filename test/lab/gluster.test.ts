// The controller across two mounts of one shared filesystem: a local locker on GlusterFS
// mount A and a remote locker (over loopback TCP, as a separate host would be) on mount
// B of the same volume. Needs the one-machine GlusterFS lab (research recipe
// dfs-probe/gluster-up.sh); skipped with the reason when its mounts are not there.
// Mount points: DFS_MNT_A / DFS_MNT_B, default /tmp/glusterlab/mnt/{a,b}.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScheduleResult } from '../../dist/lab/run-schedule.js';
import { firstLine, within } from '../helpers.js';
import { CLI } from './cli.js';

const A = process.env['DFS_MNT_A'] ?? '/tmp/glusterlab/mnt/a';
const B = process.env['DFS_MNT_B'] ?? '/tmp/glusterlab/mnt/b';
const mounts = (() => {
  try {
    return readFileSync('/proc/mounts', 'utf8');
  } catch {
    return '';
  }
})();
const up = [A, B].every((m) => mounts.includes(` ${m} fuse.glusterfs `));
if (!up) console.warn(`gluster.test: skipped: ${A} and ${B} are not GlusterFS mounts (run gluster-up.sh)`);

const TOKEN = 'gluster-test-token-0123456789';
const sub = `syslocks-h5-${process.pid}`;
let locker: ChildProcessWithoutNullStreams | undefined;
afterAll(() => {
  locker?.kill('SIGTERM');
  if (up) rmSync(join(A, sub), { recursive: true, force: true });
});

describe.skipIf(!up)('controller across two GlusterFS mounts', () => {
  it('a locker on mount B (remote, TCP) and one on mount A exclude each other, per kind', async () => {
    mkdirSync(join(A, sub), { recursive: true });
    locker = spawn(process.execPath, [CLI, 'locker', '--listen', '127.0.0.1:0', '--root', B], {
      env: { ...process.env, SYSLOCKS_LAB_TOKEN: TOKEN },
    });
    const first = await firstLine(locker.stdout, 'the locker on mount B did not print its listening line');
    const port = /:(\d+) pid/.exec(first)![1];
    // One pair at a time (the remote locker serves one controller session per connection).
    const schedule = join(A, sub, 'gluster.sched');
    const results: Record<string, string[]> = {};
    for (const kind of ['flock', 'posix', 'ofd']) {
      writeFileSync(
        schedule,
        [
          `locker A kind=${kind} file=${join(A, sub, `${kind}.lock`)}`,
          `locker B kind=${kind} file=${join(B, sub, `${kind}.lock`)} remote=127.0.0.1:${port}`,
          'A lock write at +0s',
          'B lock write at +300ms',
          'B lock write wait timeout=10000 at +600ms',
          'A unlock at +1s',
          'A lock write at now+200ms',
          'B stop at +2s',
          'A lock write wait timeout=5000 at now+0ms',
          'A stop',
        ].join('\n') + '\n',
      );
      let out = '';
      let err = '';
      const c = spawn(process.execPath, [CLI, 'controller', schedule, '--json'], {
        env: { ...process.env, SYSLOCKS_LAB_TOKEN: TOKEN },
      });
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (err += d.toString()));
      let r: { code: number | null; out: string; err: string };
      try {
        r = await within(
          new Promise((resolve) => c.on('close', (code) => resolve({ code, out, err }))),
          () => `the ${kind} controller did not close after its last command (stdout: ${out}; stderr: ${err})`,
          40_000,
        );
      } finally {
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }
      expect(r.code, r.err + r.out).toBe(0);
      const res = JSON.parse(r.out) as ScheduleResult;
      // Per locker, in its own order (A's unlock and B's grant finish within the same ms).
      results[kind] = ['A', 'B'].flatMap((l) =>
        res.events.filter((e) => e.locker === l).map((e) => `${e.locker} ${e.command} -> ${e.result}`),
      );
    }
    for (const kind of ['flock', 'posix', 'ofd'])
      expect(results[kind], kind).toEqual([
        'A lock write -> granted',
        'A unlock -> released',
        'A lock write -> conflict', // B's lock, taken through mount B, is seen through mount A
        'A lock write wait timeout=5000 -> granted', // B's session ended: the remote locker released it
        'A stop -> done',
        'B lock write -> conflict', // A's lock, taken through mount A, is seen through mount B
        'B lock write wait timeout=10000 -> granted',
        'B stop -> done',
      ]);
    // Hang protection only: three controller runs over GlusterFS, each bounded at 40 s above.
  }, 150_000);
});
