/**
 * Words for locks: "exclusive ofd lock on f, bytes 0-EOF" and the holder lines that
 * `try` prints.
 * @packageDocumentation
 */
import { fcntlGetLockSync, holders, type LockHolder, type LockKind, type LockMode } from '../index.js';
import { closeSync, openSync } from 'node:fs';

/** `bytes 0-9`, `bytes 5-EOF`, or `whole file`. */
export function rangeText(start: bigint | number, length: bigint | number): string {
  const s = BigInt(start);
  const l = BigInt(length);
  if (s === 0n && l === 0n) return 'whole file';
  return `bytes ${s}-${l === 0n ? 'EOF' : s + l - 1n}`;
}

/** `exclusive ofd lock on FILE (whole file)`. */
export function lockText(
  kind: LockKind,
  mode: LockMode,
  file: string,
  start: bigint | number = 0,
  length: bigint | number = 0,
): string {
  return `${mode} ${kind} lock on ${file} (${rangeText(start, length)})`;
}

/** One line per holder: pid, kind, mode, range and command. */
export function holderLines(list: readonly LockHolder[]): string[] {
  return list.map(
    (h) =>
      `  pid ${String(h.pid).padEnd(7)} ${h.kind.padEnd(5)} ${h.mode.padEnd(9)} ${rangeText(h.start, h.length).padEnd(12)} ${h.waiting ? '(waiting) ' : ''}${h.command ?? '?'}`,
  );
}

/** The holders of `file` (Linux, /proc), or a one-line reason they cannot be listed. */
export function holdersOrReason(file: string): LockHolder[] | string {
  try {
    return holders(file);
  } catch (err) {
    return `holders unavailable: ${(err as Error).message}`;
  }
}

/** What the traditional F_GETLK query (POSIX) says about a write request on `file`. */
export function getlkText(file: string, start = 0, length = 0): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const info = fcntlGetLockSync(fd, { mode: 'exclusive', start, length });
    if (!info) return 'F_GETLK sees no conflicting lock (flock locks are invisible to it)';
    if (info.pid === -1) return `F_GETLK: ${info.mode} lock held, pid -1 (an OFD lock: F_GETLK cannot name its owner)`;
    return `F_GETLK: ${info.mode} lock held by pid ${info.pid}`;
  } catch (err) {
    return `F_GETLK unavailable: ${(err as Error).message}`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
