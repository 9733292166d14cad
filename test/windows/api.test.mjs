// api.test.mjs - the high-level API (dist/index.js, built from lib/ by `npm run
// build:ts`) on Windows, in a real node.exe under Wine: kind 'windows' via 'auto',
// contention across processes, waits (release, holder kill, timeout, abort), ranges,
// getLock, bad input.
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Holder, note, removeDir, repoRoot, run, sleep, tempDir, test } from './harness.mjs';

const entry = join(repoRoot, 'dist', 'index.js');
if (!existsSync(entry)) {
  console.log(`FAIL dist/index.js is missing: run \`npm run build:ts\` first\n0 passed, 1 failed`);
  process.exit(1);
}
const api = await import(pathToFileURL(entry).href);
const { capabilities, getLock, lock, lockSync, tryLock, lockFileExSync, unlockFileExSync } = api;

const dir = tempDir('syslocks-api-');
let n = 0;
function freshFile() {
  const p = join(dir, `a${n++}.lock`);
  writeFileSync(p, '');
  return p;
}
async function holderWith(path, options) {
  const h = await Holder.start();
  const r = await h.call({ cmd: 'apiTry', path, options });
  assert.deepEqual(r, { ok: true }, `holder could not take the lock: ${JSON.stringify(r)}`);
  return h;
}

test('capabilities(): windows only; auto resolves to windows', () => {
  const c = capabilities();
  assert.equal(c.platform, 'win32');
  assert.equal(c.windows, true);
  assert.equal(c.flock, false);
  assert.equal(c.posix, false);
  assert.equal(c.ofd, false);
  const p = freshFile();
  const l = tryLock(p);
  assert.ok(l);
  assert.equal(l.kind, 'windows');
  assert.equal(l.mode, 'exclusive');
  assert.deepEqual(l.range, { start: 0n, length: 0n });
  l.release();
  l.release(); // idempotent
  assert.equal(l.released, true);
});

test('two processes contend: the second gets EAGAIN (winerror 33), then the lock after release', async () => {
  const p = freshFile();
  const h = await holderWith(p, { kind: 'windows' });
  assert.equal(tryLock(p, { kind: 'windows' }), null, 'tryLock returns null while held');
  const fd = openSync(p, 'r+');
  try {
    assert.throws(
      () => lockFileExSync(fd, { mode: 'exclusive' }),
      (err) => err.code === 'EAGAIN' && err.errno === -4088 && err.winerror === 33 && err.syscall === 'LockFileEx',
    );
  } finally {
    closeSync(fd);
  }
  await h.call({ cmd: 'apiRelease' });
  const l = tryLock(p, { kind: 'windows' });
  assert.ok(l, 'granted after release');
  const back = await h.call({ cmd: 'apiTry', path: p, options: { kind: 'windows' } });
  assert.deepEqual(back, { ok: false, code: 'null' }, 'and now the other process is refused');
  l.release();
});

test('shared locks from two processes coexist; exclusive refused', async () => {
  const p = freshFile();
  const h = await holderWith(p, { mode: 'shared' });
  const s = tryLock(p, { mode: 'shared' });
  assert.ok(s, 'second shared lock granted');
  assert.equal(tryLock(p, { mode: 'exclusive' }), null);
  s.release();
  await h.call({ cmd: 'apiRelease' });
  const x = tryLock(p, { mode: 'exclusive' });
  assert.ok(x);
  x.release();
});

test('two handles in one process exclude each other (locks belong to handles)', () => {
  const p = freshFile();
  const a = tryLock(p);
  assert.ok(a);
  assert.equal(tryLock(p), null, 'second open of the same path is refused');
  const fd = openSync(p, 'r+');
  assert.equal(tryLock(fd), null, 'caller fd refused too');
  a.release();
  const b = tryLock(fd);
  assert.ok(b);
  b.release();
  closeSync(fd); // a lock on a caller's fd never closes it; we do
});

test('byte ranges: disjoint granted, overlapping refused, length 0 reaches 2^63', () => {
  const p = freshFile();
  const a = tryLock(p, { range: { start: 0, length: 100 } });
  assert.ok(a);
  const b = tryLock(p, { range: { start: 100, length: 100 } });
  assert.ok(b, 'disjoint');
  assert.equal(tryLock(p, { range: { start: 99, length: 2 } }), null, 'overlap');
  const tail = tryLock(p, { range: { start: 1000 } });
  assert.ok(tail, 'from 1000 to the end');
  assert.equal(
    tryLock(p, { mode: 'shared', range: { start: 2n ** 63n - 2n, length: 1n } }),
    null,
    'far byte is covered',
  );
  tail.release();
  const far = tryLock(p, { range: { start: 2n ** 63n - 2n, length: 1n } });
  assert.ok(far);
  far.release();
  a.release();
  b.release();
});

test('lock() waits without blocking the event loop and is granted on release', async () => {
  const p = freshFile();
  const h = await holderWith(p, {});
  let ticks = 0;
  const iv = setInterval(() => ticks++, 10);
  const pending = lock(p);
  await sleep(300);
  assert.ok(ticks >= 10, `event loop ran during the wait (${ticks} ticks)`);
  const { t } = await h.call({ cmd: 'apiRelease' });
  const l = await pending;
  const at = process.hrtime.bigint();
  clearInterval(iv);
  assert.ok(at > BigInt(t));
  assert.equal(l.kind, 'windows');
  l.release();
});

