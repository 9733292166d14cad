// binding.test.mjs - the raw binding's Windows kind (LockFileEx/UnlockFileEx) in a real
// Windows node.exe. Asserts only what Wine implements faithfully; the rest is logged as
// `note:` lines and listed in docs/WINDOWS.md ("verified on Wine only for ...").
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ERROR_LOCK_VIOLATION,
  ERROR_NOT_LOCKED,
  Holder,
  KIND,
  TYPE,
  UV,
  isWine,
  bindingPath,
  loadBinding,
  note,
  removeDir,
  run,
  sleep,
  tempDir,
  test,
} from './harness.mjs';

const b = loadBinding();
const W = KIND.windows;
const dir = tempDir();
let n = 0;
function freshFile() {
  const p = join(dir, `f${n++}.dat`);
  writeFileSync(p, 'x'.repeat(256));
  return p;
}
const tryLock = (fd, type, start, length) => b.trySetLock(W, fd, type, start, length);
const unlock = (fd, start, length) => b.trySetLock(W, fd, TYPE.unlock, start, length);
function expectBusy(code, what) {
  assert.equal(code, UV.EAGAIN, `${what}: expected EAGAIN (-4088), got ${code}`);
  assert.equal(b.lastWinError(), ERROR_LOCK_VIOLATION, `${what}: winerror`);
}
/** Starts an async wait; resolves {code, winerror, at} when its callback runs. */
function startWait(fd, type, start, length) {
  let resolve;
  const done = new Promise((r) => (resolve = r));
  const id = b.waitStart(W, fd, type, start, length, (code, winerror) =>
    resolve({ code, winerror, at: process.hrtime.bigint() }),
  );
  assert.ok(id > 0, `waitStart returned ${id}`);
  return { id, done };
}
async function cancelUntilDone(w) {
  let settled = false;
  w.done.then(() => (settled = true));
  while (!settled && b.waitCancel(w.id)) await sleep(1);
  return w.done;
}

/** A second node.exe that opens `p` and holds a lock on it; returns it and its fd. */
async function heldElsewhere(p, type, start, length) {
  const h = await Holder.start();
  const { fd: hfd } = await h.call({ cmd: 'open', path: p });
  const r = await h.call({ cmd: 'lock', fd: hfd, type, start, length });
  assert.equal(r.code, 0, `the holder could not take the lock: ${JSON.stringify(r)}`);
  return { h, hfd };
}

test('kinds: only windows is compiled in; errno names are the Windows libuv ones', async () => {
  assert.deepEqual({ ...b.kinds }, { flock: false, posix: false, ofd: false, windows: true });
  const { getSystemErrorName } = await import('node:util');
  assert.equal(getSystemErrorName(UV.EAGAIN), 'EAGAIN');
  assert.equal(getSystemErrorName(UV.ENOENT), 'ENOENT');
  assert.equal(getSystemErrorName(UV.ECANCELED), 'ECANCELED');
  assert.equal(getSystemErrorName(UV.ETIMEDOUT), 'ETIMEDOUT');
});

test('two handles in one process: exclusive conflicts, disjoint range is free', () => {
  const p = freshFile();
  const a = openSync(p, 'r+');
  const c = openSync(p, 'r+');
  try {
    assert.equal(tryLock(a, TYPE.exclusive, 0, 100), 0);
    expectBusy(tryLock(c, TYPE.exclusive, 0, 100), 'exclusive on 2nd handle');
    expectBusy(tryLock(c, TYPE.shared, 0, 100), 'shared on 2nd handle');
    expectBusy(tryLock(c, TYPE.exclusive, 50, 100), 'partial overlap 50..149');
    expectBusy(tryLock(c, TYPE.shared, 99, 1), 'last byte 99');
    assert.equal(tryLock(c, TYPE.exclusive, 100, 100), 0, 'disjoint 100..199');
    assert.equal(unlock(c, 100, 100), 0);
    assert.equal(unlock(a, 0, 100), 0);
  } finally {
    closeSync(a);
    closeSync(c);
  }
});

