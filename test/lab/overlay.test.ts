// matrix --copy-up on a real overlay mount: each cell makes its file in the lower
// layer, locks it through the overlay, and the copy-up / bypass rows report measured
// tokens (never `error`); the report names the layers, and both layers are left clean.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatrixResult } from '../../dist/lab/types.js';
import { runCli } from './cli.js';

const root = mkdtempSync(join(tmpdir(), 'lab-overlay-'));
const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(root, d)) as [
  string,
  string,
  string,
  string,
];
let why: string | null =
  process.platform !== 'linux' ? 'not Linux' : process.getuid?.() !== 0 ? 'mounting needs root' : null;
let mounted = false;

beforeAll(() => {
  if (why) return;
  for (const d of [lower, upper, work, merged]) mkdirSync(d);
  try {
    execFileSync(
      'mount',
      ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged],
      {
        stdio: 'pipe',
      },
    );
    mounted = true;
  } catch (err) {
    why = `mount -t overlay failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
});
afterAll(() => {
  if (mounted) execFileSync('umount', [merged]);
  rmSync(root, { recursive: true, force: true });
});

describe('matrix --copy-up on overlayfs', () => {
  it('measures copy-up and both bypasses, names the layers, leaves both layers clean', async (ctx) => {
    if (why) return ctx.skip();
    const json = join(root, 'm.json');
    const rows = ['overlay_copy_up_keeps_lock', 'overlay_lower_bypass', 'overlay_upper_bypass'];
    const r = await runCli([
      'matrix',
      '--kinds',
      'flock,posix,ofd',
      '--scenarios',
      rows.join(','),
      '--copy-up',
      '--dir',
      merged,
      '--json',
      json,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(json, 'utf8')) as MatrixResult;
    expect(m.fs).toBe('overlay');
    expect(m.fsInfo.overlay).toEqual({ lower: [lower], upper, work });
    for (const row of rows)
      for (const k of ['flock', 'posix', 'ofd'] as const) {
        const c = (m.results as Record<string, Record<string, { outcome: string; detail: string }>>)[row]![k]!;
        expect(['held', 'released', 'conflict', 'granted', 'not-visible'], `${row}/${k}: ${c.detail}`).toContain(
          c.outcome,
        );
      }
    // The copy-up really happened in the upper-bypass row, and B saw A's lock before it in the copy-up row.
    expect(m.results.overlay_upper_bypass!.posix!.detail).toMatch(/copied up: .* exists/);
    expect(m.results.overlay_copy_up_keeps_lock!.posix!.detail).toMatch(/getlk write fd=peek: held/);
    expect(readdirSync(lower)).toEqual([]);
    expect(readdirSync(upper)).toEqual([]);
  });
});
