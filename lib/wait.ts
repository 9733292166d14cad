/**
 * Waiting for a lock: off the event loop on a thread the addon owns (`waitAsync`), or
 * on the calling thread (`waitSync`). The syscall names, {@link Request} and the
 * non-blocking calls stay in `syscall.ts`.
 * @internal
 */
import { AbortError, ECANCELED_ERRNO, ETIMEDOUT_ERRNO } from './errors.js';
import { KIND_CODE, TYPE_CODE, native } from './native.js';
import { undoLateGrant } from './late_grant.js';
import { fail, offset, timeoutError, type Request } from './syscall.js';

/** Blocking wait on the calling thread; timeoutMs < 0 = forever. Throws on failure. */
export function waitSync(req: Request, timeoutMs: number): void {
  const code = native.waitSync(
    KIND_CODE[req.kind],
    req.fd,
    TYPE_CODE[req.mode],
    offset(req.start),
    offset(req.length),
    timeoutMs,
  );
  if (code === ETIMEDOUT_ERRNO) throw timeoutError(req);
  if (code !== 0) throw fail(code, req, 'wait', native.lastWinError());
}

/**
 * One 'abort' listener per signal, however many waits share it: a signal passed to
 * 200 waits would otherwise carry 200 listeners (and Node warns past 10).
 */
const abortWatchers = new WeakMap<AbortSignal, Set<() => void>>();

function watchAbort(signal: AbortSignal, onAbort: () => void): () => void {
  let watchers = abortWatchers.get(signal);
  if (!watchers) {
    const set = new Set<() => void>();
    watchers = set;
    abortWatchers.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        abortWatchers.delete(signal);
        for (const f of set) f();
      },
      { once: true },
    );
  }
  watchers.add(onAbort);
  return () => watchers.delete(onAbort);
}

/**
 * Waits off the event loop on a thread the addon owns. A timeout or an abort ends
 * the kernel wait itself (the thread is interrupted and returns), and the promise
 * settles only once it has ended, so a path-opened fd is never closed under a
 * waiting thread. A grant that races the cancel is released again.
 */
export function waitAsync(req: Request, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let reason: Error | undefined;
    let timer: NodeJS.Timeout | undefined;
    let retry: NodeJS.Timeout | undefined;
    let retryDelay = 1;
    let unwatch: (() => void) | undefined;

    const id = native.waitStart(
      KIND_CODE[req.kind],
      req.fd,
      TYPE_CODE[req.mode],
      offset(req.start),
      offset(req.length),
      (code, winerror) => {
        if (timer) clearTimeout(timer);
        if (retry) clearTimeout(retry);
        unwatch?.();
        if (reason) {
          if (code === 0) {
            // Granted in the instant the caller gave up: hand it back, then report the cancel.
            undoLateGrant(req);
          }
          reject(reason);
        } else if (code === 0) {
          resolve();
        } else {
          reject(code === ECANCELED_ERRNO ? timeoutError(req) : fail(code, req, 'wait', winerror));
        }
      },
    );
    if (id < 0) {
      reject(fail(id, req, 'wait'));
      return;
    }

    function cancel(err: Error): void {
      if (reason) return;
      reason = err;
      interrupt();
    }
    // An interrupt that lands just before the thread enters the kernel is lost, so
    // repeat it (1, 2, 4 ... 32 ms) until the completion arrives.
    function interrupt(): void {
      if (native.waitCancel(id)) {
        retry = setTimeout(interrupt, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 32);
      }
    }

    if (timeoutMs >= 0) timer = setTimeout(() => cancel(timeoutError(req)), timeoutMs);
    if (signal) unwatch = watchAbort(signal, () => cancel(new AbortError(undefined, { cause: signal.reason })));
  });
}