test('same handle: exclusive twice conflicts (locks belong to the handle, not the process)', () => {
  const p = freshFile();
  const a = openSync(p, 'r+');
  try {
    assert.equal(tryLock(a, TYPE.exclusive, 0, 10), 0);
    expectBusy(tryLock(a, TYPE.exclusive, 0, 10), 'exclusive again, same handle');
    assert.equal(unlock(a, 0, 10), 0);
    assert.equal(tryLock(a, TYPE.exclusive, 0, 10), 0, 'after unlock');
    assert.equal(unlock(a, 0, 10), 0);
  } finally {
    closeSync(a);
  }
});

test('shared locks coexist across handles; exclusive is refused while any is held', () => {
  const p = freshFile();
  const [a, c, d] = [openSync(p, 'r+'), openSync(p, 'r+'), openSync(p, 'r+')];
  try {
    assert.equal(tryLock(a, TYPE.shared, 0, 100), 0);
    assert.equal(tryLock(c, TYPE.shared, 0, 100), 0);
    assert.equal(tryLock(c, TYPE.shared, 20, 10), 0, 'shared twice on one handle (nested range)');
    expectBusy(tryLock(d, TYPE.exclusive, 0, 100), 'exclusive under shared');
    expectBusy(tryLock(d, TYPE.exclusive, 90, 20), 'exclusive overlapping the tail');
    assert.equal(unlock(a, 0, 100), 0);
    assert.equal(unlock(c, 0, 100), 0);
    assert.equal(unlock(c, 20, 10), 0);
    assert.equal(tryLock(d, TYPE.exclusive, 0, 100), 0, 'free after every shared unlock');
    assert.equal(unlock(d, 0, 100), 0);
  } finally {
    for (const fd of [a, c, d]) closeSync(fd);
  }
});

test('read-only fd (flag r) can take an exclusive lock (GENERIC_READ suffices)', () => {
  const p = freshFile();
  const a = openSync(p, 'r');
  try {
    assert.equal(tryLock(a, TYPE.exclusive, 0, 1), 0);
    assert.equal(unlock(a, 0, 1), 0);
  } finally {
    closeSync(a);
  }
});

test('length 0 = to the end of the 64-bit range; offsets beyond 2^53 as BigInt', () => {
  const p = freshFile();
  const a = openSync(p, 'r+');
  const c = openSync(p, 'r+');
  try {
    assert.equal(tryLock(a, TYPE.exclusive, 1000, 0), 0);
    assert.equal(tryLock(c, TYPE.exclusive, 0, 1000), 0, 'below start is free');
    expectBusy(tryLock(c, TYPE.shared, 1000, 1), 'first byte');
    expectBusy(tryLock(c, TYPE.shared, Number.MAX_SAFE_INTEGER, 1), 'byte 2^53-1');
    expectBusy(tryLock(c, TYPE.shared, 2n ** 62n, 1n), 'byte 2^62');
    expectBusy(tryLock(c, TYPE.shared, 2n ** 63n - 2n, 1n), 'byte 2^63-2');
    assert.equal(unlock(a, 1000, 0), 0, 'unlock with the same (start, 0) names the same region');
    assert.equal(tryLock(c, TYPE.shared, 2n ** 62n, 1n), 0, 'free after unlock');
    assert.equal(unlock(c, 2n ** 62n, 1n), 0);
    assert.equal(unlock(c, 0, 1000), 0);
  } finally {
    closeSync(a);
    closeSync(c);
  }
});

test('two processes: exclusive refused with EAGAIN/33, then granted after unlock', async () => {
  const p = freshFile();
  const h = await Holder.start();
  const { fd: hfd } = await h.call({ cmd: 'open', path: p });
  assert.deepEqual(await h.call({ cmd: 'lock', fd: hfd, type: TYPE.exclusive, start: 0, length: 100 }), {
    code: 0,
    winerror: 0,
  });
  const a = openSync(p, 'r+');
  try {
    expectBusy(tryLock(a, TYPE.exclusive, 0, 100), 'other process, exclusive');
    expectBusy(tryLock(a, TYPE.shared, 50, 100), 'other process, shared partial overlap');
    assert.equal(tryLock(a, TYPE.exclusive, 100, 100), 0, 'disjoint range');
    assert.equal(unlock(a, 100, 100), 0);
    assert.equal((await h.call({ cmd: 'unlock', fd: hfd, start: 0, length: 100 })).code, 0);
    assert.equal(tryLock(a, TYPE.exclusive, 0, 100), 0, 'granted after the other unlocks');
    const back = await h.call({ cmd: 'lock', fd: hfd, type: TYPE.shared, start: 0, length: 100 });
    assert.deepEqual(back, { code: UV.EAGAIN, winerror: ERROR_LOCK_VIOLATION }, 'other is now refused');
    assert.equal(unlock(a, 0, 100), 0);
  } finally {
    closeSync(a);
  }
});

