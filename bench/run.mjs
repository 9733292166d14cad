// `npm run bench`: syslocks against baselines measured in the same run.
//
//   1. Uncontended exclusive lock + unlock on one fd, per kind (flock, posix, ofd):
//      `await lock()` / `tryLock()` / the primitives vs a C loop of the same syscalls.
//   2. Hand-off latency: release in process A -> grant in process B (B waits with
//      `await lock()`, on the addon's waiter thread) vs two C processes blocking in the
//      kernel (flock(LOCK_EX), F_SETLKW, F_OFD_SETLKW).
//   3. Event-loop delay with 200 pending waits on a lock another process holds, vs the
//      same process idle, with a 1 ms timer and fs.promises.readFile kept running.
//
// With `--peers` (or BENCH_PEERS=1) it also installs pinned peer packages into
// bench/out/peers (bench/peers.mjs; never dependencies of syslocks) and measures them
// in the same run: their lock pairs in part 1, their asynchronous waits as the waiter
// of part 2, and part 4: does a pending wait starve libuv's threadpool (5 waits, then
// an fs.promises.readFile)? If a peer cannot be installed or loaded, the bench says
// which and goes on without it.
//
// Prints tables on stdout and writes everything to bench/out/results.json. It reports;
// it never fails on speed. The C baselines are compiled from bench/c/*.c with `cc -O2`
// (or $CC) into bench/out/; without a compiler the ratios are left out.
// Knobs (environment): BENCH_REPS (7), BENCH_PAIRS (20000), BENCH_ROUNDS (200),
// BENCH_HANDOFF_REPS (3), BENCH_WAITS (200), BENCH_PHASE_MS (750), BENCH_ELD_REPS (3),
// BENCH_PEERS (unset), BENCH_STARVE_WAITS (5), BENCH_STARVE_MS (2000).
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  rmSync,
  statSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { blockedOn } from './proclocks.mjs';

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
const HANDOFF_REPS = env('BENCH_HANDOFF_REPS', 3);
const WAITS = env('BENCH_WAITS', 200);
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
const { capabilities, lock, tryLock, flockSync, fcntlLockSync, flock, fcntlLock } = api;

// ---------------------------------------------------------------- helpers

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs });
const fmt = (v, digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(digits));
const ratio = (a, b) => (a == null || b == null || !b ? null : a / b);

/** A plain-text table: the two label columns left-aligned, the figures right-aligned. */
function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) =>
    r
      .map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const FS_TYPES = {
  0xef53: 'ext2/3/4',
  0x01021994: 'tmpfs',
  0x9123683e: 'btrfs',
  0x58465342: 'xfs',
  0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs',
};

function machine(dir) {
  const cpus = os.cpus();
  let fsType = 'unknown';
  try {
    const t = statfsSync(dir).type;
    fsType = FS_TYPES[t] ?? `0x${t.toString(16)}`;
  } catch {
    /* statfs is Node >= 18.15 */
  }
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    platform: `${process.platform} ${process.arch}`,
    kernel: os.release(),
    node: process.version,
    lockDir: dir,
    lockFs: fsType,
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
    source: sourceState(),
  };
}

/** The commit measured, and whether lib/ or native/ differ from it (best effort). */
function sourceState() {
  const git = (args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const head = git(['rev-parse', '--short', 'HEAD']);
  if (head.status !== 0) return 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'lib', 'native']).stdout.trim();
  return `${head.stdout.trim()}${dirty ? ' + uncommitted changes in lib/ or native/' : ''}`;
}

