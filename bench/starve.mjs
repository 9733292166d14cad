// Part 4 of bench/run.mjs (with --peers): does a handful of pending lock waits starve
// libuv's threadpool? One probe per process, killed by the parent when it has answered:
//
//   node bench/starve.mjs <impl> <kind> <lockPath> <readPath> <waits> <timeoutMs>
//
// <impl>: syslocks (`lock(fd, {kind})`), fs-native-extensions (waitForLock),
// fs-ext (flock(fd, 'ex', cb)) or os-lock (lock(fd, {exclusive: true})). The lock at
// <lockPath> is held by another process throughout. The probe times
// fs.promises.readFile(readPath) idle (median of READS), then starts <waits> waits, each
// on its own fd, waits until they are blocked in /proc/locks (or 1 s), and times up to
// READS readFiles again, giving up <timeoutMs> after the first one started. Prints one
// JSON line and then stays as it is: a wait pending on a threadpool thread cannot be
// cancelled, and even process.exit() can hang joining such a thread, so the parent
// SIGKILLs this process (which also drops every pending wait).
import { openSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { blockedOn } from './proclocks.mjs';

const [impl, kind, lockPath, readPath, waitsArg, timeoutArg] = process.argv.slice(2);
const WAITS = Number(waitsArg);
const TIMEOUT_MS = Number(timeoutArg);
const READS = 20;

const ino = statSync(lockPath).ino;
const blockedInKernel = () => blockedOn(ino);
function threads() {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
  } catch {
    return null;
  }
}

async function waiter() {
  if (impl === 'syslocks') {
    const { lock } = await import('../dist/index.js');
    return (fd) => lock(fd, { kind });
  }
  const { loadPeer } = await import('./peers.mjs');
  const m = loadPeer(impl);
  if (impl === 'fs-native-extensions') return (fd) => m.waitForLock(fd);
  if (impl === 'fs-ext') return (fd) => new Promise((res, rej) => m.flock(fd, 'ex', (e) => (e ? rej(e) : res())));
  if (impl === 'os-lock') return (fd) => m.lock(fd, { exclusive: true });
  throw new Error(`unknown impl ${impl}`);
}

const ms = (ns) => Number(ns) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Up to READS sequential readFiles, all within `budgetMs` of the first start. */
async function reads(budgetMs) {
  const times = [];
  const deadline = process.hrtime.bigint() + BigInt(budgetMs) * 1000000n;
  for (let i = 0; i < READS; i++) {
    const left = ms(deadline - process.hrtime.bigint());
    if (left <= 0) break;
    const t0 = process.hrtime.bigint();
    let timer;
    const done = await Promise.race([
      readFile(readPath).then(() => true),
      new Promise((r) => (timer = setTimeout(() => r(false), left))),
    ]);
    clearTimeout(timer);
    if (!done) return { times, starved: true };
    times.push(ms(process.hrtime.bigint() - t0));
  }
  return { times, starved: false };
}

const wait = await waiter();
const idle = await reads(TIMEOUT_MS);
const threadsIdle = threads();
const settled = { granted: 0, rejected: [] };
for (let i = 0; i < WAITS; i++) {
  wait(openSync(lockPath, 'r+')).then(
    () => settled.granted++,
    (err) => settled.rejected.push(String(err?.code ?? err)),
  );
}
const until = Date.now() + 1000;
let blocked = blockedInKernel();
while (blocked !== null && blocked < WAITS && Date.now() < until) {
  await sleep(5);
  blocked = blockedInKernel();
}
const loaded = await reads(TIMEOUT_MS);
process.stdout.write(
  JSON.stringify({
    impl,
    kind,
    waits: WAITS,
    threadpoolSize: Number(process.env.UV_THREADPOOL_SIZE) || 4,
    idleMedianMs: idle.times.length ? median(idle.times) : null,
    idleStarved: idle.starved,
    blockedInKernel: blocked,
    threadsIdle,
    threadsWaiting: threads(),
    readsDone: loaded.times.length,
    firstReadMs: loaded.times[0] ?? null,
    medianMs: loaded.times.length ? median(loaded.times) : null,
    starved: loaded.starved, // a readFile did not complete within timeoutMs
    readsBeforeStarved: loaded.starved ? loaded.times.length : null,
    granted: settled.granted,
    rejected: settled.rejected,
  }) + '\n',
);
// Stay: the parent kills this process.
setInterval(() => {}, 1 << 30);