test('two processes: shared + shared granted, exclusive refused on both sides', async () => {
  const p = freshFile();
  const h = await Holder.start();
  const { fd: hfd } = await h.call({ cmd: 'open', path: p });
  assert.equal((await h.call({ cmd: 'lock', fd: hfd, type: TYPE.shared, start: 0, length: 0 })).code, 0);
  const a = openSync(p, 'r+');
  try {
    assert.equal(tryLock(a, TYPE.shared, 0, 0), 0);
    const other = await h.call({ cmd: 'lock', fd: hfd, type: TYPE.exclusive, start: 10, length: 1 });
    assert.equal(other.code, UV.EAGAIN);
    assert.equal(other.winerror, ERROR_LOCK_VIOLATION);
    const c = openSync(p, 'r+');
    expectBusy(tryLock(c, TYPE.exclusive, 10, 1), 'third handle, exclusive');
    closeSync(c);
  } finally {
    closeSync(a);
  }
});

test('closing the handle releases its locks', () => {
  const p = freshFile();
  const a = openSync(p, 'r+');
  const c = openSync(p, 'r+');
  try {
    assert.equal(tryLock(a, TYPE.exclusive, 0, 0), 0);
    expectBusy(tryLock(c, TYPE.exclusive, 0, 1), 'held');
    closeSync(a);
    assert.equal(tryLock(c, TYPE.exclusive, 0, 1), 0, 'free after CloseHandle');
    assert.equal(unlock(c, 0, 1), 0);
  } finally {
    closeSync(c);
  }
});

test('wait is granted when the other process unlocks (and not before)', async () => {
  const p = freshFile();
  const { h, hfd } = await heldElsewhere(p, TYPE.exclusive, 0, 0);
  const a = openSync(p, 'r+');
  try {
    const w = startWait(a, TYPE.exclusive, 0, 0);
    let ticks = 0;
    const iv = setInterval(() => ticks++, 10);
    await sleep(300);
    clearInterval(iv);
    assert.equal(b.pendingWaits(), 1, 'still waiting while held');
    assert.ok(ticks >= 10, `event loop kept running during the wait (${ticks} ticks in 300 ms)`);
    const { t } = await h.call({ cmd: 'unlock', fd: hfd, start: 0, length: 0 });
    const r = await w.done;
    assert.equal(r.code, 0);
    assert.ok(r.at > BigInt(t), 'granted after the unlock');
    assert.equal(b.pendingWaits(), 0);
    const back = await h.call({ cmd: 'lock', fd: hfd, type: TYPE.shared, start: 5, length: 1 });
    assert.equal(back.code, UV.EAGAIN, 'the waiter now holds the lock');
    assert.equal(unlock(a, 0, 0), 0);
  } finally {
    closeSync(a);
  }
});

test('wait is granted when the holder process is killed', async () => {
  const p = freshFile();
  const { h, hfd } = await heldElsewhere(p, TYPE.exclusive, 0, 100);
  const a = openSync(p, 'r+');
  try {
    const w = startWait(a, TYPE.shared, 0, 100);
    await sleep(100);
    assert.equal(b.pendingWaits(), 1);
    const killedAt = performance.now();
    await h.kill();
    const r = await w.done;
    assert.equal(r.code, 0);
    note(`wait granted ${(performance.now() - killedAt).toFixed(1)} ms after the holder's kill was requested`);
    assert.equal(unlock(a, 0, 100), 0);
  } finally {
    closeSync(a);
  }
});

