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

/** An fd: an integer in [0, 2^31-1] (`name` for the message). */
export function validateFd(fd: unknown, name = 'fd'): number {
  if (typeof fd !== 'number') throw invalidArgType(name, 'of type number', fd);
  if (!Number.isInteger(fd) || fd < 0 || fd > MAX_FD) throw outOfRange(name, `an integer >= 0 and <= ${MAX_FD}`, fd);
  return fd;
}

/** A target: a non-empty path without NUL bytes, an fd, or an object with an `fd`. */
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

/** `options.kind`: `'auto'`, `'flock'`, `'posix'`, `'ofd'` or `'windows'`; omitted = `'auto'`. */
export function validateKind(kind: unknown): LockKind | 'auto' {
  if (kind === undefined) return 'auto';
  if (typeof kind !== 'string') throw invalidArgType('options.kind', 'of type string', kind);
  if (!KINDS.includes(kind as LockKind)) {
    throw invalidArgValue('options.kind', `must be one of ${KINDS.map((k) => `'${k}'`).join(', ')}`, kind);
  }
  return kind as LockKind | 'auto';
}

/** `options.mode`: `'shared'` or `'exclusive'` (default). */
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

/**
 * `name` is how the caller's API spells the range: `'options.range'` for the high-level
 * calls, `'options'` for the primitives, whose `start`/`length` sit in the options.
 */
export function validateRange(range: unknown, name = 'options.range'): ResolvedRange {
  if (range === undefined) return { start: 0n, length: 0n };
  const max = MAX_OFFSET;
  validateOptions(range, 'range', name); // also refuses a non-object (ERR_INVALID_ARG_TYPE)
  const r = range as LockRange;
  const start = toOffset(`${name}.start`, r.start, max);
  const length = toOffset(`${name}.length`, r.length, max);
  // (A length of 0, to EOF and beyond, never trips this: start <= max.)
  if (start + length - 1n > max) {
    throw outOfRange(name, `a range ending at or before byte ${max}`, range);
  }
  return { start, length };
}

/** `options.timeout` in ms (floored); omitted or `Infinity` = -1, wait forever. */
export function validateTimeout(timeout: unknown): number {
  if (timeout === undefined || timeout === Infinity) return -1;
  if (typeof timeout !== 'number') throw invalidArgType('options.timeout', 'of type number', timeout);
  if (Number.isNaN(timeout) || timeout < 0 || timeout > MAX_TIMEOUT) {
    throw outOfRange('options.timeout', `>= 0 and <= ${MAX_TIMEOUT}, or Infinity`, timeout);
  }
  return Math.floor(timeout);
}

// The brand check of a real AbortSignal: the `aborted` getter of Node's own class
// throws ERR_INVALID_THIS for anything that is not one (a look-alike object, a
// subclass instance never constructed by Node), while any real signal passes.
const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;

function isAbortSignal(v: unknown): boolean {
  let brand = false;
  try {
    abortedGetter.call(v);
    brand = true;
  } catch {
    // not a signal: null, a primitive, a look-alike
  }
  return brand;
}

/** `options.signal`: a real AbortSignal (brand-checked), or undefined. */
export function validateSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!isAbortSignal(signal)) throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  return signal as AbortSignal;
}

const RANGE = ['start', 'length'] as const;
const OPEN = ['create', 'createMode', 'followSymlinks'] as const;
const LOCK = ['kind', 'mode', 'range'] as const;
const PRIMITIVE_RANGE = ['mode', ...RANGE] as const;

/**
 * The option keys each public function takes. A key outside its list is a mistake
 * (`{ timout: 10 }` would otherwise wait forever) and throws ERR_INVALID_ARG_VALUE.
 */
export const OPTION_KEYS = {
  tryLock: [...LOCK, ...OPEN],
  lockSync: [...LOCK, 'timeout', ...OPEN],
  lock: [...LOCK, 'timeout', 'signal', ...OPEN],
  getLock: [...LOCK],
  flockSync: ['wait', 'timeout'],
  flock: ['timeout', 'signal'],
  fcntlLockSync: [...PRIMITIVE_RANGE, 'ofd', 'wait', 'timeout'],
  fcntlLock: [...PRIMITIVE_RANGE, 'ofd', 'timeout', 'signal'],
  fcntlGetLockSync: [...PRIMITIVE_RANGE, 'ofd'],
  lockFileExSync: [...PRIMITIVE_RANGE, 'wait', 'timeout'],
  lockFileEx: [...PRIMITIVE_RANGE, 'timeout', 'signal'],
  unlockFileExSync: [...RANGE],
  range: [...RANGE],
} as const satisfies Record<string, readonly string[]>;

/** The function (or nested object) whose options are being checked. */
export type OptionsOf = keyof typeof OPTION_KEYS;

/**
 * Checks the options object and its keys. Cheap on the hot path: a `for...in` over
 * a few keys, each found in a short list.
 */
export function validateOptions(options: unknown, of: OptionsOf, name = 'options'): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw invalidArgType(name, 'of type object', options);
  const allowed: readonly string[] = OPTION_KEYS[of];
  for (const key in options) if (!allowed.includes(key)) throw unknownOption(key, of, name, allowed);
  return options as Record<string, unknown>;
}

function unknownOption(key: string, of: OptionsOf, name: string, allowed: readonly string[]): TypeError {
  const where = of === 'range' ? `of ${name}` : `of ${of}()`;
  let hint: string;
  if ((key === 'start' || key === 'length') && allowed.includes('range')) {
    hint = `did you mean 'range: { ${key} }'?`;
  } else {
    const near = nearest(key, allowed);
    hint = near !== undefined ? `did you mean '${near}'?` : `valid keys: ${allowed.map((k) => `'${k}'`).join(', ')}`;
  }
  const err = new TypeError(`The argument '${name}' is invalid: '${key}' is not an option ${where}; ${hint}`);
  (err as NodeJS.ErrnoException).code = 'ERR_INVALID_ARG_VALUE';
  return err;
}

/** The valid key closest to a typo (edit distance with transpositions), if any is close. */
function nearest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.min(3, Math.floor(key.length / 3))) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  // Row i starts as [i]; each cell is written before it is read.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      // A transposition (i, j >= 2: at i or j = 1 a[-1] / b[-1] is undefined and never equal).
      if (a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