/** A child process spoken to in lines (bench/child.mjs and bench/c/handoff.c). */
class LineChild {
  constructor(cmd, args) {
    this.name = [cmd, ...args].join(' ');
    this.proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    children.add(this.proc);
    this.lines = [];
    this.waiters = [];
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    this.proc.on('exit', (code) => {
      children.delete(this.proc);
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${cmd} ${args.join(' ')} exited (${code})`));
    });
    createInterface({ input: this.proc.stdout }).on('line', (l) => {
      const w = this.waiters.shift();
      if (w) w.resolve(l);
      else this.lines.push(l);
    });
  }
  send(cmd) {
    this.proc.stdin.write(cmd + '\n');
  }
  /** The next line; rejects after 30 s so that a stuck child never hangs the bench. */
  next() {
    if (this.lines.length) return Promise.resolve(this.lines.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${this.name} in 30 s`)), 30000);
      this.waiters.push({
        resolve: (l) => (clearTimeout(timer), resolve(l)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }
  async expect(prefix) {
    const l = await this.next();
    if (!l.startsWith(prefix)) throw new Error(`expected "${prefix}", got "${l}"`);
    return l;
  }
  async quit() {
    this.send('quit');
    this.proc.stdin.end();
    await this.exited;
  }
}

/** Waits until someone is blocked on the file in the kernel. true: seen; false: gave up. */
async function untilBlocked(ino) {
  for (let i = 0; i < 2000; i++) {
    const n = blockedOn(ino);
    if (n === null) {
      await sleep(5); // no /proc/locks: give the waiter time to enter the kernel
      return false;
    }
    if (n > 0) return true;
    if (i < 20) await new Promise((r) => setImmediate(r));
    else await sleep(1);
  }
  return false;
}

// ---------------------------------------------------------------- setup

mkdirSync(OUT, { recursive: true });
const dir = mkdtempSync(join(os.tmpdir(), 'syslocks-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const caps = capabilities();
const KINDS = ['flock', 'posix', 'ofd'].filter((k) => caps[k]);
const info = machine(dir);
const started = Date.now();

console.log('syslocks benchmark');
console.log(
  `machine: ${info.cores} cores (${info.cpu}), ${info.platform}, kernel ${info.kernel}, node ${info.node}, ` +
    `lock files on ${info.lockFs} (${info.lockDir}), load average ${info.loadavg.join(' ')}`,
);
console.log(`source: ${info.source}; kinds: ${KINDS.join(', ')}`);

// C baselines, compiled now.
const cc = process.env.CC || 'cc';
const cBin = {};
const cMissing = {};
for (const name of ['uncontended', 'handoff']) {
  const src = join(HERE, 'c', `${name}.c`);
  const bin = join(OUT, name);
  const r = spawnSync(cc, ['-O2', '-o', bin, src], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    cMissing[name] = (r.error?.message ?? r.stderr.trim().split('\n')[0]) || `exit ${r.status}`;
  else cBin[name] = bin;
}
for (const [name, why] of Object.entries(cMissing)) {
  console.log(`C baseline "${name}" missing (${cc} -O2 bench/c/${name}.c: ${why}): its ratios are skipped.`);
}
if (!Object.keys(cMissing).length) console.log(`C baselines: ${cc} -O2 bench/c/*.c -> bench/out/`);

// Peers, on demand.
let peers = { requested: WANT_PEERS, modules: {}, unavailable: {}, installed: null };
if (WANT_PEERS) {
  const { PEERS, ensurePeers } = await import('./peers.mjs');
  const pinned = Object.entries(PEERS).map(([n, p]) => `${n}@${p.version}`);
  console.log(`peers: ${pinned.join(', ')} in bench/out/peers ...`);
  const t0 = Date.now();
  peers = { requested: true, pinned, ...ensurePeers() };
  const ok = Object.keys(peers.modules);
  console.log(
    `peers: ${peers.installed === 'reused' ? 'already installed' : `${peers.installed} (${((Date.now() - t0) / 1000).toFixed(1)} s)`}; ` +
      `measured: ${ok.length ? ok.join(', ') : 'none'}`,
  );
  for (const [name, why] of Object.entries(peers.unavailable)) {
    console.log(`peer unavailable: ${name}@${PEERS[name].version} (${why}); its rows are left out`);
  }
  if (Object.keys(peers.unavailable).length && peers.log) console.log('   npm output: bench/out/peers/install.log');
  peers.kinds = Object.fromEntries(ok.map((n) => [n, PEERS[n].kind]));
  peers.versions = Object.fromEntries(ok.map((n) => [n, PEERS[n].version]));
}
const peerOf = (kind) => Object.keys(peers.modules).filter((n) => peers.kinds[n] === kind);

// ---------------------------------------------------------------- 1. uncontended

function timeSync(n, body) {
  const t0 = process.hrtime.bigint();
  body(n);
  return Number(process.hrtime.bigint() - t0) / n;
}
async function timeAsync(n, body) {
  const t0 = process.hrtime.bigint();
  await body(n);
  return Number(process.hrtime.bigint() - t0) / n;
}

const KIND_CODE = { flock: 0, posix: 1, ofd: 2 };

/** The methods of part 1 for one kind: [id, label, measure(fd, path) -> ns per pair]. */
function methods(kind) {
  const code = KIND_CODE[kind];
  const primLabel =
    kind === 'flock'
      ? 'flockSync(ex) + flockSync(unlock)'
      : `fcntlLockSync(${kind === 'ofd' ? 'ofd, ' : ''}ex) + (unlock)`;
  const ofd = kind === 'ofd';
  const list = [];
  if (cBin.uncontended) {
    const cLabel = {
      flock: 'C: flock(LOCK_EX|LOCK_NB) + flock(LOCK_UN)',
      posix: 'C: fcntl(F_SETLK) wr + un',
      ofd: 'C: fcntl(F_OFD_SETLK) wr + un',
    }[kind];
    list.push([
      'c',
      cLabel,
      async (fd, path) => {
        const r = spawnSync(cBin.uncontended, [kind, path, String(C_PAIRS), '1'], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`uncontended ${kind}: ${r.stderr}`);
        return Number(r.stdout.trim());
      },
    ]);
  }
  if (native?.trySetLock) {
    list.push([
      'binding',
      'addon call only (dist/native.js trySetLock x2)',
      async (fd) =>
        timeSync(PAIRS, (n) => {
          for (let i = 0; i < n; i++) {
            native.trySetLock(code, fd, 1, 0, 0);
            native.trySetLock(code, fd, 2, 0, 0);
          }
        }),
    ]);
  }
  list.push([
    'primitiveSync',
    primLabel,
    kind === 'flock'
      ? async (fd) =>
          timeSync(PAIRS, (n) => {
            for (let i = 0; i < n; i++) {
              flockSync(fd, 'exclusive');
              flockSync(fd, 'unlock');
            }
          })
      : async (fd) =>
          timeSync(PAIRS, (n) => {
            for (let i = 0; i < n; i++) {
              fcntlLockSync(fd, { mode: 'exclusive', ofd });
              fcntlLockSync(fd, { mode: 'unlock', ofd });
            }
          }),
  ]);
  list.push([
    'primitivePromise',
    kind === 'flock' ? 'await flock(ex) + flockSync(unlock)' : `await fcntlLock(${ofd ? 'ofd, ' : ''}ex) + sync unlock`,
    kind === 'flock'
      ? async (fd) =>
          timeAsync(PAIRS, async (n) => {
            for (let i = 0; i < n; i++) {
              await flock(fd, 'exclusive');
              flockSync(fd, 'unlock');
            }
          })
      : async (fd) =>
          timeAsync(PAIRS, async (n) => {
            for (let i = 0; i < n; i++) {
              await fcntlLock(fd, { mode: 'exclusive', ofd });
              fcntlLockSync(fd, { mode: 'unlock', ofd });
            }
          }),
  ]);
  list.push([
    'tryLock',
    `tryLock(fd, {kind: '${kind}'}) + release()`,
    async (fd) =>
      timeSync(PAIRS, (n) => {
        for (let i = 0; i < n; i++) tryLock(fd, { kind }).release();
      }),
  ]);
  list.push([
    'lock',
    `await lock(fd, {kind: '${kind}'}) + release()`,
    async (fd) =>
      timeAsync(PAIRS, async (n) => {
        for (let i = 0; i < n; i++) (await lock(fd, { kind })).release();
      }),
  ]);
  list.push([
    'lockPath',
    `await lock(path, {kind: '${kind}'}) + release() (open+close)`,
    async (fd, path) =>
      timeAsync(PATH_PAIRS, async (n) => {
        for (let i = 0; i < n; i++) (await lock(path, { kind })).release();
      }),
  ]);
  for (const name of peerOf(kind)) list.push(...peerMethods(name));
  return list;
}

/** Part 1 rows of one peer (its own lock kind), from its installed source's API. */
function peerMethods(name) {
  const m = peers.modules[name];
  const cb = (f) => new Promise((resolve, reject) => f((err) => (err ? reject(err) : resolve())));
  switch (name) {
    case 'fs-native-extensions':
      return [
        [
          'peer:fs-native-extensions:sync',
          'fs-native-extensions tryLock(fd) + unlock(fd) (sync)',
          async (fd) =>
            timeSync(PAIRS, (n) => {
              for (let i = 0; i < n; i++) {
                if (!m.tryLock(fd)) throw new Error('fs-native-extensions tryLock: not granted');
                m.unlock(fd);
              }
            }),
          name,
        ],
        [
          'peer:fs-native-extensions:async',
          'fs-native-extensions await waitForLock(fd) + unlock(fd) (thread per wait)',
          async (fd) =>
            timeAsync(PEER_POOL_PAIRS, async (n) => {
              for (let i = 0; i < n; i++) {
                await m.waitForLock(fd);
                m.unlock(fd);
              }
            }),
          name,
        ],
      ];
    case 'fs-ext':
      return [
        [
          'peer:fs-ext:sync',
          "fs-ext flockSync(fd, 'ex') + flockSync(fd, 'un')",
          async (fd) =>
            timeSync(PAIRS, (n) => {
              for (let i = 0; i < n; i++) {
                m.flockSync(fd, 'ex');
                m.flockSync(fd, 'un');
              }
            }),
          name,
        ],
        [
          'peer:fs-ext:async',
          "fs-ext flock(fd, 'ex', cb) + flock(fd, 'un', cb) (threadpool x2)",
          async (fd) =>
            timeAsync(PEER_POOL_PAIRS, async (n) => {
              for (let i = 0; i < n; i++) {
                await cb((k) => m.flock(fd, 'ex', k));
                await cb((k) => m.flock(fd, 'un', k));
              }
            }),
          name,
        ],
      ];
    case 'os-lock':
      return [
        [
          'peer:os-lock:async',
          'os-lock await lock(fd, {exclusive}) + await unlock(fd) (threadpool x2)',
          async (fd) =>
            timeAsync(PEER_POOL_PAIRS, async (n) => {
              for (let i = 0; i < n; i++) {
                await m.lock(fd, { exclusive: true });
                await m.unlock(fd);
              }
            }),
          name,
        ],
      ];
    default:
      return [];
  }
}

console.log(`\nrunning part 1 (${REPS} runs + 1 warm-up; ${PAIRS} pairs per JS run, ${C_PAIRS} per C run)...`);
const part1 = {};
{
  const files = Object.fromEntries(KINDS.map((k) => [k, join(dir, `uncontended-${k}.lock`)]));
  const fds = Object.fromEntries(KINDS.map((k) => [k, openSync(files[k], 'w+')]));
  const lists = Object.fromEntries(KINDS.map((k) => [k, methods(k)]));
  const samples = Object.fromEntries(KINDS.map((k) => [k, Object.fromEntries(lists[k].map(([id]) => [id, []]))]));
  for (let rep = 0; rep <= REPS; rep++) {
    for (const kind of KINDS) {
      for (const [id, , run] of lists[kind]) {
        const ns = await run(fds[kind], files[kind]);
        if (rep > 0) samples[kind][id].push(ns); // run 0 warms up the JIT
      }
    }
  }
  for (const kind of KINDS) {
    closeSync(fds[kind]);
    const c = samples[kind].c ? median(samples[kind].c) : null;
    part1[kind] = lists[kind].map(([id, label, , peer]) => {
      const s = summary(samples[kind][id]);
      return {
        id,
        label,
        ...(peer ? { peer, peerVersion: peers.versions[peer] } : {}),
        nsPerPair: s.median,
        min: s.min,
        max: s.max,
        runs: s.runs,
        ratioToC: ratio(s.median, c),
      };
    });
  }
}
const rows1 = [];
for (const kind of KINDS) {
  for (const r of part1[kind]) {
    rows1.push([
      kind,
      r.label,
      fmt(r.nsPerPair),
      `${fmt(r.min)}-${fmt(r.max)}`,
      r.ratioToC == null ? 'n/a' : `${fmt(r.ratioToC, 2)}x`,
    ]);
  }
}
console.log(
  `\n1. Uncontended exclusive lock + unlock of one fd (ns per pair, median of ${REPS} runs; x C = ratio to the C loop of the same kind)\n`,
);
console.log(table(['kind', 'method', 'ns/pair', 'min-max', 'x C'], rows1));
{
  const get = (kind, id) => part1[kind].find((r) => r.id === id)?.nsPerPair;
  const parts = KINDS.map((k) => {
    const prim = get(k, 'primitiveSync');
    return `${k} ${fmt(get(k, 'tryLock') - prim)} / ${fmt(get(k, 'lock') - prim)}`;
  });
  console.log(`   FileLock layer over the sync primitive pair, tryLock / await lock (ns): ${parts.join(', ')}`);
}

// ---------------------------------------------------------------- 2. hand-off

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
const us = (ns) => fmt(ns / 1000, 1);
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

// ---------------------------------------------------------------- 3. event loop

const part3 = {};
console.log(`\nrunning part 3 (${ELD_REPS} runs x (idle ${PHASE_MS} ms + ${WAITS} waits ${PHASE_MS} ms))...`);
const readPath = join(dir, 'read-me.bin');
writeFileSync(readPath, Buffer.alloc(16 * 1024, 7));
for (const kind of KINDS) {
  const path = join(dir, `eventloop-${kind}.lock`);
  writeFileSync(path, '');
  const holder = new LineChild(process.execPath, [join(HERE, 'child.mjs'), kind, path]);
  try {
    holder.send('hold');
    await holder.expect('held');
    const r = spawnSync(
      process.execPath,
      [join(HERE, 'eventloop.mjs'), kind, path, readPath, String(WAITS), String(PHASE_MS), String(ELD_REPS)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    if (r.status !== 0) throw new Error(`eventloop.mjs ${kind} exited ${r.status}`);
    part3[kind] = JSON.parse(r.stdout.trim().split('\n').pop());
  } finally {
    await holder.quit();
  }
  const reps = part3[kind].reps;
  const med = (phase, key) => median(reps.map((x) => x[phase][key]));
  part3[kind].summary = Object.fromEntries(
    ['idle', 'loaded'].map((phase) => [
      phase,
      Object.fromEntries(
        [
          'p50Ms',
          'p99Ms',
          'maxMs',
          'timerTicks',
          'readFiles',
          'threads',
          'blockedInKernel',
          'abortAllMs',
          'threadsAfterAbort',
        ]
          .filter((k) => reps[0][phase][k] !== undefined)
          .map((k) => [k, med(phase, k)]),
      ),
    ]),
  );
  const l = reps.map((x) => x.loaded);
  part3[kind].summary.loaded.aborted = l.map((x) => x.aborted);
  part3[kind].summary.loaded.errors = l.flatMap((x) => x.errors);
}
const rows3 = [];
for (const kind of KINDS) {
  const s = part3[kind].summary;
  for (const phase of ['idle', 'loaded']) {
    const p = s[phase];
    rows3.push([
      kind,
      phase === 'idle' ? 'idle' : `${WAITS} waits`,
      fmt(p.p50Ms, 2),
      fmt(p.p99Ms, 2),
      fmt(p.maxMs, 2),
      String(Math.round(p.timerTicks)),
      String(Math.round(p.readFiles)),
      String(p.threads ?? 'n/a'),
      phase === 'idle' ? '' : String(p.blockedInKernel ?? 'n/a'),
      phase === 'idle' ? '' : `${p.aborted.join('/')} in ${fmt(p.abortAllMs, 1)} ms`,
      phase === 'idle' ? '' : String(p.threadsAfterAbort ?? 'n/a'),
    ]);
  }
}
console.log(
  `\n3. Event loop while ${WAITS} waits are pending on a lock held by another process (median of ${ELD_REPS} runs of ${PHASE_MS} ms per phase)\n` +
    `   delay = monitorEventLoopDelay sample beyond its 1 ms interval (ms); 1 ms timer ticks and fs.promises.readFile completions counted per phase\n`,
);
console.log(
  table(
    [
      'kind',
      'phase',
      'p50',
      'p99',
      'max',
      'timer ticks',
      'readFiles',
      'threads',
      'blocked',
      'aborted',
      'threads after',
    ],
    rows3,
  ),
);
const errs = KINDS.flatMap((k) => part3[k].summary.loaded.errors);
if (errs.length) console.log(`   unexpected rejections: ${errs.join(', ')}`);

// ---------------------------------------------------------------- 4. threadpool starvation (--peers)

// Per kind, another process holds the lock; each probe (bench/starve.mjs, one process
// per implementation) starts STARVE_WAITS asynchronous waits on it and then times an
// unrelated fs.promises.readFile, giving up after STARVE_MS. The probe is SIGKILLed
// afterwards: pending threadpool waits cannot be cancelled and would keep it alive.
const part4 = [];
if (WANT_PEERS) {
  const probes = KINDS.flatMap((kind) => [
    ['syslocks', kind, `await lock(fd, {kind: '${kind}'})`],
    ...peerOf(kind).map((name) => [
      name,
      kind,
      {
        'fs-native-extensions': 'waitForLock(fd) (thread per wait)',
        'fs-ext': "flock(fd, 'ex', cb) (threadpool)",
        'os-lock': 'lock(fd, {exclusive}) (threadpool)',
      }[name],
    ]),
  ]);
  console.log(
    `\nrunning part 4 (${probes.length} probes: ${STARVE_WAITS} pending waits each, then readFile, giving up after ${STARVE_MS} ms)...`,
  );
  for (const kind of KINDS) {
    const path = join(dir, `starve-${kind}.lock`);
    writeFileSync(path, '');
    const holder = new LineChild(process.execPath, [join(HERE, 'child.mjs'), kind, path]);
    try {
      holder.send('hold');
      await holder.expect('held');
      for (const [impl, k, what] of probes.filter((p) => p[1] === kind)) {
        const probe = new LineChild(process.execPath, [
          join(HERE, 'starve.mjs'),
          impl,
          k,
          path,
          readPath,
          String(STARVE_WAITS),
          String(STARVE_MS),
        ]);
        let res;
        try {
          res = JSON.parse(await probe.next());
        } catch (err) {
          res = { impl, kind, error: String(err.message) };
        } finally {
          probe.proc.kill('SIGKILL');
          await probe.exited;
        }
        part4.push({
          label: `${impl} ${what}`,
          ...(peers.versions[impl] ? { version: peers.versions[impl] } : {}),
          ...res,
        });
      }
    } finally {
      await holder.quit();
    }
  }
  const rows4 = part4.map((r) => [
    r.kind,
    r.label,
    String(r.waits ?? 'n/a'),
    String(r.blockedInKernel ?? 'n/a'),
    r.threadsIdle == null ? 'n/a' : `${r.threadsIdle} -> ${r.threadsWaiting}`,
    fmt(r.idleMedianMs, 2),
    r.error
      ? `error: ${r.error}`
      : r.starved
        ? `starved (>${(STARVE_MS / 1000).toFixed(0)} s)${r.readsBeforeStarved ? ` after ${r.readsBeforeStarved}` : ''}`
        : `${fmt(r.firstReadMs, 2)} / ${fmt(r.medianMs, 2)}`,
  ]);
  console.log(
    `\n4. Threadpool starvation: ${STARVE_WAITS} async waits pending on a lock held by another process, then fs.promises.readFile of 16 KiB\n` +
      `   (one process per row, killed afterwards; libuv threadpool of ${part4[0]?.threadpoolSize ?? 4} threads; readFile ms: median of 20 idle, then first / median of 20 with the waits pending)\n`,
  );
  console.log(
    table(['kind', 'waits via', 'waits', 'blocked', 'threads', 'readFile idle', 'readFile with waits'], rows4),
  );
  console.log(
    '   (blocked = waits seen in /proc/locks; a threadpool wait occupies a pool thread, the rest queue behind it)',
  );
}

// ---------------------------------------------------------------- output

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
console.log(`done in ${results.durationS.toFixed(1)} s; JSON: ${outFile.replace(ROOT + '/', '')}`);
