// @ts-check
// Part 4 (--peers): does a pending wait starve libuv's threadpool? Per kind, another
// process holds the lock; each probe (bench/starve.mjs, one process per implementation)
// starts STARVE_WAITS asynchronous waits on it and then times an unrelated
// fs.promises.readFile, giving up after STARVE_MS. The probe is SIGKILLed afterwards:
// pending threadpool waits cannot be cancelled and would keep it alive.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineChild } from '../lib/line_child.mjs';
import { fmt } from '../lib/stats.mjs';
import { table } from '../lib/table.mjs';

export async function run(ctx) {
  const { KINDS, dir, HERE, peers, peerOf, readPath } = ctx;
  const { WANT_PEERS, STARVE_WAITS, STARVE_MS } = ctx.config;
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

  return { json: part4, rows: [] };
}
