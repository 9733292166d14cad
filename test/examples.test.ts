// The examples are part of the docs: each must run against the built package and exit 0.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../examples/', import.meta.url));
const runnable = readdirSync(dir).filter((f) => f.endsWith('.mjs'));

it('there are runnable examples', () => {
  expect(runnable).toEqual(expect.arrayContaining(['basic.mjs', 'keystore.mjs']));
});

it.each(runnable)('examples/%s runs and exits 0', (name) => {
  // Bounded under the 60 s test timeout; SIGKILL, as an example that hangs may not end on SIGTERM.
  const r = spawnSync(process.execPath, [dir + name], { encoding: 'utf8', timeout: 50_000, killSignal: 'SIGKILL' });
  const hung =
    (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT'
      ? `examples/${name} did not exit within 50000 ms (killed); stdout: ${r.stdout}`
      : '';
  expect(r.stderr, hung).toBe('');
  expect(r.status, hung).toBe(0);
});
