// Part 3 of bench/run.mjs, in a process of its own so that nothing else it did
// weighs on the numbers:
//
//   node bench/eventloop.mjs <kind> <lockPath> <readPath> <waits> <phaseMs> <reps>
//
// The lock at <lockPath> is held by another process for the whole run. Each
// repetition measures two phases of <phaseMs>, in this order, with the same load:
//   idle:    nothing pending;
//   loaded:  <waits> pending `lock(fd, {kind, signal})` on that held lock, each on its
//            own fd (and so on its own waiter thread), confirmed blocked in /proc/locks.
// Load in both phases: a 1 ms setInterval whose every tick starts an
// fs.promises.readFile(readPath) (libuv's threadpool) unless one is in flight, both
// counted by completions; monitorEventLoopDelay samples the
// loop every 1 ms. The loaded phase ends with abort(): every wait must reject with
// an AbortError and leave no waiter thread behind.
// Then, once, the grant: <waits> shared waits on a second file whose exclusive holder
// (bench/child.mjs) releases: RSS and VSZ per pending wait (/proc/self/status), the
// first and last grant after the holder's release timestamp, and the threads left once
// the waiter threads' linger is over.
// Prints one JSON line: { reps: [{ idle, loaded }], grant, ... }.
import { setMaxListeners } from 'node:events';
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { lock } from '../dist/index.js';
import { blockedOn } from './proclocks.mjs';
import { LineChild } from './lib/line_child.mjs';

const [kind, lockPath, readPath, waitsArg, phaseArg, repsArg] = process.argv.slice(2);
const WAITS = Number(waitsArg);
const PHASE_MS = Number(phaseArg);
const REPS = Number(repsArg);
const RESOLUTION_MS = 1;

/** A field of /proc/self/status (Threads, VmRSS in KiB, ...); null off Linux. */
function status(field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
const threads = () => status('Threads');

const ino = statSync(lockPath).ino;
/** Blocked requests on the lock file in the kernel; null off Linux. */
const blockedInKernel = () => blockedOn(ino);

const ms = (ns) => ns / 1e6;

async function measure(durationMs = PHASE_MS) {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  let ticks = 0;
  let reads = 0;
  let reading = null;
  // Every tick starts a readFile unless one is still in flight: a light, steady load
  // that needs both the timer and libuv's threadpool to keep going.
  const timer = setInterval(() => {
    ticks++;
    reading ??= readFile(readPath).then(() => {
      reads++;
      reading = null;
    });
  }, 1);
  h.enable();
  await sleep(durationMs);
  h.disable();
  clearInterval(timer);
  await reading;
  // A sample is the time between two 1 ms checks; the delay is what exceeds 1 ms.
  const delay = (v) => Math.max(0, ms(v) - RESOLUTION_MS);
  return {
    samples: h.count,
    p50Ms: delay(h.percentile(50)),
    p99Ms: delay(h.percentile(99)),
    maxMs: delay(h.max),
    timerTicks: ticks,
    readFiles: reads,
  };
}

await measure(Math.ceil(PHASE_MS / 3)); // warm-up, not reported
const threadsAtStart = threads(); // libuv's pool is up now; no waiter thread yet

// First, in a process that has had no waiter thread yet: RSS per wait counts the
// stacks, which glibc keeps in a cache once threads have ended.
const granted = await grant();

const reps = [];
for (let r = 0; r < REPS; r++) {
  const idle = await measure();
  idle.threads = threads();

  const fds = Array.from({ length: WAITS }, () => openSync(lockPath, 'r+'));
  const ac = new AbortController();
  // One signal for every wait: each adds an abort listener (EventTarget warns past 10).
  setMaxListeners(WAITS + 10, ac.signal);
  let granted = 0;
  let aborted = 0;
  const errors = [];
  const waits = fds.map((fd) =>
    lock(fd, { kind, signal: ac.signal }).then(
      (l) => {
        granted++;
        l.release();
      },
      (err) => {
        if (err?.name === 'AbortError') aborted++;
        else errors.push(String(err?.code ?? err));
      },
    ),
  );
  // All waits really in the kernel before measuring (or 5 s, then measured anyway).
  const until = Date.now() + 5000;
  let blocked = blockedInKernel();
  while (blocked !== null && blocked < WAITS && Date.now() < until) {
    await sleep(5);
    blocked = blockedInKernel();
  }
  const loaded = await measure();
  loaded.blockedInKernel = blockedInKernel();
  loaded.threads = threads();
  const t0 = process.hrtime.bigint();
  ac.abort();
  await Promise.all(waits);
  loaded.abortAllMs = ms(Number(process.hrtime.bigint() - t0));
  for (const fd of fds) closeSync(fd);
  loaded.aborted = aborted;
  loaded.granted = granted;
  loaded.errors = errors;
  loaded.threadsAfterAbort = threads();
  reps.push({ idle, loaded });
  // The next idle phase starts once the parked threads have ended (their linger), so
  // that their exits are not measured as the idle loop's load.
  const lingerOver = Date.now() + 3000;
  while (threadsAtStart !== null && threads() > threadsAtStart && Date.now() < lingerOver) await sleep(10);
}
// The grant of WAITS shared waits at once.
async function grant() {
  const path = `${lockPath}.grant`;
  writeFileSync(path, '');
  const gino = statSync(path).ino;
  const here = dirname(fileURLToPath(import.meta.url));
  const holder = new LineChild(process.execPath, [join(here, 'child.mjs'), kind, path]);
  try {
    holder.send('hold');
    await holder.expect('held');
    const idle = { rss: status('VmRSS'), vsz: status('VmSize'), threads: threads() };
    const fds = Array.from({ length: WAITS }, () => openSync(path, 'r+'));
    const grantedAt = [];
    const waits = fds.map((fd) =>
      lock(fd, { kind, mode: 'shared' }).then((l) => {
        grantedAt.push(process.hrtime.bigint());
        return l;
      }),
    );
    const until = Date.now() + 10000;
    while ((blockedOn(gino) ?? WAITS) < WAITS && Date.now() < until) await sleep(5);
    const loaded = { rss: status('VmRSS'), vsz: status('VmSize'), threads: threads() };
    holder.send('release');
    const locks = await Promise.all(waits);
    holder.send('when');
    const released = BigInt((await holder.expect('released')).split(' ')[1]);
    for (const l of locks) l.release();
    for (const fd of fds) closeSync(fd);
    await sleep(1000); // beyond the linger (native/waiter_pool.h kLingerMs)
    const after = ms(Number(grantedAt.reduce((a, b) => (a > b ? a : b)) - released));
    return {
      rssPerWaitKiB: (loaded.rss - idle.rss) / WAITS,
      vszPerWaitKiB: (loaded.vsz - idle.vsz) / WAITS,
      firstMs: ms(Number(grantedAt.reduce((a, b) => (a < b ? a : b)) - released)),
      lastMs: after,
      threadsIdle: idle.threads,
      threadsLoaded: loaded.threads,
      threadsAfterLinger: threads(),
    };
  } finally {
    await holder.quit();
  }
}

process.stdout.write(
  JSON.stringify({ kind, waits: WAITS, phaseMs: PHASE_MS, resolutionMs: RESOLUTION_MS, reps, grant: granted }) + '\n',
);
