// Ctrl-C, SIGTERM and SIGKILL of matrix, counter and race leave no syslocks-* temp
// dir and no child or grandchild process behind; a killed locker takes the child it
// spawned with it. Leftovers are found by what they cannot hide: every process the
// run starts inherits the run's private TMPDIR in its environment.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Controller } from '../../dist/lab/controller.js';
import { within } from '../helpers.js';
import { CLI } from './cli.js';

/** Pids of live processes whose environment holds `marker` (an exact `TMPDIR=...` entry). */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/environ`, 'latin1').split('\0').includes(marker)) out.push(Number(e));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (ok()) return;
  throw new Error(`timed out waiting for: ${what}`);
}

const RUNS: Record<string, { args: string[]; prefix: string }> = {
  matrix: {
    args: ['matrix', '--kinds', 'posix,ofd', '--scenarios', 'deadlock_detection,bounded_wait_timeout', '--jobs', '2'],
    prefix: 'syslocks-lab-',
  },
  counter: { args: ['counter', '--workers', '4', '--iterations', '1000000'], prefix: 'syslocks-counter-' },
  race: {
    args: ['race', '--kind', 'ofd', '--worker-type', 'process', '--workers', '3', '--rounds', '10000'],
    prefix: 'syslocks-race-',
  },
};

describe.skipIf(process.platform !== 'linux')('nothing outlives the lab', () => {
  const cases = Object.keys(RUNS).flatMap((cmd) =>
    (['SIGINT', 'SIGTERM', 'SIGKILL'] as const).map((sig) => [cmd, sig] as const),
  );
  it.each(cases)('%s, then %s: no temp dir, no process left', async (cmd, sig) => {
    const tmp = mkdtempSync(join(tmpdir(), 'lab-cleanup-'));
    const marker = `TMPDIR=${tmp}`;
    try {
      const { args, prefix } = RUNS[cmd]!;
      const child = spawn(process.execPath, [CLI, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, TMPDIR: tmp },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
      // Running: its temp dir exists and it has children of its own.
      await until(`${cmd} started children`, () => {
        const dirs = readdirSync(tmp).filter((n) => n.startsWith(prefix));
        return dirs.length > 0 && processesWith(marker).filter((p) => p !== child.pid).length >= 2;
      });
      child.kill(sig);
      const [code, signal] = await within(exited, () => `${cmd} did not exit after ${sig} (stderr: ${stderr})`);
      if (sig === 'SIGKILL') expect(signal).toBe('SIGKILL');
      else expect(code, stderr).toBe(sig === 'SIGINT' ? 130 : 143);
      await until('every process of the run gone', () => processesWith(marker).length === 0);
      await until('no syslocks-* dir left', () => readdirSync(tmp).length === 0);
    } finally {
      for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a locker killed while its child holds the lock fd takes the child with it', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'lab-grandchild-'));
    const controller = new Controller();
    try {
      const locker = await controller.start({ file: join(tmp, 'f'), kind: 'ofd' });
      expect((await locker.send('lock write')).result).toBe('granted');
      const r = await locker.send('spawnchild fd=main');
      const grandchild = Number(r.data?.['child']);
      expect(grandchild).toBeGreaterThan(0);
      expect(readFileSync(`/proc/${grandchild}/cmdline`, 'latin1')).toContain('setTimeout');
      await locker.kill();
      await until('the grandchild is gone', () => {
        try {
          // A zombie awaiting its reaper counts as gone: it holds no fd.
          return readFileSync(`/proc/${grandchild}/stat`, 'latin1').split(') ')[1]!.startsWith('Z');
        } catch {
          return true;
        }
      });
    } finally {
      await controller.killAll();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
