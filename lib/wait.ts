/**
 * Waiting for a lock: off the event loop on a thread the addon owns (`waitAsync`), or
 * on the calling thread (`waitSync`). The syscall names, {@link Request} and the
 * non-blocking calls stay in `syscall.ts`.
 * @internal
 */
import { stat } from 'node:fs';
import { AbortError, EAGAIN_ERRNO, errnoOf } from './errors.js';
import { KIND_CODE, RECORD_NONE, TYPE_CODE, native } from './native.js';
import { undoLateGrant } from './late_grant.js';
import { fail, offset, timeoutError, trySet, type Request } from './syscall.js';

/**
 * Blocking wait: the calling thread sleeps while a waiter thread sits in the kernel,
 * so that a deadline, worker.terminate() or process.exit() can end it (native/waiter.h).
 * timeoutMs < 0 = forever. Throws on failure; at the deadline an 'ETIMEDOUT'
 * LockError, which the caller turns into its timeout error (timeout.ts). With `record`
 * the grant is recorded in the lock table with the identity the fd had when the wait
 * began (as {@link waitAsync} does), and the record's id is returned; else 0.
 */
export function waitSync(req: Request, timeoutMs: number, record: number = RECORD_NONE): number {
  startThreadpool();
  const code = native.waitSync(
    KIND_CODE[req.kind],
    req.fd,
    TYPE_CODE[req.mode],
    offset(req.start),
    offset(req.length),
    timeoutMs,
    record,
  );
  if (code < 0) throw fail(code, req, 'wait');
  return code;
}

/**
 * One 'abort' listener per signal, however many waits share it: a signal passed to
 * 200 waits would otherwise carry 200 listeners (and Node warns past 10). Throws
 * what the signal's `addEventListener` throws, having registered nothing.
 */
const abortWatchers = new WeakMap<AbortSignal, Set<() => void>>();

function watchAbort(signal: AbortSignal, onAbort: () => void): () => void {
  let watchers = abortWatchers.get(signal);
  if (!watchers) {
    const set = new Set<() => void>();
    signal.addEventListener(
      'abort',
      () => {
        abortWatchers.delete(signal);
        for (const f of set) f();
      },
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent, a signal aborts once; `once` only frees the closure sooner
      { once: true },
    );
    watchers = set;
    abortWatchers.set(signal, set);
  }
  watchers.add(onAbort);
  return () => watchers.delete(onAbort);
}

/** Tests: how many pending waits watch `signal`. @internal */
export function abortWatchersOf(signal: AbortSignal): number {
  return abortWatchers.get(signal)?.size ?? 0;
}

/** waitCancel() answers (native/waiter.h, CancelState). */
const CANCEL_PENDING = 1;
const CANCEL_ABANDONED = 2;
/**
 * After a cancel, how long the thread may take to leave the kernel before the wait is
 * abandoned (a FUSE filesystem that ignores the signal): the promise then settles
 * and the thread undoes a late grant by itself (docs/DESIGN.md, "Waiting").
 */
const GRACE_MS = 50;
/** Polling fallback when no waiter thread can be had: 1, 2, 4 ... this many ms. */
const POLL_MAX_MS = 32;
const ENOMEM_ERRNO = errnoOf('ENOMEM');

/**
 * libuv starts its threadpool on first use and aborts the process if it cannot create
 * the threads (uv_thread_create in threadpool.c's init_threads). Under a low
 * RLIMIT_NPROC or cgroup pids limit, waiter threads could take the last ones first, so
 * the pool is started before the first waiter thread.
 */
let threadpoolStarted = false;
function startThreadpool(): void {
  // Stryker disable next-line ConditionalExpression,BooleanLiteral: starting it again is only a wasted stat()
  if (threadpoolStarted) return;
  // Stryker disable next-line BooleanLiteral: as above
  threadpoolStarted = true;
  stat(__filename, () => {});
}

