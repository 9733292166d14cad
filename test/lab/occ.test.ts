// `syslocks-lab occ`: optimistic commits (atomic link(2) version check, jittered retry)
// against the same workload under a lock, with real writer processes on one table.
import { describe, expect, it } from 'vitest';
import type { OccResult } from '../../dist/lab/occ.js';
import { runCli } from './cli.js';

describe.skipIf(process.platform !== 'linux')('occ', () => {
  it('both modes commit every transaction exactly once; only the optimistic one meets conflicts', async () => {
    const r = await runCli(['occ', '--writers', '4', '--commits', '15', '--work', '5', '--kind', 'ofd', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [occ, locked] = JSON.parse(r.stdout) as OccResult[];
    for (const x of [occ!, locked!]) {
      expect(x.commits).toBe(60);
      expect(x.consistent).toBe(true); // final version = total = 60, each writer's row = its commits
      expect(x.perWriter.map((w) => w.commits)).toEqual([15, 15, 15, 15]);
      expect(new Set(x.perWriter.map((w) => w.pid)).size).toBe(4);
      expect(x.throughput).toBeGreaterThan(0);
    }
    expect(occ!.mode).toBe('occ');
    // Four writers racing for each version with 5 ms between read and commit: most lose some.
    expect(occ!.conflicts).toBeGreaterThan(0);
    expect(occ!.retried).toBeGreaterThan(0);
    expect(occ!.maxAttempts).toBeGreaterThan(1);
    expect(locked).toMatchObject({ mode: 'lock', kind: 'ofd', conflicts: 0, retried: 0, maxAttempts: 1 });
  });

  it('prints the comparison table', async () => {
    const r = await runCli(['occ', '--writers', '2', '--commits', '5', '--kind', 'flock']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^optimistic\s+10\s+\d+\s+\d+\s+\d+\s+[\d.]+ s\s+\d+\s+consistent$/m);
    expect(r.stdout).toMatch(/^locked flock\s+10\s+0\s+0\s+1\s/m);
  });
});
