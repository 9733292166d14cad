// @ts-check
// Diagnostic for part 2 (Linux): does a C -> `await lock()` hand-off depend on where the
// scheduler runs the waiter's two threads? Each round is part 2's warm round (the bench
// sees the waiter blocked in /proc/locks, a C process takes its timestamp and unlocks,
// the waiter takes its timestamp when `await lock()` resolves); after the grant the
// waiter reads the CPU its JS thread and its waiter thread last ran on (proc(5),
// /proc/self/task/<tid>/stat, field 39 "processor"), and the rounds are grouped by
// same CPU / different CPUs.
//
//   node bench/placement.mjs [flock|posix|ofd] [runs=6] [rounds=200]
//
// Needs `npm run build` and bench/out/handoff (compiled by `npm run bench`).
import { readFileSync, readdirSync, openSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import os from 'node:os';
import { LineChild, untilBlocked } from './lib/line_child.mjs';
import { median, fmt } from './lib/stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === 'child') await child(process.argv[3] ?? 'flock', process.argv[4] ?? '');
else await main(process.argv[2] ?? 'flock', Number(process.argv[3] ?? 6), Number(process.argv[4] ?? 200));

/** The last CPU of a thread of this process (proc(5): field 39 of /proc/self/task/<tid>/stat). */
function lastCpu(tid) {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[36]);
}

/** The waiter: "wait" -> "waiting", then "granted <ns> <js cpu> <waiter cpu>"; "release"; "quit". */
async function child(kind, path) {
  const { lock } = await import('../dist/index.js');
  const fd = openSync(path, 'r+');
  /** @type {{ release(): void } | null} */
  let held = null;
  // The waiter thread parks between waits and is reused (rounds are far inside its
  // linger), so it is looked up once; a new thread is looked up again.
  /** @type {string | undefined} */
  let tid;
  const isWaiter = (t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/stat`, 'utf8').includes('(syslocks-wait)');
    } catch {
      return false;
    }
  };
  const waiterTid = () =>
    tid !== undefined && isWaiter(tid) ? tid : (tid = readdirSync('/proc/self/task').find(isWaiter));
  const say = (line) => process.stdout.write(line + '\n');
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'wait') {
      const pending = lock(fd, { kind });
      say('waiting');
      pending.then((l) => {
        const t = process.hrtime.bigint();
        held = l;
        const tid = waiterTid();
        say(`granted ${t} ${lastCpu(process.pid)} ${tid === undefined ? -1 : lastCpu(tid)}`);
      });
    } else if (line === 'release') {
      held?.release();
      held = null;
      say('released');
    } else if (line === 'quit') process.exit(0);
  });
}

async function main(kind, runs, rounds) {
  const cBin = join(HERE, 'out', 'handoff');
  const dir = mkdtempSync(join(os.tmpdir(), 'syslocks-placement-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'h.lock');
  /** @type {{ us: number, same: boolean }[]} */
  const rows = [];
  for (let run = 0; run < runs; run++) {
    writeFileSync(path, '');
    const ino = statSync(path).ino;
    const r = new LineChild(cBin, [kind, path]);
    const w = new LineChild(process.execPath, [fileURLToPath(import.meta.url), 'child', kind, path]);
    r.send('hold');
    await r.expect('held');
    for (let i = 0; i < rounds + 10; i++) {
      w.send('wait');
      await w.expect('waiting');
      await untilBlocked(ino);
      r.send('release');
      const [, at, js, waiter] = (await w.expect('granted')).split(' ');
      r.send('when');
      const released = (await r.expect('released')).split(' ')[1];
      w.send('release');
      await w.expect('released');
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
}
