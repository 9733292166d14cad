// Prints the README's performance table from bench/out/results.json, so that the
// README shows one run's figures as measured, not retyped:
//
//   npm run bench -- --peers && node bench/readme-table.mjs
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const r = JSON.parse(readFileSync(join(here, 'out', 'results.json'), 'utf8'));
const KINDS = ['flock', 'posix', 'ofd'];
const PEER = { flock: 'fs-ext', posix: 'os-lock', ofd: 'fs-native-extensions' };
if (!r.handoff?.flock || !r.eventLoop?.flock) throw new Error('results.json is from a partial run (BENCH_ONLY)');

const us = (ns) => (ns / 1000).toFixed(ns < 100_000 ? 1 : 0);
const pair = (kind, id) => r.uncontended[kind].find((m) => m.id === id);
const ho = (kind, id) => r.handoff[kind][id];
const cells = (f) => KINDS.map(f).join(' | ');
const uncont = (id) =>
  cells((k) => {
    const m = pair(k, id);
    return m ? `${(m.nsPerPair / 1000).toFixed(2)} us (${m.ratioToC.toFixed(2)}x)` : 'n/a';
  });
const med = (id) => cells((k) => (ho(k, id) ? `${us(ho(k, id).medianNs)} us` : 'n/a'));
const medP99 = (id) => cells((k) => (ho(k, id) ? `${us(ho(k, id).medianNs)} / ${us(ho(k, id).p99Ns)} us` : 'n/a'));
const peerId = (k) => `c-peer:${PEER[k]}`;

const rows = [
  ['C: lock + unlock pair (baseline)', cells((k) => `${(pair(k, 'c').nsPerPair / 1000).toFixed(2)} us`)],
  ['sync primitive pair (`flockSync` / `fcntlLockSync`)', uncont('primitiveSync')],
  ['`tryLock(fd)` + `release()`', uncont('tryLock')],
  ['`await lock(fd)` + `release()`, uncontended', uncont('lock')],
  ['hand-off C -> C (the kernel), median', med('c-c')],
  ['hand-off C -> `lockSync()` (floor for a blocked JS thread), median', med('c-nodesync')],
  ['hand-off C -> `await lock()`, median / p99', medP99('c-node')],
  [
    "hand-off C -> peer's async wait, median / p99",
    cells((k) =>
      ho(k, peerId(k)) ? `${us(ho(k, peerId(k)).medianNs)} / ${us(ho(k, peerId(k)).p99Ns)} us (${PEER[k]})` : 'n/a',
    ),
  ],
  ['hand-off `release()` -> `await lock()` between two Node processes, median / p99', medP99('node-node')],
  [
    `hand-off cold (released ${r.config.COLD_MS} ms after the waiter blocked), median: C -> C; C -> \`await lock()\`; C -> peer`,
    cells((k) =>
      ['c-c', 'c-node', peerId(k)]
        .map((id) => (ho(k, id)?.cold ? `${us(ho(k, id).cold.medianNs)}` : 'n/a'))
        .join('; ')
        .concat(' us'),
    ),
  ],
  [
    '1,000 pending waits: RSS per wait; last grant after the release',
    cells((k) => {
      const g = r.eventLoop[k].summary.grant;
      return `${g.rssPerWaitKiB.toFixed(1)} KiB; ${g.lastMs.toFixed(0)} ms`;
    }),
  ],
  [
    '1,000 pending waits: event-loop delay p99, idle -> loaded',
    cells((k) => {
      const s = r.eventLoop[k].summary;
      return `${s.idle.p99Ms.toFixed(2)} -> ${s.loaded.p99Ms.toFixed(2)} ms`;
    }),
  ],
];
console.log(
  `<!-- node bench/readme-table.mjs: ${r.date}, source ${r.machine.source}, load ${r.machine.loadavg.join(' ')} -->`,
);
console.log('| | flock | posix | ofd |');
console.log('|---|---|---|---|');
for (const [label, v] of rows) console.log(`| ${label} | ${v} |`);