test('cancel (abort) ends the wait promptly with ECANCELED and leaves no lock behind', async () => {
  const p = freshFile();
  const { h, hfd } = await heldElsewhere(p, TYPE.exclusive, 0, 100);
  const a = openSync(p, 'r+');
  try {
    const w = startWait(a, TYPE.exclusive, 0, 100);
    await sleep(150);
    const t0 = performance.now();
    const r = await cancelUntilDone(w);
    const ms = performance.now() - t0;
    assert.equal(r.code, UV.ECANCELED);
    assert.ok(ms < 500, `cancel took ${ms.toFixed(1)} ms`);
    note(`cancel -> callback in ${ms.toFixed(1)} ms`);
    assert.equal(b.pendingWaits(), 0);
    // The holder lets go; the cancelled waiter must not pick the lock up afterwards.
    await h.call({ cmd: 'unlock', fd: hfd, start: 0, length: 100 });
    await sleep(100);
    const re = await h.call({ cmd: 'lock', fd: hfd, type: TYPE.exclusive, start: 0, length: 100 });
    assert.equal(re.code, 0, 'the other process can lock again: the cancelled wait holds nothing');
    expectBusy(tryLock(a, TYPE.exclusive, 0, 100), 'waiter handle is refused, so it holds nothing');
  } finally {
    closeSync(a);
  }
});

test('waitSync: timeout ends the wait with ETIMEDOUT and leaves no lock behind', async () => {
  const p = freshFile();
  const { h, hfd } = await heldElsewhere(p, TYPE.exclusive, 0, 100);
  const a = openSync(p, 'r+');
  try {
    const t0 = performance.now();
    const code = b.waitSync(W, a, TYPE.exclusive, 0, 100, 200);
    const ms = performance.now() - t0;
    assert.equal(code, UV.ETIMEDOUT);
    assert.ok(ms >= 190 && ms < 1000, `returned after ${ms.toFixed(1)} ms`);
    await h.call({ cmd: 'unlock', fd: hfd, start: 0, length: 100 });
    await sleep(50);
    const re = await h.call({ cmd: 'lock', fd: hfd, type: TYPE.exclusive, start: 0, length: 100 });
    assert.equal(re.code, 0, 'the timed-out wait holds nothing');
  } finally {
    closeSync(a);
  }
});

test('waitSync with a deadline is granted when the holder unlocks in time', async () => {
  const p = freshFile();
  const { h, hfd } = await heldElsewhere(p, TYPE.exclusive, 0, 100);
  const a = openSync(p, 'r+');
  try {
    // waitSync blocks this thread, so the holder unlocks on its own timer.
    await h.call({ cmd: 'unlockAfter', ms: 150, fd: hfd, start: 0, length: 100 });
    const t0 = performance.now();
    const code = b.waitSync(W, a, TYPE.exclusive, 0, 100, 10000);
    const ms = performance.now() - t0;
    assert.equal(code, 0);
    assert.ok(ms >= 100, `granted after ${ms.toFixed(1)} ms`);
    assert.equal(unlock(a, 0, 100), 0);
  } finally {
    closeSync(a);
  }
});

test('six concurrent waits do not block the libuv threadpool (fs still works)', async () => {
  const p = freshFile();
  const { h, hfd } = await heldElsewhere(p, TYPE.exclusive, 0, 0);
  const fds = [];
  const waits = [];
  try {
    for (let i = 0; i < 6; i++) {
      const fd = openSync(p, 'r+');
      fds.push(fd);
      waits.push(startWait(fd, TYPE.shared, 0, 0));
    }
    const t0 = performance.now();
    const text = await fsp.readFile(p, 'utf8');
    assert.equal(text.length, 256);
    await fsp.stat(p);
    assert.ok(performance.now() - t0 < 2000, 'fs calls completed while 6 waits were pending');
    assert.equal(b.pendingWaits(), 6);
    await h.call({ cmd: 'unlock', fd: hfd, start: 0, length: 0 });
    const results = await Promise.all(waits.map((w) => w.done));
    assert.deepEqual(
      results.map((r) => r.code),
      [0, 0, 0, 0, 0, 0],
      'all shared waits granted',
    );
  } finally {
    for (const fd of fds) closeSync(fd);
  }
});

