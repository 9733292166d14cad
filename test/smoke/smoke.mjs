// smoke.mjs - the portable smoke suite every release binary runs before it is packed
// (issue 11; scripts/release-check.sh runs it per target x runtime).
//
//   node test/smoke/smoke.mjs                         (the addon lib/native.ts finds)
//   SYSLOCKS_NATIVE=prebuilds/.../x.node bun test/smoke/smoke.mjs
//   SMOKE_CHILD='["deno","run","-A"]' deno run -A test/smoke/smoke.mjs
//
// Plain JS on node:* modules only, so it runs unchanged on Node.js, Bun, Deno and a
// Windows node.exe under Wine. It uses the compiled library (dist/), kind 'auto' (flock
// on Linux and macOS, LockFileEx on Windows), and a second process of the same runtime
// (SMOKE_CHILD: the command prefix that runs a script, default the running executable)
// as the other lock owner. Checks: try, wait, timeout, abort, a worker that ends by
// itself, worker terminate, and a second process contending. Prints one line per check
// and `N passed, N failed`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const here = dirname(fileURLToPath(import.meta.url));
/** How long one check may take before it fails (a hang guard, not a performance limit). */
const CHECK_BOUND_MS = 60_000;
const require = createRequire(import.meta.url);
const syslocks = require(join(here, '..', '..', 'dist', 'index.js'));
const { lock, tryLock, AbortError, TIMEOUT_CODE } = syslocks;

// Child modes: hold a lock until told to release; or try once and report.
const [mode, file] = process.argv.slice(2);
if (mode === 'hold') {
  const held = syslocks.lockSync(file, { timeout: 10_000 });
  process.stdout.write('held\n');
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', () => {
    held.release();
    process.stdout.write('released\n');
    process.exit(0);
  });
} else if (mode === 'try') {
  const got = tryLock(file);
  process.stdout.write(got ? 'locked\n' : 'busy\n');
  got?.release();
  process.exit(0);
} else {
  await main();
}

function childCommand() {
  const prefix = process.env.SMOKE_CHILD ? JSON.parse(process.env.SMOKE_CHILD) : [process.execPath];
  return [prefix[0], [...prefix.slice(1), fileURLToPath(import.meta.url)]];
}

/** A second process holding the lock on `path` until `release()`. */
async function holder(path) {
  const [cmd, args] = childCommand();
  const child = spawn(cmd, [...args, 'hold', path], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const waitFor = (word) =>
    new Promise((resolve, reject) => {
      const check = () => out.includes(word) && resolve();
      child.stdout.on('data', (d) => {
        out += d;
        check();
      });
      child.on('exit', (code) => reject(new Error(`holder exited ${code} before '${word}'`)));
      check();
    });
  await waitFor('held');
  return {
    async release() {
      child.stdin.write('release\n');
      await waitFor('released');
    },
  };
}

/** A second process's tryLock on `path`: 'locked' or 'busy'. */
function childTry(path) {
  const [cmd, args] = childCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args, 'try', path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', () => resolve(out.trim()));
  });
}

function assert(ok, message) {
  if (!ok) throw new Error(message);
}

async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'syslocks-smoke-'));
  const target = (name) => join(dir, `${name}.lock`);
  const runtime = globalThis.Deno
    ? `deno ${Deno.version.deno}`
    : globalThis.Bun
      ? `bun ${Bun.version}`
      : `node ${process.version}`;
  console.log(
    `smoke: ${runtime} ${process.platform}-${process.arch}, native ${process.env.SYSLOCKS_NATIVE || '(default)'}`,
  );
  const checks = [
    [
      'try: a free lock is taken, released, taken again',
      async () => {
        const a = tryLock(target('try'));
        assert(a, 'tryLock returned null on a free file');
        a.release();
        const b = tryLock(target('try'));
        assert(b, 'not free after release');
        b.release();
      },
    ],
    [
      'contend: a second process is refused while this one holds, granted after',
      async () => {
        const held = tryLock(target('contend'));
        assert(held, 'tryLock returned null');
        assert((await childTry(target('contend'))) === 'busy', 'the other process got the lock');
        held.release();
        assert((await childTry(target('contend'))) === 'locked', 'the other process was refused after release');
      },
    ],
    [
      'wait: lock() waits for another process to release',
      async () => {
        const other = await holder(target('wait'));
        assert(tryLock(target('wait')) === null, 'tryLock succeeded while another process holds');
        const waiting = lock(target('wait'), { timeout: 20_000 });
        await other.release();
        (await waiting).release();
      },
    ],
    [
      'timeout: lock({ timeout }) rejects with ETIMEDOUT while held',
      async () => {
        const other = await holder(target('timeout'));
        const err = await rejection(lock(target('timeout'), { timeout: 100 }));
        await other.release();
        assert(err.code === TIMEOUT_CODE, `code ${err.code}`);
      },
    ],
    [
      'abort: an AbortSignal ends the wait with AbortError',
      async () => {
        const other = await holder(target('abort'));
        const ac = new AbortController();
        const waiting = lock(target('abort'), { signal: ac.signal });
        setTimeout(() => ac.abort(), 50);
        const err = await rejection(waiting);
        await other.release();
        assert(err instanceof AbortError && err.code === 'ABORT_ERR', `got ${err.name} ${err.code}`);
      },
    ],
    [
      // Every environment's teardown runs the addon's cleanup hook; Deno runs it outside
      // any V8 HandleScope, where a handle made by the addon aborts the whole process.
      'worker exit: a worker that locked and ended by itself exits cleanly',
      async () => {
        const worker = new Worker(join(here, 'smoke-worker.mjs'), {
          workerData: { path: target('exit'), mode: 'exit' },
        });
        const messages = [];
        worker.on('message', (m) => messages.push(m));
        const code = await new Promise((resolve, reject) => {
          worker.once('exit', resolve);
          worker.once('error', reject);
        });
        assert(code === 0 && messages.includes('done'), `exit code ${code}, messages ${messages}`);
        const after = tryLock(target('exit'));
        assert(after, 'the lock is held after the worker ended');
        after.release();
      },
    ],
    [
      'worker terminate: a worker killed mid-wait leaves no lock behind',
      async () => {
        const other = await holder(target('worker'));
        const worker = new Worker(join(here, 'smoke-worker.mjs'), { workerData: target('worker') });
        await new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        await worker.terminate();
        await other.release();
        // Had the dead worker's wait been granted, this process would own the lock through
        // a handle nobody can release, and this tryLock (another open) would be refused.
        await new Promise((r) => setTimeout(r, 200));
        const after = tryLock(target('worker'));
        assert(after, 'the lock is held after the waiting worker was terminated');
        after.release();
      },
    ],
  ];
  let passed = 0;
  let failed = 0;
  for (const [name, fn] of checks) {
    // Bounded: a check that hangs (a worker that never exits, a holder that never answers)
    // fails by name instead of stalling the whole run until its caller's timeout. Generous
    // enough for Wine, where a check takes seconds.
    let timer;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`did not finish within ${CHECK_BOUND_MS} ms`)), CHECK_BOUND_MS);
        }),
      ]);
      passed++;
      console.log(`ok   ${name}`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${name}: ${err && err.stack ? err.stack : err}`);
    } finally {
      clearTimeout(timer);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
