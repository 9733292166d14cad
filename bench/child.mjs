// One side of a two-process hand-off for bench/run.mjs (part 2), and the lock
// holder of part 3. Same line protocol as bench/c/handoff.c:
//
//   node bench/child.mjs <flock|posix|ofd> <path>
//
//   "hold"    -> take the lock (expected free)                          -> "held"
//   "wait"    -> start `await lock(fd, {kind})` (contended: the addon's
//                waiter thread), print "waiting"; when granted           -> "granted <ns>"
//   "waitsync"-> print "waiting", then lockSync(fd, {kind}): the wait blocks the JS
//                thread itself, no waiter thread (a diagnostic baseline)   -> "granted <ns>"
//   "release" -> take the timestamp, then lock.release()                 (no reply)
//   "when"    -> the timestamp of the last release                       -> "released <ns>"
//   "quit"    -> exit
//
// Timestamps are process.hrtime.bigint(): CLOCK_MONOTONIC on Linux, shared by all
// processes, so the parent can subtract one process's from another's.
import { openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { lock, lockSync } from '../dist/index.js';

const [kind, path] = process.argv.slice(2);
const fd = openSync(path, 'r+');
let held = null;
let releasedAt = 0n;

const say = (line) => process.stdout.write(line + '\n');

async function wait() {
  const pending = lock(fd, { kind });
  // lock() on an fd makes its non-blocking try synchronously; finding the lock held it
  // has started the waiter thread before returning. The parent confirms the kernel
  // wait in /proc/locks before it asks the holder to release.
  say('waiting');
  held = await pending;
  const t = process.hrtime.bigint();
  say(`granted ${t}`);
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
      held.release();
      held = null;
      break;
    case 'when':
      say(`released ${releasedAt}`);
      break;
    case 'quit':
      process.exit(0);
  }
});
rl.on('close', () => process.exit(0));
