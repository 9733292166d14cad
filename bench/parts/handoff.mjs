// @ts-check
// Part 2: hand-off latency between two processes, per kind: the releaser's timestamp
// before its unlock -> the waiter's timestamp at the grant. In one run: C -> C (the
// kernel's floor), C -> lockSync (the floor for a blocked JS thread), C -> await lock(),
// syslocks -> syslocks, syslocks -> C, and C -> each peer's asynchronous wait. Every
// repetition runs all configurations in turn, so drift of the machine cancels out.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineChild, untilBlocked } from '../lib/line_child.mjs';
import { fmt, median, percentile, ratio, us } from '../lib/stats.mjs';
import { table } from '../lib/table.mjs';

export async function run(ctx) {
  const { KINDS, dir, peers, HERE } = ctx;
  const { ROUNDS, WARM_ROUNDS, HANDOFF_REPS } = ctx.config;
  const cBin = ctx.c.bin;
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

  async function handoffRun(config, kind, path) {
    const ino = statSync(path).ino;
    const spawnOne = (impl, peer) =>
      impl === 'c'
        ? new LineChild(cBin.handoff, [kind, path])
        : new LineChild(process.execPath, [join(HERE, 'child.mjs'), kind, path, ...(peer ? [peer] : [])]);
    const r = spawnOne(config.releaser);
    const w = spawnOne(config.waiter, config.peer);
    const latencies = [];
    let unconfirmed = 0;
    try {
      r.send('hold');
      await r.expect('held');
      for (let round = 0; round < WARM_ROUNDS + ROUNDS; round++) {
        w.send(config.wait);
        await w.expect('waiting');
        const seen = await untilBlocked(ino);
        r.send('release');
        const grant = await w.expect('granted');
        r.send('when');
        const rel = await r.expect('released');
        const ns = Number(BigInt(grant.split(' ')[1]) - BigInt(rel.split(' ')[1]));
        if (round >= WARM_ROUNDS) {
          latencies.push(ns);
          if (!seen) unconfirmed++;
        }
        w.send('release');
        w.send('when');
        await w.expect('released');
        r.send('hold');
        await r.expect('held');
      }
    } finally {
      await Promise.all([r.quit(), w.quit()]);
    }
    return { latencies, unconfirmed };
  }

  const part2 = {};
  console.log(
    `\nrunning part 2 (${HANDOFF_REPS} runs x ${ROUNDS} rounds per configuration, after ${WARM_ROUNDS} warm-up rounds each)...`,
  );
  for (const kind of KINDS) {
    part2[kind] = {};
    const path = join(dir, `handoff-${kind}.lock`);
    writeFileSync(path, '');
    for (const c of configsOf(kind))
      part2[kind][c.id] = {
        label: c.label(kind),
        ...(c.peer ? { peer: c.peer, peerVersion: peers.versions[c.peer] } : {}),
        runs: [],
      };
    for (let rep = 0; rep < HANDOFF_REPS; rep++) {
      for (const c of configsOf(kind)) {
        const { latencies, unconfirmed } = await handoffRun(c, kind, path);
        part2[kind][c.id].runs.push({
          medianNs: median(latencies),
          p99Ns: percentile(latencies, 99),
          minNs: Math.min(...latencies),
          maxNs: Math.max(...latencies),
          rounds: latencies.length,
          unconfirmedBlocked: unconfirmed,
        });
      }
    }
    const base = part2[kind]['c-c'];
    for (const c of configsOf(kind)) {
      const e = part2[kind][c.id];
      e.medianNs = median(e.runs.map((r) => r.medianNs));
      e.p99Ns = median(e.runs.map((r) => r.p99Ns));
      e.ratioMedian = base ? ratio(e.medianNs, median(base.runs.map((r) => r.medianNs))) : null;
      e.ratioP99 = base ? ratio(e.p99Ns, median(base.runs.map((r) => r.p99Ns))) : null;
    }
  }
  const rows2 = [];
  for (const kind of KINDS) {
    for (const c of configsOf(kind)) {
      const e = part2[kind][c.id];
      const meds = e.runs.map((r) => r.medianNs);
      const unconf = e.runs.reduce((s, r) => s + r.unconfirmedBlocked, 0);
      rows2.push([
        kind,
        e.label,
        us(e.medianNs),
        `${us(Math.min(...meds))}-${us(Math.max(...meds))}`,
        us(e.p99Ns),
        e.ratioMedian == null ? 'n/a' : `${fmt(e.ratioMedian, 2)}x`,
        e.ratioP99 == null ? 'n/a' : `${fmt(e.ratioP99, 2)}x`,
        String(unconf),
      ]);
    }
  }
  console.log(
    `\n2. Hand-off latency: releaser's timestamp before unlock -> waiter's timestamp at grant, two processes (us; CLOCK_MONOTONIC;\n` +
      `   median over ${HANDOFF_REPS} runs of each run's median and p99 of ${ROUNDS} rounds; x C = ratio to C -> C of the same kind)\n`,
  );
  console.log(
    table(['kind', 'releaser -> waiter', 'median', 'run medians', 'p99', 'x C med', 'x C p99', 'unconfirmed'], rows2),
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
