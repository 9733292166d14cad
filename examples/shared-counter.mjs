// A counter file shared by several processes, kept exact by a lock.
//
//   node examples/shared-counter.mjs [processes=4] [increments=50] [kind=ofd]
//
// Each process takes the lock on counter.lock, reads counter.txt, adds one, writes
// the new value to a temp file, fsyncs it and renames it over counter.txt, then lets
// go. The lock lives on its own file: renaming over the data file never touches it
// (a lock on a file that gets replaced protects nothing, SEMANTICS.md row 19).
// Run with kind=none to see the updates that get lost without a lock.
import { fork } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lock } from '../dist/index.js';

const [, , nArg = '4', mArg = '50', kind = 'ofd', dirArg] = process.argv;
const n = Number(nArg);
const m = Number(mArg);

async function child(dir) {
  const data = join(dir, 'counter.txt');
  const tmp = join(dir, `counter.${process.pid}.tmp`);
  for (let i = 0; i < m; i++) {
    const held = kind === 'none' ? null : await lock(join(dir, 'counter.lock'), { kind, timeout: 30_000 });
    try {
      let value = 0;
      try {
        value = Number(readFileSync(data, 'utf8'));
      } catch {
        /* first increment */
      }
      const fd = openSync(tmp, 'w');
      writeSync(fd, String(value + 1));
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, data);
    } finally {
      held?.release();
    }
  }
}

if (process.env.COUNTER_CHILD) {
  await child(dirArg);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'shared-counter-'));
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, () => {
      const c = fork(new URL(import.meta.url).pathname, [nArg, mArg, kind, dir], {
        env: { ...process.env, COUNTER_CHILD: '1' },
      });
      return new Promise((resolve, reject) =>
        c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exit ${code}`)))),
      );
    }),
  );
  const final = Number(readFileSync(join(dir, 'counter.txt'), 'utf8'));
  const ms = performance.now() - t0;
  console.log(
    `${n} processes x ${m} increments with kind=${kind}: final ${final}, expected ${n * m}` +
      `${final === n * m ? ' (exact)' : ` (${n * m - final} updates lost)`}; ${ms.toFixed(0)} ms`,
  );
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = final === n * m ? 0 : 1;
}
