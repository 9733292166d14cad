// @ts-check
// Part 1: uncontended exclusive lock + unlock of one fd, per kind: syslocks' entry points
// and primitives, the bare binding, and each peer's pair, against a C loop of the same
// syscalls (bench/c/uncontended.c). Runs of all methods are interleaved, so drift
// weighs on all of them alike.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, median, ratio, summary } from '../lib/stats.mjs';
import { table } from '../lib/table.mjs';

export async function run(ctx) {
  const { KINDS, dir, native, peers, peerOf } = ctx;
  const { REPS, PAIRS, C_PAIRS, PATH_PAIRS, PEER_POOL_PAIRS } = ctx.config;
  const cBin = ctx.c.bin;
  const { capabilities, lock, tryLock, flockSync, fcntlLockSync, flock, fcntlLock } = ctx.api;
  void capabilities;
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
      list.push([
        'c-identity',
        `${cLabel} + 2 fstat (a FileLock's syscalls)`,
        async (fd, path) => {
          const r = spawnSync(cBin.uncontended, [kind, path, String(C_PAIRS), '1', 'identity'], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`uncontended ${kind} identity: ${r.stderr}`);
          return Number(r.stdout.trim());
        },
      ]);
    }
    if (native?.channel) {
      // The call the primitives and FileLocks make: a request channel's trySet(), its
      // request in a preallocated buffer (lib/syscall.ts, native/channel.h).
      const layout = native.channelLayout;
      const buffer = new ArrayBuffer(layout.bytes);
      const i32 = new Int32Array(buffer, 0, (layout.codeAt >> 2) + 1);
      const RESULT = layout.codeAt >> 2; // i32[RESULT]: the code of the last call
      // Held directly and called without `this`, as lib/syscall.ts does.
      const trySet = native.channel(buffer).trySet;
      list.push([
        'binding',
        "addon call only (a channel's trySet() x2, as the primitives call it)",
        async (fd) => {
          i32[0] = code;
          i32[1] = fd;
          let failed = 0;
          const ns = timeSync(PAIRS, (n) => {
            for (let i = 0; i < n; i++) {
              i32[2] = 1;
              trySet();
              if (i32[RESULT] !== 0) failed++;
              i32[2] = 2;
              trySet();
              if (i32[RESULT] !== 0) failed++;
            }
          });
          if (failed) throw new Error(`addon call only (${kind}): ${failed} calls failed`);
          return ns;
        },
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
      kind === 'flock'
        ? 'await flock(ex) + flockSync(unlock)'
        : `await fcntlLock(${ofd ? 'ofd, ' : ''}ex) + sync unlock`,
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
    // A FileLock's identity check is two fstat(2) calls per pair: the C loop with them
    // is tryLock + release's own floor, so this ratio is what the JS layer costs.
    const floor = KINDS.map((k) => `${k} ${fmt(get(k, 'tryLock') / get(k, 'c-identity'), 2)}x`);
    console.log(`   tryLock + release over its syscall floor (C pair + 2 fstat): ${floor.join(', ')}`);
  }

  return { json: part1, rows: rows1 };
}
