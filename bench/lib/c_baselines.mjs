// @ts-check
// The C baselines (bench/c/*.c), compiled at the start of a run with `cc -O2` (or $CC)
// into bench/out/. Without a compiler the ratios to C are left out.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Compiles every baseline and says so: { cc, bin: {name: path}, missing: {name: why} }. */
export function compileBaselines(here, out) {
  const cc = process.env.CC || 'cc';
  const bin = {};
  const missing = {};
  for (const name of ['uncontended', 'handoff']) {
    const src = join(here, 'c', `${name}.c`);
    const exe = join(out, name);
    const r = spawnSync(cc, ['-O2', '-o', exe, src], { encoding: 'utf8' });
    if (r.error || r.status !== 0)
      missing[name] = (r.error?.message ?? r.stderr.trim().split('\n')[0]) || `exit ${r.status}`;
    else bin[name] = exe;
  }
  for (const [name, why] of Object.entries(missing)) {
    console.log(`C baseline "${name}" missing (${cc} -O2 bench/c/${name}.c: ${why}): its ratios are skipped.`);
  }
  if (!Object.keys(missing).length) console.log(`C baselines: ${cc} -O2 bench/c/*.c -> bench/out/`);
  return { cc, bin, missing };
}
