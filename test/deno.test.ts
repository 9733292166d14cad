// deno.test.ts - the library under Deno's Node-API, in `npm test` (issue 11's Deno
// failure). Deno runs an environment's cleanup hooks with no V8 HandleScope open and its
// napi_open_handle_scope opens none, so a cleanup hook that makes a single handle kills
// the whole process ("Cannot create a handle without a HandleScope"): every worker that
// had loaded the addon did so when it ended or was terminated. Node.js always has a
// scope there, so only Deno shows it. The smoke suite (test/smoke/smoke.mjs, also run
// per prebuild by `npm run release:check`) runs here in Deno 2 (`deno run -A`), from the
// registry package @deno/linux-<arch>-glibc unpacked where release-check keeps it.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { must, run } from './package/npm-helpers';

const REPO = resolve(__dirname, '..');
const ARCH = process.arch === 'x64' ? 'x64' : process.arch === 'arm64' ? 'arm64' : '';
const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
const GLIBC = Boolean(report?.header?.glibcVersionRuntime);
// Deno publishes Linux builds for glibc only.
const RUNNABLE = process.platform === 'linux' && GLIBC && ARCH !== '';

/** Deno's executable: scripts/release-check.sh's copy, else unpacked from the registry. */
function deno(): string {
  const rt = join(REPO, '.release-work', 'rt');
  const dir = join(rt, `deno-${ARCH}`);
  const exe = join(dir, 'package', 'deno');
  if (existsSync(exe)) return exe;
  mkdirSync(rt, { recursive: true });
  const tmp = mkdtempSync(join(rt, '.tmp-deno-'));
  try {
    const spec = `@deno/linux-${ARCH}-glibc@2`;
    const tgz = must(run('npm', ['pack', '--silent', spec], tmp), `npm pack ${spec}`)
      .stdout.trim()
      .split('\n')
      .pop();
    must(run('tar', ['xzf', tgz ?? '', '-C', tmp], tmp), 'tar');
    rmSync(join(tmp, tgz ?? ''));
    must(run('chmod', ['+x', join(tmp, 'package', 'deno')], tmp), 'chmod');
    if (!existsSync(exe)) renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return exe;
}

describe.skipIf(!RUNNABLE)('Deno', () => {
  test('the smoke suite passes in Deno 2: workers that end or are terminated exit cleanly', () => {
    const exe = deno();
    const addon = join(REPO, 'build', 'Release', 'syslocks.node');
    const r = run(exe, ['run', '-A', join(REPO, 'test', 'smoke', 'smoke.mjs')], REPO, {
      ...process.env,
      SYSLOCKS_NATIVE: addon,
      SMOKE_CHILD: JSON.stringify([exe, 'run', '-A']),
    });
    const out = `${r.stdout}\n--- stderr\n${r.stderr}`;
    expect(out).toContain(`native ${addon}`);
    expect(out).toContain('ok   worker exit');
    expect(out).toContain('ok   worker terminate');
    expect(out).toMatch(/^\d+ passed, 0 failed$/m);
    expect(out).not.toContain('HandleScope');
    expect(r.status, out).toBe(0);
  });
});
