/**
 * The error of a wait whose `timeout` elapsed: it says how long it waited and, where
 * the platform can tell (Linux, from /proc), who holds the lock. Built only once a
 * wait has timed out, so the lookup never runs on a granted request; and built by the
 * caller-facing function after its `await`, so V8's async stack trace names the
 * function that called `lock()`.
 * @internal
 */
import { ETIMEDOUT_ERRNO, LockError } from './errors.js';
import { conflictingHolders, type LockHolder } from './holders.js';
import { syscallName, type Request } from './syscall.js';

/** True for the internal rejection of a timed-out wait. */
export function isTimeout(err: unknown): boolean {
  return err instanceof LockError && err.code === 'ETIMEDOUT' && err.holders === undefined;
}

/** The program name of a holder's command line, for a short message. */
function program(command: string | null): string {
  const first = command?.split(' ')[0];
  return first ? first.slice(first.lastIndexOf('/') + 1) : '?';
}

function heldBy(holders: readonly LockHolder[]): string {
  if (holders.length === 0) return '';
  const pids = [...new Map(holders.map((h) => [h.pid, h])).values()];
  // pid -1: an OFD lock whose open file description no process shows an fd for (/proc
  // unreadable, or the fd in flight in a unix socket, or kept by a mapping).
  const named = pids
    .slice(0, 3)
    .map((h) => (h.pid === -1 ? 'an owner /proc does not show' : `pid ${h.pid} '${program(h.command)}'`));
  if (pids.length > 3) named.push(`${pids.length - 3} more`);
  return ` (held by ${named.join(', ')})`;
}

/**
 * `ETIMEDOUT: lock wait timed out after 1000 ms (held by pid 1234 'python3'),
 * fcntl(F_OFD_SETLKW) '/tmp/x'`, with `.timeout` and `.holders` as data.
 */
export function waitTimedOut(req: Request, timeoutMs: number): LockError {
  const holders = conflictingHolders(req);
  const err = new LockError(
    ETIMEDOUT_ERRNO,
    syscallName(req.kind, 'wait'),
    req.path,
    0,
    `lock wait timed out after ${timeoutMs} ms${heldBy(holders)}`,
  );
  const data = err as { -readonly [K in 'timeout' | 'holders']: LockError[K] };
  data.timeout = timeoutMs;
  data.holders = holders;
  return err;
}
