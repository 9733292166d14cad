/**
 * Argument checks. Every public entry point runs them before any syscall, and
 * they throw Node-style TypeError/RangeError (`ERR_INVALID_ARG_TYPE`,
 * `ERR_INVALID_ARG_VALUE`, `ERR_OUT_OF_RANGE`).
 * @internal
 */
import { invalidArgType, invalidArgValue, outOfRange } from './errors.js';
import type { LockKind, LockMode, LockRange } from './types.js';

/**
 * Largest offset: fcntl(2) ranges must fit in `off_t` (else EOVERFLOW). LockFileEx
 * takes unsigned 64-bit offsets, but the native request carries int64 for every kind;
 * a Windows length 0 still reaches the end of the 64-bit range (windows_locks.cc sends
 * 2^64-1-start bytes).
 */
export const MAX_OFFSET = (1n << 63n) - 1n;
const MAX_FD = 2 ** 31 - 1;
/** Largest `setTimeout` delay; longer timeouts would fire at once. */
export const MAX_TIMEOUT = 2 ** 31 - 1;

/** A validated target: either a path to open or a caller's fd. */
export type ResolvedTarget = { path: string; fd?: undefined } | { fd: number; path?: undefined };

export function validateFd(fd: unknown, name = 'fd'): number {
  if (typeof fd !== 'number') throw invalidArgType(name, 'of type number', fd);
  if (!Number.isInteger(fd) || fd < 0 || fd > MAX_FD) throw outOfRange(name, `an integer >= 0 and <= ${MAX_FD}`, fd);
  return fd;
}

export function validateTarget(target: unknown): ResolvedTarget {
  if (typeof target === 'string') {
    if (target.length === 0) throw invalidArgValue('target', 'must be a non-empty path', target);
    if (target.includes('\0')) throw invalidArgValue('target', 'must be a string without null bytes', target);
    return { path: target };
  }
  if (typeof target === 'number') return { fd: validateFd(target, 'target') };
  if (typeof target === 'object' && target !== null && 'fd' in target) {
    return { fd: validateFd((target as { fd: unknown }).fd, 'target.fd') };
  }
  throw invalidArgType('target', 'a path string, a file descriptor number or an object with an fd', target);
}

const KINDS: readonly (LockKind | 'auto')[] = ['auto', 'flock', 'posix', 'ofd', 'windows'];
const MODES: readonly LockMode[] = ['shared', 'exclusive'];

export function validateKind(kind: unknown): LockKind | 'auto' {
  if (kind === undefined) return 'auto';
  if (typeof kind !== 'string') throw invalidArgType('options.kind', 'of type string', kind);
  if (!KINDS.includes(kind as LockKind)) {
    throw invalidArgValue('options.kind', `must be one of ${KINDS.map((k) => `'${k}'`).join(', ')}`, kind);
  }
  return kind as LockKind | 'auto';
}

export function validateMode(mode: unknown): LockMode {
  if (mode === undefined) return 'exclusive';
  if (typeof mode !== 'string') throw invalidArgType('options.mode', 'of type string', mode);
  if (!MODES.includes(mode as LockMode)) throw invalidArgValue('options.mode', "must be 'shared' or 'exclusive'", mode);
  return mode as LockMode;
}

function toOffset(name: string, v: unknown, max: bigint): bigint {
  if (v === undefined) return 0n;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw outOfRange(name, 'a safe integer >= 0 (use a bigint beyond 2^53)', v);
    return BigInt(v);
  }
  if (typeof v === 'bigint') {
    if (v < 0n || v > max) throw outOfRange(name, `>= 0 and <= ${max}`, v);
    return v;
  }
  throw invalidArgType(name, 'of type number or bigint', v);
}

/** A validated range in absolute offsets; `length` 0n = to EOF and beyond. */
export interface ResolvedRange {
  start: bigint;
  length: bigint;
}

export function validateRange(range: unknown): ResolvedRange {
  if (range === undefined) return { start: 0n, length: 0n };
  if (typeof range !== 'object' || range === null) throw invalidArgType('options.range', 'of type object', range);
  const max = MAX_OFFSET;
  const r = range as LockRange;
  const start = toOffset('options.range.start', r.start, max);
  const length = toOffset('options.range.length', r.length, max);
  if (length > 0n && start + length - 1n > max) {
    throw outOfRange('options.range', `a range ending at or before byte ${max}`, range);
  }
  return { start, length };
}

export function validateTimeout(timeout: unknown): number {
  if (timeout === undefined || timeout === Infinity) return -1;
  if (typeof timeout !== 'number') throw invalidArgType('options.timeout', 'of type number', timeout);
  if (Number.isNaN(timeout) || timeout < 0 || timeout > MAX_TIMEOUT) {
    throw outOfRange('options.timeout', `>= 0 and <= ${MAX_TIMEOUT}, or Infinity`, timeout);
  }
  return Math.floor(timeout);
}

export function validateSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (
    typeof signal !== 'object' ||
    signal === null ||
    typeof (signal as AbortSignal).aborted !== 'boolean' ||
    typeof (signal as AbortSignal).addEventListener !== 'function'
  ) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  }
  return signal as AbortSignal;
}

export function validateOptions(options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  return options as Record<string, unknown>;
}
