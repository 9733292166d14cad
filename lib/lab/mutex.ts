/**
 * The lab's in-process mutex: one `Int32Array` word in a `SharedArrayBuffer`, taken
 * with `Atomics.compareExchange` and waited for with `Atomics.waitAsync` (so a waiting
 * locker never blocks its event loop). Worker threads that were handed the same buffer
 * exclude each other; a separate process gets its own buffer, so the mutex excludes
 * nothing across processes. That is the point of `race --lock mutex`: it shows what a
 * thread-level lock (a JavaScript mutex, a Python `threading.Lock`) cannot do.
 * @packageDocumentation
 */
import { threadId } from 'node:worker_threads';

/** Bytes a mutex needs. */
export const MUTEX_BYTES = 4;

/** Thrown when a mutex wait runs out of time (code `ETIMEDOUT`, like a lock wait). */
function timedOut(ms: number): Error {
  return Object.assign(new Error(`mutex: not acquired within ${ms} ms`), { code: 'ETIMEDOUT' });
}

// Atomics.waitAsync is in Node 16+ (V8), but not in this project's ES2022 lib typings.
type WaitAsync = (
  a: Int32Array,
  i: number,
  v: number,
  t: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** A mutex over one word of a shared buffer. */
export class SharedMutex {
  readonly #word: Int32Array;
  // 0 = free; otherwise the owner's threadId + 1, so a stray unlock can be refused.
  readonly #me = threadId + 1;

  /** @param buffer - at least {@link MUTEX_BYTES} bytes, shared by every thread that must be excluded. */
  constructor(buffer: SharedArrayBuffer) {
    if (buffer.byteLength < MUTEX_BYTES) throw new RangeError(`a mutex needs ${MUTEX_BYTES} bytes`);
    this.#word = new Int32Array(buffer, 0, 1);
  }

  /** Takes the mutex if it is free; false if another thread holds it. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.#word, 0, 0, this.#me) === 0;
  }

  /** Waits for the mutex without blocking the event loop; rejects after `timeoutMs`. */
  async lock(timeoutMs = Infinity, signal?: AbortSignal): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    // Atomics.waitAsync alone does not keep the event loop alive; this timer does.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      for (;;) {
        if (this.tryLock()) return;
        signal?.throwIfAborted();
        const left = deadline - performance.now();
        if (left <= 0) throw timedOut(timeoutMs);
        const seen = Atomics.load(this.#word, 0);
        if (seen === 0) continue;
        const w = waitAsync(this.#word, 0, seen, Math.min(left, 50));
        if (w.async) await w.value;
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Releases the mutex if this thread holds it; false (and nothing changed) otherwise. */
  unlock(): boolean {
    if (Atomics.compareExchange(this.#word, 0, this.#me, 0) !== this.#me) return false;
    Atomics.notify(this.#word, 0);
    return true;
  }
}
