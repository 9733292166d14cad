// smoke-worker.mjs - the worker of smoke.mjs's "worker terminate" check: starts a lock
// wait on a file another process holds, tells the parent it is waiting, and waits until
// the parent terminates it.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const here = dirname(fileURLToPath(import.meta.url));
const { lock } = createRequire(import.meta.url)(join(here, '..', '..', 'dist', 'index.js'));

const waiting = lock(workerData, { timeout: 60_000 });
waiting.catch(() => {});
parentPort.postMessage('waiting');