test('lock() is granted when the holder process is killed', async () => {
  const p = freshFile();
  const h = await holderWith(p, {});
  const pending = lock(p, { timeout: 10000 });
  await sleep(100);
  await h.kill();
  const l = await pending;
  l.release();
});

test('lock() timeout rejects ETIMEDOUT, and no lock is left behind', async () => {
  const p = freshFile();
  const h = await holderWith(p, {});
  const t0 = performance.now();
  await assert.rejects(lock(p, { timeout: 200 }), (err) => err.code === 'ETIMEDOUT');
  const ms = performance.now() - t0;
  assert.ok(ms >= 190 && ms < 2000, `rejected after ${ms.toFixed(0)} ms`);
  await h.call({ cmd: 'apiRelease' });
  const back = await h.call({ cmd: 'apiTry', path: p, options: {} });
  assert.deepEqual(back, { ok: true }, 'the holder re-locks: the timed-out wait holds nothing');
});

test('lock() abort rejects AbortError promptly, and no lock is left behind', async () => {
  const p = freshFile();
  const h = await holderWith(p, {});
  const ac = new AbortController();
  const pending = lock(p, { signal: ac.signal });
  await sleep(150);
  const t0 = performance.now();
  ac.abort();
  await assert.rejects(pending, (err) => err.name === 'AbortError' && err.code === 'ABORT_ERR');
  const ms = performance.now() - t0;
  note(`abort -> rejection in ${ms.toFixed(1)} ms`);
  assert.ok(ms < 500);
  await h.call({ cmd: 'apiRelease' });
  const back = await h.call({ cmd: 'apiTry', path: p, options: {} });
  assert.deepEqual(back, { ok: true }, 'the aborted wait holds nothing');
});

test('lockSync(): timeout throws ETIMEDOUT; granted when free', async () => {
  const p = freshFile();
  const h = await holderWith(p, {});
  assert.throws(
    () => lockSync(p, { timeout: 150 }),
    (err) => err.code === 'ETIMEDOUT',
  );
  await h.call({ cmd: 'apiRelease' });
  const l = lockSync(p, { timeout: 1000 });
  l.release();
});

test('getLock(): pid -1 holder while held elsewhere, null when free', async () => {
  const p = freshFile();
  assert.equal(getLock(p), null);
  const h = await holderWith(p, { range: { start: 0, length: 10 } });
  const info = getLock(p, { range: { start: 5, length: 1 } });
  assert.ok(info);
  assert.equal(info.kind, 'windows');
  assert.equal(info.pid, -1);
  assert.equal(getLock(p, { range: { start: 10, length: 1 } }), null, 'outside the held range');
  await h.call({ cmd: 'apiRelease' });
  assert.equal(getLock(p), null);
});

test('unlockFileExSync of a range that is not locked throws (code depends on Wine/Windows)', () => {
  const p = freshFile();
  const fd = openSync(p, 'r+');
  try {
    assert.throws(
      () => unlockFileExSync(fd, { start: 0, length: 10 }),
      (err) => {
        note(`unlockFileExSync of an unheld range: ${err.code}, winerror ${err.winerror}`);
        return err.syscall === 'UnlockFileEx' && (err.winerror === 158 || err.winerror === 33);
      },
    );
  } finally {
    closeSync(fd);
  }
});

test('bad input: argument errors before any syscall; EBADF for a closed fd', async () => {
  const p = freshFile();
  assert.throws(
    () => tryLock(p, { kind: 'flock' }),
    (e) => e.code === 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
  );
  assert.throws(
    () => tryLock(p, { kind: 'ofd' }),
    (e) => e.code === 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
  );
  assert.throws(() => tryLock(p, { mode: 'write' }), TypeError);
  assert.throws(() => tryLock(p, { range: { start: -1 } }), RangeError);
  await assert.rejects(lock(p, { timeout: -5 }), RangeError);
  const fd = openSync(p, 'r+');
  closeSync(fd);
  assert.throws(
    () => tryLock(fd),
    (e) => e.code === 'EBADF' && e.syscall === 'LockFileEx',
  );
});

test('lockSync() on a range this thread holds, even through the same handle, throws EDEADLK at once', () => {
  const p = freshFile();
  const fd = openSync(p, 'r+');
  try {
    const mine = tryLock(fd, { kind: 'windows' });
    assert.ok(mine);
    assert.throws(
      () => lockSync(fd, { kind: 'windows' }),
      (e) => e.code === 'EDEADLK' && /this thread already holds/.test(e.message),
    );
    assert.throws(
      () => lockSync(p, { kind: 'windows', mode: 'shared' }),
      (e) => e.code === 'EDEADLK',
    );
    mine.release();
    lockSync(fd, { kind: 'windows' }).release();
  } finally {
    closeSync(fd);
  }
});

await run('syslocks Windows high-level API');
removeDir(dir);