/**
 * Waits off the event loop on a thread the addon owns. A timeout or an abort ends
 * the kernel wait itself (the thread is interrupted and returns), and the promise
 * settles once it has ended, so a path-opened fd is never closed under a waiting
 * thread; a grant that races the cancel is released again. A thread the kernel does
 * not let go within GRACE_MS is abandoned: the promise settles, and the thread keeps
 * its own reference to the file until it returns. Without a thread to be had the wait
 * polls with try-locks instead.
 *
 * With `record` (RECORD_LOCK, RECORD_LOCK_OWNING_FD) a granted wait is recorded in the
 * lock table before the promise settles, with the identity the fd had when the wait
 * started, and the promise resolves with the record's id: no syscall and no further
 * call into the addon stand between the grant and the caller. It resolves with 0 when
 * nothing was recorded (RECORD_NONE, or the polling fallback): the caller records then.
 */
export function waitAsync(
  req: Request,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  record: number = RECORD_NONE,
): Promise<number> {
  startThreadpool();
  return new Promise<number>((resolve, reject) => {
    let reason: Error | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let retry: NodeJS.Timeout | undefined;
    let retryDelay = 1;
    let cancelledAt = 0;
    let polling = false;
    let unwatch: (() => void) | undefined;

    // Stryker disable ConditionalExpression,BooleanLiteral: equivalent; once settled no
    // path settles again but an abandoned wait's completion, which finds nothing left to
    // clear and a promise already settled; clearTimeout(undefined) does nothing.
    function settle(err?: Error, heldId = 0): void {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      // Stryker restore ConditionalExpression,BooleanLiteral
      if (retry) clearTimeout(retry);
      unwatch?.();
      if (err) reject(err);
      else resolve(heldId);
    }

    function cancel(err: Error): void {
      if (reason || settled) return;
      reason = err;
      cancelledAt = performance.now();
      if (polling) settle(err);
      else interrupt();
    }

    // An interrupt that lands just before the thread enters the kernel is lost, so
    // repeat it (1, 2, 4 ... 16 ms) until the completion arrives, or abandon the wait.
    function interrupt(): void {
      // Stryker disable next-line EqualityOperator: one millisecond of grace more or less shows only on a clock
      const state = native.waitCancel(id, performance.now() - cancelledAt >= GRACE_MS);
      if (state === CANCEL_ABANDONED) {
        settle(reason);
        // Stryker disable next-line ConditionalExpression: equivalent, a repeat after "done" re-interrupts a wait whose completion is already on its way, and settling clears it
      } else if (state === CANCEL_PENDING) {
        retry = setTimeout(interrupt, retryDelay);
        // Stryker disable next-line MethodExpression,ArithmeticOperator: the backoff's pace shows only on a clock
        retryDelay = Math.min(retryDelay * 2, 16);
      }
    }

    function poll(): void {
      const code = trySet(req);
      if (code === 0) return settle();
      if (code !== EAGAIN_ERRNO) return settle(fail(code, req, 'try'));
      retry = setTimeout(poll, retryDelay);
      // Stryker disable next-line MethodExpression,ArithmeticOperator: the backoff's pace shows only on a clock
      retryDelay = Math.min(retryDelay * 2, POLL_MAX_MS);
    }

    // The abort watcher before the native wait: a signal that cannot be watched
    // rejects here, and no native wait outlives a settled promise.
    try {
      if (signal) unwatch = watchAbort(signal, () => cancel(new AbortError(undefined, { cause: signal.reason })));
    } catch (err) {
      settle(err as Error);
      return;
    }

    const id = native.waitStart(
      KIND_CODE[req.kind],
      req.fd,
      TYPE_CODE[req.mode],
      offset(req.start),
      offset(req.length),
      (code, winerror, heldId) => {
        if (reason) {
          // Granted in the instant the caller gave up: hand it back, then report the cancel.
          // (Nothing was recorded: the cancel reached the addon before this callback.)
          if (code === 0) undoLateGrant(req);
          settle(reason);
        } else if (code === 0) {
          settle(undefined, heldId);
        } else {
          // (ECANCELED comes only after a cancel from here, which set `reason` above.)
          settle(fail(code, req, 'wait', winerror));
        }
      },
      record,
    );
    if (id === ENOMEM_ERRNO) {
      polling = true;
      retry = setTimeout(poll, retryDelay);
      // Stryker disable next-line EqualityOperator: equivalent, wait ids start at 1 (native/waiter.h next_id_)
    } else if (id < 0) {
      settle(fail(id, req, 'wait', 0)); // the wait never started: no lock call's Windows error
      return;
    }
    if (timeoutMs >= 0) timer = setTimeout(() => cancel(timeoutError(req)), timeoutMs);
  });
}
