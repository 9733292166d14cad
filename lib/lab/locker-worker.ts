/**
 * Entry of a locker **worker thread**: `new Worker(locker-worker.js, { workerData:
 * { file, kind, epoch } })`. Command lines arrive as messages; each report is posted
 * back. The thread shares its process (and so POSIX lock ownership) with its parent.
 * @packageDocumentation
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LockerCore, type LockerKind } from './locker.js';

/** What the worker receives as `workerData`. */
export interface LockerWorkerData {
  /** The file the locker works on. */
  file: string;
  /** Its default lock kind. */
  kind: LockerKind;
  /** The buffer of `kind=mutex`, shared with the other threads it must exclude. */
  mutex?: SharedArrayBuffer;
  /** The controller's time zero, ms. */
  epoch: number;
}

const data = workerData as LockerWorkerData;
const port = parentPort;
if (port) {
  const core = new LockerCore(data.file, data.kind, data.epoch, data.mutex);
  port.on('message', (line: unknown) => {
    core.push(String(line), (r) => {
      port.postMessage(r);
      if (core.stopped) port.close();
    });
  });
  port.on('close', () => core.cleanup());
}
