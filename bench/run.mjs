// @ts-check
// `npm run bench`: syslocks against baselines measured in the same run. This file only
// sets up and runs the parts, in order (one concern per module):
//
//   bench/parts/peers.mjs        --peers: the pinned peer packages (bench/peers.mjs)
//   bench/parts/uncontended.mjs  1. lock + unlock of one fd, per kind, vs a C loop
//   bench/parts/handoff.mjs      2. release in one process -> grant in another:
//                                   C->C, C->lockSync, C->await lock(), syslocks->syslocks,
//                                   C->each peer's async wait (median and p99)
//   bench/parts/scale.mjs        3. many pending waits: event loop, RSS, grant spread,
//                                   threads after the linger (bench/eventloop.mjs)
//   bench/parts/starvation.mjs   4. --peers: does a pending wait starve libuv's pool?
//   bench/parts/report.mjs       bench/out/results.json and the targets
//
// and bench/lib/* (stats, tables, machine info, line children, C baselines). It
// reports; it never fails on speed. Knobs (environment): BENCH_REPS (7), BENCH_PAIRS
// (20000), BENCH_ROUNDS (200), BENCH_HANDOFF_REPS (3), BENCH_WAITS (1000),
// BENCH_PHASE_MS (750), BENCH_ELD_REPS (3), BENCH_PEERS (unset), BENCH_STARVE_WAITS (5),
// BENCH_STARVE_MS (2000), BENCH_ONLY (comma-separated parts: uncontended,handoff,scale,
// starvation; default all).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBaselines } from './lib/c_baselines.mjs';
import { machine } from './lib/machine.mjs';
import * as peersPart from './parts/peers.mjs';
import * as uncontended from './parts/uncontended.mjs';
import * as handoff from './parts/handoff.mjs';
import * as scale from './parts/scale.mjs';
import * as starvation from './parts/starvation.mjs';
import * as report from './parts/report.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const OUT = join(HERE, 'out');
const env = (name, dflt) => (process.env[name] ? Number(process.env[name]) : dflt);
const REPS = env('BENCH_REPS', 7);
const PAIRS = env('BENCH_PAIRS', 20000);
const C_PAIRS = PAIRS * 5;
const PATH_PAIRS = Math.max(100, Math.round(PAIRS / 20));
const ROUNDS = env('BENCH_ROUNDS', 200);
const WARM_ROUNDS = 10;
const HANDOFF_REPS = env('BENCH_HANDOFF_REPS', 5);
const COLD_MS = env('BENCH_COLD_MS', 5);
const WAITS = env('BENCH_WAITS', 1000);
const PHASE_MS = env('BENCH_PHASE_MS', 750);
const ELD_REPS = env('BENCH_ELD_REPS', 3);
const WANT_PEERS = process.argv.includes('--peers') || /^(1|true|yes)$/i.test(process.env.BENCH_PEERS ?? '');
const PEER_POOL_PAIRS = PATH_PAIRS; // peers' async pairs cost a thread or a pool round trip
const STARVE_WAITS = env('BENCH_STARVE_WAITS', 5);
const STARVE_MS = env('BENCH_STARVE_MS', 2000);

if (process.platform === 'win32') {
  console.log(
    'bench: the benchmark drives flock/fcntl through C baselines and /proc/locks; it runs on Linux (and, partly, other POSIX systems), not on Windows.',
  );
  process.exit(0);
}

let api;
let native;
try {
  api = await import('../dist/index.js');
  const nativeModule = await import('../dist/native.js');
  native = nativeModule.native ?? nativeModule.default?.native;
} catch (err) {
  console.error(
    `bench: cannot load ../dist (${err.message}).\nBuild first: npm run build (or npx tsc -p tsconfig.json with build/Release present).`,
  );
  process.exit(1);
}
const { capabilities } = api;

mkdirSync(OUT, { recursive: true });
const dir = mkdtempSync(join(os.tmpdir(), 'syslocks-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const caps = capabilities();
const KINDS = ['flock', 'posix', 'ofd'].filter((k) => caps[k]);
const info = machine(dir, ROOT);
const readPath = join(dir, 'read-me.bin');
writeFileSync(readPath, Buffer.alloc(16 * 1024, 7));

console.log('syslocks benchmark');
console.log(
  `machine: ${info.cores} cores (${info.cpu}), ${info.platform}, kernel ${info.kernel}, node ${info.node}, ` +
    `lock files on ${info.lockFs} (${info.lockDir}), load average ${info.loadavg.join(' ')}`,
);
console.log(`source: ${info.source}; kinds: ${KINDS.join(', ')}`);

const config = { REPS, PAIRS, C_PAIRS, PATH_PAIRS, PEER_POOL_PAIRS, ROUNDS, WARM_ROUNDS, HANDOFF_REPS, COLD_MS, WAITS };
Object.assign(config, { PHASE_MS, ELD_REPS, WANT_PEERS, STARVE_WAITS, STARVE_MS });
const ctx = { HERE, ROOT, OUT, dir, readPath, KINDS, api, native, info, started: Date.now(), config };
ctx.c = compileBaselines(HERE, OUT);
ctx.peers = await peersPart.run(ctx);
ctx.peerOf = (kind) => Object.keys(ctx.peers.modules).filter((n) => ctx.peers.kinds[n] === kind);

const only = process.env.BENCH_ONLY?.split(',');
const parts = {};
for (const [name, part] of Object.entries({ uncontended, handoff, scale, starvation })) {
  parts[name] = !only || only.includes(name) ? (await part.run(ctx)).json : {};
}
await report.run(ctx, parts);
