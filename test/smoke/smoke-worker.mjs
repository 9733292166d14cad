// smoke-worker.mjs - the worker of smoke.mjs's worker checks.
// workerData = path ("worker terminate"): starts a lock wait on a file another process
// holds, tells the parent it is waiting, and waits until the parent terminates it.
// workerData = { path, mode: 'exit' } ("worker exit"): takes and releases the lock with
// tryLock() and lock(), then ends by itself (the environment's teardown runs the
// addon's cleanup hook with nothing pending).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const here = dirname(fileURLToPath(import.meta.url));
const syslocks = createRequire(import.meta.url)(join(here, '..', '..', 'dist', 'index.js'));

const { tryLock, lock } = syslocks;
if (typeof workerData === 'object' && workerData.mode === 'exit') {
  tryLock(workerData.path).release();
  (await lock(workerData.path, { timeout: 10_000 })).release();
  parentPort.postMessage('done');
} else {
  const waiting = lock(workerData, { timeout: 60_000 });
  waiting.catch(() => {});
  parentPort.postMessage('waiting');
}
