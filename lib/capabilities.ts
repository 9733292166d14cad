/**
 * What this platform and the running kernel offer, and what `kind: 'auto'` means here.
 */
import { closeSync, openSync, constants as fsConstants } from 'node:fs';
import { KIND_CODE, TYPE_CODE, native } from './native.js';
import { unavailable } from './errors.js';
import type { Capabilities, LockKind } from './types.js';

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

/** @internal Throws ERR_FEATURE_UNAVAILABLE_ON_PLATFORM for a kind this platform lacks. */
export function assertKindAvailable(kind: LockKind): void {
  const available = kind === 'ofd' ? probeOfd() : native.kinds[kind];
  if (!available) {
    throw unavailable(
      kind === 'ofd' ? "Lock kind 'ofd' (open file description locks, Linux >= 3.15)" : `Lock kind '${kind}'`,
    );
  }
}

/**
 * What `kind: 'auto'` resolves to for a request, on this platform:
 * - Linux: `'ofd'` (per open file description like flock, so worker threads and
 *   separate opens exclude each other and an unrelated `close()` drops nothing; byte
 *   ranges; a query that sees POSIX holders). Kernels without OFD: as on BSD.
 * - macOS/BSD: `'flock'` for the whole file, `'posix'` for byte ranges.
 * - Windows: `'windows'`.
 */
export function resolveKind(kind: LockKind | 'auto', wholeFile: boolean): LockKind {
  if (kind !== 'auto') {
    assertKindAvailable(kind);
    return kind;
  }
  if (native.kinds.windows) return 'windows';
  if (probeOfd()) return 'ofd';
  return wholeFile ? 'flock' : 'posix';
}
