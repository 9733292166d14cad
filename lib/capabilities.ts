/**
 * What this platform and the running kernel offer, and what `kind: 'auto'` means here.
 */
import { closeSync, openSync, constants as fsConstants } from 'node:fs';
import { KIND_CODE, TYPE_CODE, native } from './native.js';
import { unavailable } from './errors.js';
import type { Capabilities, LockKind } from './types.js';
import type { FileLock } from './lock.js';

let ofdWorks: boolean | undefined;

/**
 * OFD locks need Linux >= 3.15 (fcntl(2): "Open file description locks ... since
 * Linux 3.15"); an older kernel rejects the command with EINVAL. So the build having
 * the constants is not enough: ask the running kernel once with an F_OFD_GETLK on a
 * file that surely exists (the node binary itself).
 */
function probeOfd(): boolean {
  if (!native.kinds.ofd) return false;
  if (ofdWorks !== undefined) return ofdWorks;
  let fd: number | undefined;
  try {
    fd = openSync(process.execPath, fsConstants.O_RDONLY);
    const out = new BigInt64Array(4);
    ofdWorks = native.queryLock(KIND_CODE.ofd, fd, TYPE_CODE.shared, 0, 0, out) === 0;
  } catch {
    ofdWorks = false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return ofdWorks;
}

/** Which lock kinds work here. OFD support is probed on the running kernel, once. */
export function capabilities(): Capabilities {
  return {
    platform: process.platform,
    flock: native.kinds.flock,
    posix: native.kinds.posix,
    ofd: probeOfd(),
    windows: native.kinds.windows,
  };
}

/** @internal Whether this platform and kernel offer `kind` (OFD: probed once). */
export function kindAvailable(kind: LockKind): boolean {
  return kind === 'ofd' ? probeOfd() : native.kinds[kind];
}

/** @internal Throws ERR_FEATURE_UNAVAILABLE_ON_PLATFORM for a kind this platform lacks. */
export function assertKindAvailable(kind: LockKind): void {
  if (!kindAvailable(kind)) {
    throw unavailable(
      kind === 'ofd' ? "Lock kind 'ofd' (open file description locks, Linux >= 3.15)" : `Lock kind '${kind}'`,
    );
  }
}

/**
 * What `kind: 'auto'` resolves to for a request, on this platform:
 * - Linux, macOS, BSD, whole file: `'flock'`. That is the lock Python's `filelock` and
 *   `fcntl.flock`, util-linux `flock(1)`, Rust's `File::lock`, Go's `lockedfile` and
 *   Deno's `FsFile.lock` take, so an auto lock excludes them (and they it). flock(2):
 *   "A call to flock() may block if an incompatible lock is held by another process."
 * - Linux, byte range: `'ofd'` (owned by the open file description like flock, so
 *   threads and separate opens exclude each other and an unrelated `close()` drops
 *   nothing); kernels without OFD and macOS/BSD: `'posix'`.
 * - Windows: `'windows'` (`LockFileEx`).
 *
 * On Linux flock and fcntl locks are independent (flock(2) NOTES), so a whole-file
 * auto lock and a ranged auto lock on one file do not exclude each other. For atomic
 * mode changes ({@link FileLock.tryChangeMode}) ask for `kind: 'ofd'` (or `'posix'`).
 */
export function resolveKind(kind: LockKind | 'auto', wholeFile: boolean): LockKind {
  if (kind !== 'auto') {
    assertKindAvailable(kind);
    return kind;
  }
  if (native.kinds.windows) return 'windows';
  if (wholeFile) return 'flock';
  return probeOfd() ? 'ofd' : 'posix';
}
