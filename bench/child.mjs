// One side of a two-process hand-off for bench/run.mjs (part 2), and the lock
// holder of part 3. Same line protocol as bench/c/handoff.c:
//
//   node bench/child.mjs <flock|posix|ofd> <path> [peer]
//
//   "hold"    -> take the lock (expected free)                          -> "held"
//   "wait"    -> start `await lock(fd, {kind})` (contended: the addon's
//                waiter thread), print "waiting"; when granted           -> "granted <ns>"
//   "waitsync"-> print "waiting", then lockSync(fd, {kind}): the JS thread blocks
//                (on a condition variable; a waiter thread sits in the kernel):
//                the floor for a blocked JS thread                         -> "granted <ns>"
//   "release" -> take the timestamp, then lock.release()                 (no reply)
//   "when"    -> the timestamp of the last release                       -> "released <ns>"
//   "quit"    -> exit
//
// With [peer] (bench --peers: fs-native-extensions, fs-ext or os-lock, from
// bench/out/peers) "wait" uses that package's asynchronous wait instead, and "release"
// its unlock: fs-native-extensions waitForLock(fd) (a new thread per wait) + unlock(fd);
// fs-ext flock(fd, 'ex', cb) (libuv's threadpool) + flockSync(fd, 'un'); os-lock
// lock(fd, {exclusive: true}) (threadpool) + unlock(fd). <kind> must be the peer's own
// (ofd, flock, posix respectively); "hold" and "waitsync" stay syslocks'.
//
// Timestamps are process.hrtime.bigint(): CLOCK_MONOTONIC on Linux, shared by all
// processes, so the parent can subtract one process's from another's.
//
// With BENCH_THREAD_CPUS=1 (bench/placement.mjs), "granted" also gives the CPU this
// process's JS thread and its waiter thread last ran on: "granted <ns> <js> <waiter>".
import { openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { lock, lockSync } from '../dist/index.js';
import { threadCpus } from './lib/thread_cpus.mjs';

const [kind, path, peerName] = process.argv.slice(2);
const fd = openSync(path, 'r+');
let held = null;
let releasedAt = 0n;
let releasing = null;
const reportCpus = process.env.BENCH_THREAD_CPUS === '1';

/** A peer's wait as { lock(): Promise<{release(): Promise|void}> } on this fd. */
async function peerWaiter(name) {
  const { loadPeer } = await import('./peers.mjs');
  const m = loadPeer(name);
  switch (name) {
    case 'fs-native-extensions':
      return () => m.waitForLock(fd).then(() => ({ release: () => m.unlock(fd) }));
    case 'fs-ext':
      return () =>
        new Promise((resolve, reject) =>
          m.flock(fd, 'ex', (err) => (err ? reject(err) : resolve({ release: () => m.flockSync(fd, 'un') }))),
        );
    case 'os-lock':
      return () => m.lock(fd, { exclusive: true }).then(() => ({ release: () => m.unlock(fd) }));
    default:
      throw new Error(`unknown peer ${name}`);
  }
}
const peerLock = peerName ? await peerWaiter(peerName) : null;

const say = (line) => process.stdout.write(line + '\n');

async function wait() {
  const pending = peerLock ? peerLock() : lock(fd, { kind });
  // lock() on an fd makes its non-blocking try synchronously; finding the lock held it
  // has started the waiter thread before returning. The parent confirms the kernel
  // wait in /proc/locks before it asks the holder to release.
  say('waiting');
  held = await pending;
  const t = process.hrtime.bigint();
  say(reportCpus ? `granted ${t} ${threadCpus()}` : `granted ${t}`);
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  switch (line.trim()) {
    case 'hold':
      held = lockSync(fd, { kind });
      say('held');
      break;
    case 'wait':
      wait().catch((err) => {
        console.error(err);
        process.exit(1);
      });
      break;
    case 'waitsync': {
      say('waiting');
      held = lockSync(fd, { kind });
      const t = process.hrtime.bigint();
      say(`granted ${t}`);
      break;
    }
    case 'release':
      // No reply: this process goes idle at once, and the bench is not woken by a pipe
      // while the waiter is being woken. It asks for the timestamp afterwards ("when").
      releasedAt = process.hrtime.bigint();
      releasing = held.release(); // a Promise for os-lock's unlock
      held = null;
      break;
    case 'when':
      Promise.resolve(releasing).then(
        () => say(`released ${releasedAt}`),
        (err) => {
          console.error(err);
          process.exit(1);
        },
      );
      releasing = null;
      break;
    case 'quit':
      process.exit(0);
  }
});
rl.on('close', () => process.exit(0));
