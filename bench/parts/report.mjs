// @ts-check
// The end of a run: bench/out/results.json with every figure and the configuration,
// and the targets read off this run's figures (met or not; the bench never
// fails on speed).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt } from '../lib/stats.mjs';

/** Writes results.json; returns { json, rows } with one row per target. */
export async function run(ctx, parts) {
  const { OUT, ROOT, info, started, peers } = ctx;
  const { uncontended: part1, handoff: part2, scale: part3, starvation: part4 } = parts;
  const {
    REPS,
    PAIRS,
    C_PAIRS,
    PATH_PAIRS,
    PEER_POOL_PAIRS,
    ROUNDS,
    WARM_ROUNDS,
    HANDOFF_REPS,
    COLD_MS,
    WAITS,
    PHASE_MS,
    ELD_REPS,
    STARVE_WAITS,
    STARVE_MS,
    WANT_PEERS,
  } = ctx.config;
  const cc = ctx.c.cc;
  const cMissing = ctx.c.missing;
  const rows = targets(ctx, parts);
  const results = {
    date: new Date().toISOString(),
    machine: info,
    durationS: (Date.now() - started) / 1000,
    config: {
      REPS,
      PAIRS,
      C_PAIRS,
      PATH_PAIRS,
      PEER_POOL_PAIRS,
      ROUNDS,
      WARM_ROUNDS,
      HANDOFF_REPS,
      COLD_MS,
      WAITS,
      PHASE_MS,
      ELD_REPS,
      STARVE_WAITS,
      STARVE_MS,
      cc,
    },
    cBaselineMissing: cMissing,
    uncontended: part1,
    handoff: part2,
    eventLoop: part3,
    peers: {
      requested: WANT_PEERS,
      ...(WANT_PEERS
        ? {
            pinned: peers.pinned,
            install: peers.installed,
            measured: peers.versions,
            unavailable: peers.unavailable,
            kinds: peers.kinds,
            starvation: { waits: STARVE_WAITS, timeoutMs: STARVE_MS, probes: part4 },
          }
        : {}),
    },
  };
  const outFile = join(OUT, 'results.json');
  writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
  if (!WANT_PEERS)
    console.log(
      '\npeers (fs-native-extensions, fs-ext, os-lock) not measured: `npm run bench -- --peers` (or BENCH_PEERS=1) installs them into bench/out/peers and adds them.',
    );
  results.targets = rows;
  writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
  console.log('\nTargets (docs/BENCH.md, "Targets"), read off this run:');
  for (const r of rows) console.log(`   ${r.met === null ? 'n/a ' : r.met ? 'met ' : 'NOT '} ${r.target}: ${r.figure}`);
  console.log(`done in ${results.durationS.toFixed(1)} s; JSON: ${outFile.replace(ROOT + '/', '')}`);
  return { json: results, rows };
}

/** Each target (docs/BENCH.md, "Targets") with this run's figure. */
function targets(ctx, parts) {
  const { KINDS } = ctx;
  const { uncontended: u, handoff: h, scale: s } = parts;
  const out = [];
  const usf = (ns) => `${fmt(ns / 1000, 1)} us`;
  for (const kind of KINDS) {
    const hk = h[kind] ?? {};
    const asyncWait = hk['c-node'];
    const syncWait = hk['c-nodesync'];
    if (asyncWait && syncWait) {
      out.push({
        target: `${kind}: C -> await lock() median <= C -> lockSync median + 10 us`,
        figure: `${usf(asyncWait.medianNs)} vs ${usf(syncWait.medianNs)}`,
        met: asyncWait.medianNs <= syncWait.medianNs + 10_000,
      });
    }
    // Warm hand-offs (the code's own cost), then cold ones (bench/parts/handoff.mjs).
    for (const [mode, pick] of [
      ['warm', (e) => e],
      ['cold', (e) => e?.cold],
    ]) {
      for (const [id, e] of Object.entries(hk).filter(([id]) => id.startsWith('c-peer:'))) {
        out.push({
          target: `${kind}: C -> await lock() median below ${id.slice(7)}'s async wait (${mode})`,
          figure: `${usf(pick(asyncWait)?.medianNs)} vs ${usf(pick(e)?.medianNs)}`,
          met: pick(asyncWait) && pick(e) ? pick(asyncWait).medianNs < pick(e).medianNs : null,
        });
      }
      const nn = pick(hk['node-node']);
      const cc = pick(hk['c-c']);
      const cc1 = pick(hk['c-c-1cpu']);
      const tail = (e) => (e ? `${fmt(e.p99Ns / e.medianNs, 2)}x` : 'n/a');
      if (nn) {
        out.push({
          target: `${kind}: syslocks -> syslocks p99 <= 3x its median (${mode})`,
          figure:
            `p99 ${usf(nn.p99Ns)}, median ${usf(nn.medianNs)} (${fmt(nn.p99Ns / nn.medianNs, 2)}x;` +
            ` C -> C in the same run: ${tail(cc)}, on one CPU ${tail(cc1)})`,
          met: nn.p99Ns <= 3 * nn.medianNs,
        });
      }
    }
    const prim = u[kind]?.find((r) => r.id === 'primitiveSync');
    if (prim?.ratioToC != null) {
      out.push({
        target: `${kind}: sync primitive pair <= 1.3x the C pair`,
        figure: `${fmt(prim.ratioToC, 2)}x`,
        met: prim.ratioToC <= 1.3,
      });
    }
    const sk = s[kind]?.summary;
    if (sk) {
      out.push({
        target: `${kind}: ${s[kind].waits} pending waits: event-loop delay p99 unchanged from idle`,
        figure: `${fmt(sk.loaded.p99Ms, 2)} ms vs idle ${fmt(sk.idle.p99Ms, 2)} ms`,
        met: sk.loaded.p99Ms <= sk.idle.p99Ms + 0.5,
      });
      if (sk.grant) {
        out.push({
          target: `${kind}: all ${s[kind].waits} granted within 50 ms of the release`,
          figure: `last grant ${fmt(sk.grant.lastMs, 1)} ms after the release (first ${fmt(sk.grant.firstMs, 1)} ms)`,
          met: sk.grant.lastMs <= 50,
        });
        out.push({
          target: `${kind}: RSS per pending wait <= 20 KiB`,
          figure: `${fmt(sk.grant.rssPerWaitKiB, 1)} KiB (VSZ ${fmt(sk.grant.vszPerWaitKiB, 1)} KiB)`,
          met: sk.grant.rssPerWaitKiB <= 20,
        });
        out.push({
          target: `${kind}: threads back to the idle count after the linger`,
          figure: `${sk.grant.threadsIdle} idle, ${sk.grant.threadsAfterLinger} after the linger`,
          met: sk.grant.threadsAfterLinger <= sk.grant.threadsIdle,
        });
      }
    }
  }
  return out;
}
