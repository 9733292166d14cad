// latency.test.mjs - grant latency of a contended wait under Wine: the holder process
// reads process.hrtime (QueryPerformanceCounter, system-wide) right before UnlockFileEx;
// the waiter reads it when its completion runs on the JS thread. Median over ROUNDS
// (default 20), for the raw binding (waitStart callback) and for the API's lock().
// The wait is the LOCKFILE_FAIL_IMMEDIATELY + Sleep(1,2,4,8,8..) loop, so the expected
// median is about half the 8 ms cap plus the hop to the JS thread.
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Holder, TYPE, loadBinding, note, removeDir, repoRoot, run, sleep, tempDir, test } from './harness.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 20);
const b = loadBinding();
const dir = tempDir('syslocks-lat-');

function stats(ms) {
  const s = [...ms].sort((x, y) => x - y);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}
const fmt = (x) => x.toFixed(2);

test(
  `binding: grant latency, ${ROUNDS} rounds`,
  async () => {
    const p = join(dir, 'raw.dat');
    writeFileSync(p, '');
    const h = await Holder.start();
    const { fd: hfd } = await h.call({ cmd: 'open', path: p });
    const fd = openSync(p, 'r+');
    const lat = [];
    try {
      for (let i = 0; i < ROUNDS; i++) {
        assert.equal((await h.call({ cmd: 'lock', fd: hfd, type: TYPE.exclusive, start: 0, length: 0 })).code, 0);
        let resolve;
        const done = new Promise((r) => (resolve = r));
        const id = b.waitStart(3, fd, TYPE.exclusive, 0, 0, (code) => resolve({ code, at: process.hrtime.bigint() }));
        assert.ok(id > 0);
        await sleep(20 + Math.random() * 40);
        const { t } = await h.call({ cmd: 'unlock', fd: hfd, start: 0, length: 0 });
        const r = await done;
        assert.equal(r.code, 0);
        lat.push(Number(r.at - BigInt(t)) / 1e6);
        assert.equal(b.trySetLock(3, fd, TYPE.unlock, 0, 0), 0);
      }
    } finally {
      closeSync(fd);
    }
    const s = stats(lat);
    note(`binding grant latency: median ${fmt(s.median)} ms, min ${fmt(s.min)}, max ${fmt(s.max)} (n=${s.n})`);
    assert.ok(s.median < 50, `median ${s.median} ms`);
  },
  { timeout: 120000 },
);

test(
  `API lock(): grant latency, ${ROUNDS} rounds`,
  async () => {
    const entry = join(repoRoot, 'dist', 'index.js');
    assert.ok(existsSync(entry), 'dist/index.js missing: run npm run build:ts');
    const { lock } = await import(pathToFileURL(entry).href);
    const p = join(dir, 'api.lock');
    writeFileSync(p, '');
    const h = await Holder.start();
    const lat = [];
    for (let i = 0; i < ROUNDS; i++) {
      assert.deepEqual(await h.call({ cmd: 'apiTry', path: p, options: {} }), { ok: true });
      const pending = lock(p).then((l) => ({ l, at: process.hrtime.bigint() }));
      await sleep(20 + Math.random() * 40);
      const { t } = await h.call({ cmd: 'apiRelease' });
      const { l, at } = await pending;
      lat.push(Number(at - BigInt(t)) / 1e6);
      l.release();
    }
    const s = stats(lat);
    note(`lock() grant latency: median ${fmt(s.median)} ms, min ${fmt(s.min)}, max ${fmt(s.max)} (n=${s.n})`);
    assert.ok(s.median < 50, `median ${s.median} ms`);
  },
  { timeout: 120000 },
);

await run('syslocks Windows wait latency');
removeDir(dir);
