// @ts-check
// Diagnostic for part 2 (Linux): does a C -> `await lock()` hand-off depend on where the
// scheduler runs the waiter's two threads? Each round is part 2's warm round (the bench
// sees the waiter blocked in /proc/locks, a C process takes its timestamp and unlocks,
// the waiter, bench/child.mjs, takes its timestamp when `await lock()` resolves); after
// the grant the waiter reads the CPU its JS thread and its waiter thread last ran on
// (bench/lib/thread_cpus.mjs), and the rounds are grouped by same CPU / different CPUs.
//
//   node bench/placement.mjs [flock|posix|ofd] [runs=6] [rounds=200]
//
// Needs `npm run build` and bench/out/handoff (compiled by `npm run bench`).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import os from 'node:os';
import { LineChild, untilBlocked } from './lib/line_child.mjs';
import { fmt, median } from './lib/stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const kind = process.argv[2] ?? 'flock';
const runs = Number(process.argv[3] ?? 6);
const rounds = Number(process.argv[4] ?? 200);

const dir = mkdtempSync(join(os.tmpdir(), 'syslocks-placement-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'h.lock');
process.env.BENCH_THREAD_CPUS = '1'; // for the waiter child
/** @type {{ us: number, same: boolean }[]} */
const rows = [];
for (let run = 0; run < runs; run++) {
  writeFileSync(path, '');
  const ino = statSync(path).ino;
  const r = new LineChild(join(HERE, 'out', 'handoff'), [kind, path]);
  const w = new LineChild(process.execPath, [join(HERE, 'child.mjs'), kind, path]);
  r.send('hold');
  await r.expect('held');
  // As bench/parts/handoff.mjs's round(), 10 of them to warm up.
  for (let i = 0; i < rounds + 10; i++) {
    w.send('wait');
    await w.expect('waiting');
    await untilBlocked(ino);
    r.send('release');
    const [, at, js, waiter] = (await w.expect('granted')).split(' ');
    r.send('when');
    const released = (await r.expect('released')).split(' ')[1];
    w.send('release');
    r.send('hold');
    await r.expect('held');
    if (i >= 10) rows.push({ us: Number(BigInt(at) - BigInt(released)) / 1000, same: js === waiter });
  }
  await Promise.all([r.quit(), w.quit()]);
}
const line = (what, xs) => `${what}: ${xs.length} rounds, median ${fmt(median(xs), 1)} us`;
console.log(`C -> await lock() (${kind}), ${runs} runs x ${rounds} warm rounds, by where the waiter's threads ran:`);
console.log(
  `  ${line(
    "JS thread on the waiter thread's CPU",
    rows.filter((x) => x.same).map((x) => x.us),
  )}`,
);
console.log(
  `  ${line(
    'JS thread on another CPU',
    rows.filter((x) => !x.same).map((x) => x.us),
  )}`,
);
console.log(
  `  ${line(
    'all',
    rows.map((x) => x.us),
  )}`,
);
