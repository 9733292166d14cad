/**
 * The hot path of the synchronous primitives (`flockSync`, `fcntlLockSync`): a
 * whole-file request with plain arguments goes straight into the request channel,
 * with no Request object, no option walk through the full validators and no second
 * look at the kind. Anything else (a range, a timeout, a key it does not know, a bad
 * argument, a kind not available) is NOT_TAKEN and goes the full way, which validates
 * and reports it: the hot path accepts a subset of what the full path accepts, and
 * makes the same syscall.
 *
 * Why a second path: on a kernel with page-table isolation every syscall empties the
 * TLB, so each page of code and data a call touches between two syscalls costs a
 * page walk. The full path's walk over validators cost about 300 ns of a 3.2 µs
 * lock + unlock pair on the bench VM (docs/BENCH.md, part 1); this one touches a
 * handful of pages.
 * @internal
 */
import { kindAvailable } from './capabilities.js';
import { native, type KIND_CODE, type TYPE_CODE } from './native.js';
import { trySetWholeFile } from './syscall.js';

// The codes as literals: a property load from the KIND_CODE / TYPE_CODE exports is a
// page more per call. The types keep them equal to native.ts's.
const FLOCK_CODE: typeof KIND_CODE.flock = 0;
const POSIX_CODE: typeof KIND_CODE.posix = 1;
const OFD_CODE: typeof KIND_CODE.ofd = 2;
const SHARED: typeof TYPE_CODE.shared = 0;
const EXCLUSIVE: typeof TYPE_CODE.exclusive = 1;
const UNLOCK: typeof TYPE_CODE.unlock = 2;

// Read once: flock and POSIX locks are there or not by the build; OFD is probed on the
// running kernel the first time it is asked for (capabilities.ts).
const FLOCK = native.kinds.flock;
const POSIX = native.kinds.posix;
let ofd: boolean | undefined;

/** The hot path did not make the call: take the full path. (Codes are 0 or negative.) */
export const NOT_TAKEN = 1;

function typeCode(mode: unknown): number {
  if (mode === 'exclusive') return EXCLUSIVE;
  if (mode === 'shared') return SHARED;
  if (mode === 'unlock') return UNLOCK;
  return -1;
}

/** An fd the full path's validateFd accepts: an integer in [0, 2^31 - 1]. */
function plainFd(fd: unknown): fd is number {
  return typeof fd === 'number' && (fd | 0) === fd && fd >= 0;
}

/** `flockSync(fd, operation)` without options: the call's code, or NOT_TAKEN. */
export function flockSyncFast(fd: unknown, operation: unknown, options: unknown): number {
  if (options !== undefined || !plainFd(fd)) return NOT_TAKEN;
  const type = typeCode(operation);
  if (type < 0 || !FLOCK) return NOT_TAKEN;
  return trySetWholeFile(FLOCK_CODE, fd, type);
}

/**
 * `fcntlLockSync(fd, { mode, ofd?, wait? })` on the whole file: the call's code, or
 * NOT_TAKEN. `wait` needs nothing here: only a busy lock waits, and the caller takes
 * the full path for every code but 0.
 */
export function fcntlLockSyncFast(fd: unknown, options: unknown): number {
  if (typeof options !== 'object' || options === null || !plainFd(fd)) return NOT_TAKEN;
  for (const key in options) {
    if (key !== 'mode' && key !== 'ofd' && key !== 'wait') return NOT_TAKEN;
  }
  const opts = options as { mode?: unknown; ofd?: unknown };
  const type = typeCode(opts.mode);
  if (type < 0) return NOT_TAKEN;
  if (opts.ofd !== true) return POSIX ? trySetWholeFile(POSIX_CODE, fd, type) : NOT_TAKEN;
  ofd ??= kindAvailable('ofd');
  return ofd ? trySetWholeFile(OFD_CODE, fd, type) : NOT_TAKEN;
}
