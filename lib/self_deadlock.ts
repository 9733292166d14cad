/**
 * Fail fast instead of waiting forever. A `lockSync` without a timeout that waits for
 * a lock which this same thread holds can never be granted: the only code that could
 * release it is blocked. flock and OFD locks of one process do conflict (a second
 * open is a second owner), so this is easy to do by accident (py-filelock#315; Java
 * throws OverlappingFileLockException for it). Each JS thread tracks the locks it
 * holds; the check runs only on the contended path, before the blocking wait.
 * @internal
 */
import { fstatSync } from 'node:fs';
import { EDEADLK_ERRNO, LockError } from './errors.js';
import { syscallName, type Request } from './syscall.js';
import type { LockKind, LockMode } from './types.js';

/** What the check needs to know of a held lock. */
export interface HeldLock {
  readonly kind: LockKind;
  readonly mode: LockMode;
  readonly fd: number;
  readonly range: { readonly start: bigint; readonly length: bigint };
}

const held = new Set<HeldLock>();

/** "dev:ino" of the file behind `fd`, or undefined when fstat fails. */
function fileKey(fd: number): string | undefined {
  try {
    const st = fstatSync(fd, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

export function trackHeld(lock: HeldLock): void {
  held.add(lock);
}

export function untrackHeld(lock: HeldLock): void {
  held.delete(lock);
}

/** flock is independent of fcntl locks on a local fs; POSIX and OFD locks conflict. */
function family(kind: LockKind): string {
  return kind === 'posix' || kind === 'ofd' ? 'fcntl' : kind;
}

function overlaps(a: HeldLock['range'], b: HeldLock['range']): boolean {
  const aEnd = a.length === 0n ? null : a.start + a.length;
  const bEnd = b.length === 0n ? null : b.start + b.length;
  return (aEnd === null || b.start < aEnd) && (bEnd === null || a.start < bEnd);
}

/**
 * A lock this thread holds that would block `req` for good, if any. A POSIX request
 * never conflicts with the process's own POSIX locks, but it does with the process's
 * OFD locks (fcntl(2): where "one lock is an open file description lock and the other
 * is a traditional record lock", they "conflict even when they are acquired by the same
 * process on the same file descriptor"). A flock/OFD lock on the same open file description never
 * conflicts with a request of its own kind through it (the fd is compared, a close
 * approximation: a dup'd fd shares the description).
 */
export function ownConflict(req: HeldLock): HeldLock | undefined {
  if (held.size === 0) return undefined;
  let target: string | undefined;
  for (const l of held) {
    if (family(l.kind) !== family(req.kind)) continue;
    if (req.kind === 'posix' && l.kind === 'posix') continue;
    // One open file description never conflicts with itself, but a Windows handle does:
    // a second exclusive lock through the same handle is refused (SEMANTICS.md row 3b).
    if (l.fd === req.fd && l.kind === req.kind && req.kind !== 'windows') continue;
    if (l.mode === 'shared' && req.mode === 'shared') continue;
    if (!overlaps(l.range, req.range)) continue;
    target ??= fileKey(req.fd);
    if (target !== undefined && fileKey(l.fd) === target) return l;
  }
  return undefined;
}

/**
 * Throws EDEADLK when this thread itself holds a lock that blocks `req` (see
 * {@link ownConflict}); called before a blocking wait without a timeout.
 */
export function assertNoSelfDeadlock(req: Request): void {
  const own = ownConflict({ ...req, range: { start: req.start, length: req.length } });
  if (!own) return;
  throw new LockError(
    EDEADLK_ERRNO,
    syscallName(req.kind, 'wait'),
    req.path,
    0,
    `this thread already holds a conflicting ${own.mode} '${own.kind}' lock on the file (fd ${own.fd}), so the wait could never end`,
  );
}