test('bad input: codes, not crashes', () => {
  const p = freshFile();
  const a = openSync(p, 'r+');
  try {
    assert.equal(tryLock(-1, TYPE.exclusive, 0, 1), UV.EBADF, 'fd -1');
    assert.equal(tryLock(a, TYPE.exclusive, -1, 1), UV.EINVAL, 'negative start');
    assert.equal(tryLock(a, TYPE.exclusive, 0, -5), UV.EINVAL, 'negative length');
    assert.equal(tryLock(a, 7, 0, 1), UV.EINVAL, 'unknown type');
    assert.equal(b.trySetLock(KIND.flock, a, TYPE.exclusive, 0, 0), UV.ENOSYS, 'flock kind');
    assert.equal(b.trySetLock(KIND.ofd, a, TYPE.exclusive, 0, 0), UV.ENOSYS, 'ofd kind');
    assert.equal(b.queryLock(W, a, TYPE.exclusive, 0, 1, new BigInt64Array(4)), UV.ENOSYS, 'no query');
    assert.throws(() => b.trySetLock(W, a), TypeError);
    assert.throws(() => b.trySetLock(W, a, 0, 'x', 1), TypeError);
    assert.throws(() => b.waitStart(W, a, 0, 0, 1), TypeError, 'waitStart without callback');
  } finally {
    closeSync(a);
  }
  assert.equal(tryLock(a, TYPE.exclusive, 0, 1), UV.EBADF, 'closed fd');
});

test('bad input: an fd number that was never opened gives EBADF (in a child process)', () => {
  // Run in a separate node.exe: if the CRT's invalid-parameter handler fired inside
  // _get_osfhandle it would take the whole process down.
  const script = `const b = require(${JSON.stringify(bindingPath)});
    process.stdout.write(String(b.trySetLock(3, 4242, 1, 0, 1)));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, `child exited ${r.status}: ${r.stderr}`);
  assert.equal(r.stdout, String(UV.EBADF));
});

test('unlock of a range the handle does not hold fails (158 on Windows; Wine says 33)', () => {
  const p = freshFile();
  const a = openSync(p, 'r+');
  try {
    const code = unlock(a, 0, 10);
    const we = b.lastWinError();
    assert.notEqual(code, 0, 'must fail');
    assert.ok(we === ERROR_NOT_LOCKED || we === ERROR_LOCK_VIOLATION, `winerror ${we}`);
    if (we === ERROR_NOT_LOCKED) assert.equal(code, UV.ENOENT, 'ERROR_NOT_LOCKED -> ENOENT');
    note(`unlock of an unheld range: code ${code}, winerror ${we}${isWine ? ' (Wine)' : ''}`);
    // A sub-range of a held lock is not "exact" either.
    assert.equal(tryLock(a, TYPE.exclusive, 0, 100), 0);
    assert.notEqual(unlock(a, 0, 50), 0, 'unlock must match the locked region exactly');
    note(`unlock of a sub-range: winerror ${b.lastWinError()}`);
    assert.equal(unlock(a, 0, 100), 0);
  } finally {
    closeSync(a);
  }
});

test('observations only (Wine differs from Windows here; see docs/WINDOWS.md)', async () => {
  const p = freshFile();
  const { h, hfd } = await heldElsewhere(p, TYPE.exclusive, 0, 100);
  // Mandatory locking: Windows denies other handles' I/O on the region.
  let readResult;
  try {
    readFileSync(p);
    readResult = 'read ok';
  } catch (err) {
    readResult = `read failed ${err.code}`;
  }
  note(`fs.readFileSync of a region another process holds exclusively: ${readResult} (Windows: EBUSY)`);
  // 'a' (append) fds: libuv opens them with FILE_APPEND_DATA but no FILE_WRITE_DATA.
  const ap = openSync(p, 'a');
  const code = tryLock(ap, TYPE.exclusive, 200, 1);
  note(`LockFileEx on an fs.openSync(p, 'a') fd: code ${code}, winerror ${b.lastWinError()}`);
  if (code === 0) unlock(ap, 200, 1);
  closeSync(ap);
  // Same handle holding exclusive + shared on one range: two unlocks needed.
  const a = openSync(p, 'r+');
  assert.equal(tryLock(a, TYPE.exclusive, 300, 10), 0);
  const sh = tryLock(a, TYPE.shared, 300, 10);
  const u1 = unlock(a, 300, 10);
  const u2 = unlock(a, 300, 10);
  note(`exclusive then shared on one handle: shared=${sh}, unlock#1=${u1}, unlock#2=${u2} (Windows doc: 0, 0, 0)`);
  closeSync(a);
});

await run('syslocks Windows binding');
removeDir(dir);
