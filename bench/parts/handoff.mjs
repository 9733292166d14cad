// @ts-check
// Part 2: hand-off latency between two processes, per kind: the releaser's timestamp
// before its unlock -> the waiter's timestamp at the grant. In one run: C -> C (the
// kernel's floor), C -> lockSync (the floor for a blocked JS thread), C -> await lock(),
// syslocks -> syslocks, syslocks -> C, and C -> each peer's asynchronous wait. Every
// repetition runs all configurations in turn, so drift of the machine cancels out.
//
// Each configuration has two sets of rounds per repetition: "warm", the release as
// soon as the waiter is seen blocked, and "cold", the release COLD_MS later. On a VM a CPU that
// has idled for a while is halted by the host, and waking it costs tens of
// microseconds more (C -> C goes from about 8 to about 60-100 us here); a hand-off that
// wakes two threads (a waiter thread, then the JS thread) can pay it twice. The warm
// figure is the code's own cost; the cold one is what a lock held for a while costs.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineChild, untilBlocked } from '../lib/line_child.mjs';
import { fmt, median, percentile, ratio, us } from '../lib/stats.mjs';
import { table } from '../lib/table.mjs';

export async function run(ctx) {
  const { KINDS, dir, peers, HERE } = ctx;
  const { ROUNDS, WARM_ROUNDS, HANDOFF_REPS, COLD_MS } = ctx.config;
  const cBin = ctx.c.bin;
  const oneCpu = firstOfSeveralCpus();
  // Each configuration pairs a releasing process R with a waiting process W, both
  // holding their own fd of the same file. One round: W starts its blocking wait, the
  // bench sees W blocked in /proc/locks, R takes its timestamp and unlocks (and goes idle:
  // it reports the timestamp only when asked, after the grant), W takes its timestamp
  // when granted; then W releases and R re-takes the lock (not measured).
  const CONFIGS = [
    {
      id: 'c-c',
      releaser: 'c',
      waiter: 'c',
      wait: 'wait',
      label: (k) => `C -> C: ${{ flock: 'flock(LOCK_EX)', posix: 'fcntl(F_SETLKW)', ofd: 'fcntl(F_OFD_SETLKW)' }[k]}`,
    },
    // The same two C processes on one CPU (taskset): a hand-off with no wake-up sent to
    // another CPU. Its tail next to C -> C's shows what cross-CPU wake-ups cost on this
    // machine (a halted vCPU is woken through the host).
    ...(oneCpu == null
      ? []
      : [
          {
            id: 'c-c-1cpu',
            releaser: 'c',
            waiter: 'c',
            wait: 'wait',
            pin: oneCpu,
            label: () => `C -> C, both on CPU ${oneCpu} (taskset)`,
          },
        ]),
    {
      id: 'node-node',
      releaser: 'node',
      waiter: 'node',
      wait: 'wait',
      label: () => 'syslocks -> syslocks: await lock()',
    },
    { id: 'c-node', releaser: 'c', waiter: 'node', wait: 'wait', label: () => 'C -> syslocks: await lock()' },
    { id: 'node-c', releaser: 'node', waiter: 'c', wait: 'wait', label: () => 'syslocks release() -> C' },
    {
      id: 'c-nodesync',
      releaser: 'c',
      waiter: 'node',
      wait: 'waitsync',
      label: () => 'C -> syslocks: lockSync() (JS thread)',
    },
    // Peers as the waiter, each on its own kind, released by C: the waiting side alone,
    // to compare with "C -> syslocks: await lock()".
    ...[
      ['fs-native-extensions', 'await waitForLock(fd) (thread per wait)'],
      ['fs-ext', "flock(fd, 'ex', cb) (threadpool)"],
      ['os-lock', 'await lock(fd, {exclusive}) (threadpool)'],
    ]
      .filter(([name]) => peers.modules[name])
      .map(([name, what]) => ({
        id: `c-peer:${name}`,
        releaser: 'c',
        waiter: 'node',
        peer: name,
        onlyKind: peers.kinds[name],
        wait: 'wait',
        label: () => `C -> ${name}: ${what}`,
      })),
  ].filter((c) => cBin.handoff || (c.releaser !== 'c' && c.waiter !== 'c'));
  const configsOf = (kind) => CONFIGS.filter((c) => !c.onlyKind || c.onlyKind === kind);

  // One releaser R and one waiter W per configuration, each pair on its own file.
  async function openPair(config, kind, path) {
    writeFileSync(path, '');
    const spawnOne = (impl, peer) => {
      const [cmd, args] =
        impl === 'c'
          ? [cBin.handoff, [kind, path]]
          : [process.execPath, [join(HERE, 'child.mjs'), kind, path, ...(peer ? [peer] : [])]];
      return config.pin == null ? new LineChild(cmd, args) : new LineChild('taskset', ['-c', config.pin, cmd, ...args]);
    };
    const pair = {
      config,
      ino: statSync(path).ino,
      r: spawnOne(config.releaser),
      w: spawnOne(config.waiter, config.peer),
    };
    pair.r.send('hold');
    await pair.r.expect('held');
    return pair;
  }

  // One round: W starts its wait, the bench sees it blocked in /proc/locks (and, cold,
  // lets pauseMs pass), R takes its timestamp and unlocks; W's timestamp at the grant.
  // Then W releases and R takes the lock again (not measured).
  async function round({ config, ino, r, w }, pauseMs) {
    w.send(config.wait);
    await w.expect('waiting');
    const seen = await untilBlocked(ino);
    if (pauseMs > 0) await sleep(pauseMs);
    r.send('release');
    const grant = await w.expect('granted');
    r.send('when');
    const rel = await r.expect('released');
    w.send('release');
    w.send('when');
    await w.expect('released');
    r.send('hold');
    await r.expect('held');
    return { ns: Number(BigInt(grant.split(' ')[1]) - BigInt(rel.split(' ')[1])), seen };
  }

  // One run of every configuration of a kind, in turn, each with a fresh process pair:
  // its warm-up rounds, its warm rounds, then its cold rounds. (Interleaving single
  // rounds of all pairs instead leaves every process's caches cold at its grant, and
  // that measures something else: docs/BENCH.md, "Cache-cold hand-offs".)
  async function handoffRuns(configs, kind) {
    const out = [];
    for (const c of configs) {
      const p = await openPair(c, kind, join(dir, `handoff-${kind}-${c.id.replace(':', '-')}.lock`));
      const res = { warm: [], cold: [], unconfirmedWarm: 0, unconfirmedCold: 0 };
      try {
        for (let i = 0; i < WARM_ROUNDS; i++) await round(p, 0);
        for (const [phase, pauseMs] of [
          ['warm', 0],
          ['cold', COLD_MS],
        ]) {
          for (let i = 0; i < ROUNDS; i++) {
            const { ns, seen } = await round(p, pauseMs);
            res[phase].push(ns);
            if (!seen) res[phase === 'warm' ? 'unconfirmedWarm' : 'unconfirmedCold']++;
          }
        }
      } finally {
        await Promise.all([p.r.quit(), p.w.quit()]);
      }
      out.push(res);
    }
    return out;
  }

  const part2 = {};
  console.log(
    `\nrunning part 2 (${HANDOFF_REPS} runs x ${ROUNDS} warm + ${ROUNDS} cold rounds per configuration, after ${WARM_ROUNDS} warm-up rounds each)...`,
  );
  for (const kind of KINDS) {
    part2[kind] = {};
    for (const c of configsOf(kind))
      part2[kind][c.id] = {
        label: c.label(kind),
        ...(c.peer ? { peer: c.peer, peerVersion: peers.versions[c.peer] } : {}),
        runs: [],
        cold: { pauseMs: COLD_MS, runs: [] },
      };
    const summary = (latencies, unconfirmed) => ({
      medianNs: median(latencies),
      p99Ns: percentile(latencies, 99),
      minNs: Math.min(...latencies),
      maxNs: Math.max(...latencies),
      rounds: latencies.length,
      unconfirmedBlocked: unconfirmed,
    });
    for (let rep = 0; rep < HANDOFF_REPS; rep++) {
      const configs = configsOf(kind);
      const results = await handoffRuns(configs, kind);
      for (const [j, c] of configs.entries()) {
        part2[kind][c.id].runs.push(summary(results[j].warm, results[j].unconfirmedWarm));
        part2[kind][c.id].cold.runs.push(summary(results[j].cold, results[j].unconfirmedCold));
      }
    }
    const base = part2[kind]['c-c'];
    for (const c of configsOf(kind)) {
      // The entry's own figures are the warm ones; `cold` has the same fields.
      for (const [e, b] of [
        [part2[kind][c.id], base],
        [part2[kind][c.id].cold, base?.cold],
      ]) {
        e.medianNs = median(e.runs.map((r) => r.medianNs));
        e.p99Ns = median(e.runs.map((r) => r.p99Ns));
        e.ratioMedian = b ? ratio(e.medianNs, median(b.runs.map((r) => r.medianNs))) : null;
        e.ratioP99 = b ? ratio(e.p99Ns, median(b.runs.map((r) => r.p99Ns))) : null;
      }
    }
  }
  const rows2 = [];
  for (const kind of KINDS) {
    for (const c of configsOf(kind)) {
      const e = part2[kind][c.id];
      const meds = e.runs.map((r) => r.medianNs);
      const unconf = [...e.runs, ...e.cold.runs].reduce((s, r) => s + r.unconfirmedBlocked, 0);
      const x = (v) => (v == null ? 'n/a' : `${fmt(v, 2)}x`);
      rows2.push([
        kind,
        e.label,
        us(e.medianNs),
        `${us(Math.min(...meds))}-${us(Math.max(...meds))}`,
        us(e.p99Ns),
        x(e.ratioMedian),
        x(e.ratioP99),
        us(e.cold.medianNs),
        us(e.cold.p99Ns),
        x(e.cold.ratioMedian),
        String(unconf),
      ]);
    }
  }
  console.log(
    `\n2. Hand-off latency: releaser's timestamp before unlock -> waiter's timestamp at grant, two processes (us; CLOCK_MONOTONIC;\n` +
      `   median over ${HANDOFF_REPS} runs of each run's median and p99 of ${ROUNDS} rounds; x C = ratio to C -> C of the same kind;\n` +
      `   warm: released as soon as the waiter is seen blocked; cold: released ${COLD_MS} ms later, once idle CPUs are halted)\n`,
  );
  console.log(
    table(
      [
        'kind',
        'releaser -> waiter',
        'median',
        'run medians',
        'p99',
        'x C med',
        'x C p99',
        'cold med',
        'cold p99',
        'cold x C',
        'unconfirmed',
      ],
      rows2,
    ),
  );
  console.log(
    '   (unconfirmed = rounds where /proc/locks never showed the waiter blocked before the release; 0 expected)',
  );
  if (cBin.handoff) {
    const parts = KINDS.map((k) => `${k} ${us(part2[k]['c-node'].medianNs - part2[k]['c-nodesync'].medianNs)}`);
    console.log(`   waiter-thread hop, C -> await lock() minus C -> lockSync() medians (us): ${parts.join(', ')}`);
  }

  return { json: part2, rows: rows2 };
}

/**
 * The first CPU this process may run on, when it may run on several and util-linux's
 * taskset is there (for the one-CPU reference row); else null.
 */
function firstOfSeveralCpus() {
  let list;
  try {
    list = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  } catch {
    return null;
  }
  if (!list || !/[-,]/.test(list)) return null; // one CPU: C -> C is on one CPU already
  if (spawnSync('taskset', ['-c', list, 'true']).status !== 0) return null;
  return String(Number.parseInt(list, 10));
}
