/**
 * The thin layer over the binding that every public function shares: names the
 * syscall for error messages and turns a negative code into a {@link LockError}.
 * @internal
 */
import { fstatSync } from 'node:fs';
import { ETIMEDOUT_ERRNO, LockError, errnoOf } from './errors.js';
import { KIND_CODE, TYPE_CODE, native } from './native.js';
import type { LockKind, LockMode } from './types.js';

/** What a call does, for naming it. */
export type Operation = 'try' | 'wait' | 'unlock' | 'query';

const NAMES: Record<LockKind, Record<Operation, string>> = {
  flock: { try: 'flock', wait: 'flock', unlock: 'flock', query: 'flock' },
  posix: { try: 'fcntl(F_SETLK)', wait: 'fcntl(F_SETLKW)', unlock: 'fcntl(F_SETLK)', query: 'fcntl(F_GETLK)' },
  ofd: {
    try: 'fcntl(F_OFD_SETLK)',
    wait: 'fcntl(F_OFD_SETLKW)',
    unlock: 'fcntl(F_OFD_SETLK)',
    query: 'fcntl(F_OFD_GETLK)',
  },
  // Stryker disable next-line all: Windows only; mutation runs are Linux-only
  windows: { try: 'LockFileEx', wait: 'LockFileEx', unlock: 'UnlockFileEx', query: 'LockFileEx' },
};

export function syscallName(kind: LockKind, op: Operation): string {
  return NAMES[kind][op];
}

/** One request, resolved: what the native layer receives. */
export interface Request {
  kind: LockKind;
  fd: number;
  mode: LockMode;
  start: bigint;
  length: bigint;
  /** For error messages only. */
  path?: string | undefined;
}

const MAX_SAFE_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

/** Passes offsets as numbers when they are exact (cheaper through Node-API than bigints). */
export function offset(v: bigint): number | bigint {
  return v <= MAX_SAFE_OFFSET ? Number(v) : v;
}

/**
 * The error for a failed call: `code` (negative), the request, what was being done and,
 * on Windows, the error code Windows gave (by default the environment's last one, which
 * the addon's synchronous calls set; a wait's completion passes its own).
 */
export function fail(code: number, req: Request, op: Operation, winerror = native.lastWinError()): LockError {
  return new LockError(code, syscallName(req.kind, op), req.path, winerror, openModeMismatch(code, req, op));
}

const EBADF_ERRNO = errnoOf('EBADF');

/**
 * fcntl(2) fails with EBADF both when "fd is not an open file descriptor" and when
 * "cmd is F_SETLK or F_SETLKW and the file descriptor open mode doesn't match with the
 * type of lock requested" (the OFD commands alike). An fd that fstat() still reads is
 * the second case, which "bad file descriptor" alone does not let anyone guess.
 */
function openModeMismatch(code: number, req: Request, op: Operation): string | undefined {
  if (code !== EBADF_ERRNO || (req.kind !== 'posix' && req.kind !== 'ofd') || (op !== 'try' && op !== 'wait')) {
    return undefined;
  }
  try {
    fstatSync(req.fd);
  } catch {
    return undefined;
  }
  const access = req.mode === 'exclusive' ? 'writing' : 'reading';
  return `bad file descriptor: fd ${req.fd} is not open for ${access}, which a${req.mode === 'exclusive' ? 'n' : ''} ${req.mode} lock needs`;
}

// The hot path passes its request through a preallocated buffer the addon reads
// directly: a call without arguments skips the per-argument Node-API conversions.
// The channel is this copy's own (native/channel.h): another copy of the library in
// the same thread has its own buffer. Layout (declared once, in native/channel.h): int32
// kind, fd, type, flags; int64 start, length; float64 id; int32 code. Each channel
// function stores its code there and returns nothing: a Node-API return value cost
// 30-45 ns a call on the bench VM.
const layout = native.channelLayout;
const requestBuffer = new ArrayBuffer(layout.bytes);
const requestI32 = new Int32Array(requestBuffer, 0, (layout.codeAt >> 2) + 1);
const CODE = layout.codeAt >> 2; // requestI32[CODE]: the code of the channel's last call
const requestI64 = new BigInt64Array(requestBuffer, layout.rangeAt, 2);
const requestId = new Float64Array(requestBuffer, layout.idAt, 1);
const channel = native.channel(requestBuffer);
// The hot path calls it without touching the channel object (its functions ignore `this`).
const channelTrySet = channel.trySet;
const OWNS_FD = layout.ownsFd;
const FORGET = layout.forget;

// Whether the buffer's range may be other than the whole file (0, 0): the hot path
// (trySetWholeFile) then writes it, and otherwise skips two BigInt stores.
let rangeLoaded = true;

function load(req: Request, type: number, flags: number): void {
  requestI32[0] = KIND_CODE[req.kind];
  requestI32[1] = req.fd;
  requestI32[2] = type;
  requestI32[3] = flags;
  requestI64[0] = req.start;
  requestI64[1] = req.length;
  rangeLoaded = true;
}

/**
 * {@link trySet} (or an unlock, `type` TYPE_CODE.unlock) of a whole file, from codes
 * the caller has validated: no Request object (hot_path.ts).
 */
export function trySetWholeFile(kind: number, fd: number, type: number): number {
  requestI32[0] = kind;
  requestI32[1] = fd;
  requestI32[2] = type;
  requestI32[3] = 0;
  if (rangeLoaded) {
    requestI64[0] = 0n;
    requestI64[1] = 0n;
    rangeLoaded = false;
  }
  channelTrySet();
  return requestI32[CODE]!;
}

/** Non-blocking attempt: 0 when granted, else the negative code (EAGAIN = busy). */
export function trySet(req: Request): number {
  load(req, TYPE_CODE[req.mode], 0);
  channel.trySet();
  return requestI32[CODE]!;
}

/** Releases the request's range (or the flock). Throws on failure. */
export function unlock(req: Request): void {
  load(req, TYPE_CODE.unlock, 0);
  channel.trySet();
  const code = requestI32[CODE]!;
  if (code !== 0) throw fail(code, req, 'unlock');
}

/** A held lock's id in the process-wide lock table (native/lock_table.h). */
export type HeldId = number;

/** A non-blocking attempt that records the grant ({@link acquiredId}): 0 or a negative code. */
export function acquire(req: Request, ownsFd: boolean): number {
  load(req, TYPE_CODE[req.mode], ownsFd ? OWNS_FD : 0);
  channel.acquire();
  return requestI32[CODE]!;
}

/** The id of the lock the last successful {@link acquire} recorded. */
export function acquiredId(): HeldId {
  return requestId[0]!;
}

/** Records a request a wait was granted. Throws when the fd's identity is unreadable. */
export function register(req: Request, ownsFd: boolean): HeldId {
  load(req, TYPE_CODE[req.mode], ownsFd ? OWNS_FD : 0);
  channel.register();
  const code = requestI32[CODE]!;
  if (code !== 0) throw fail(code, req, 'wait');
  return requestId[0]!;
}

/** What {@link releaseHeld} and {@link changeHeld} return when the fd is no longer the lock's. */
export const LOST_CLOSED = 1;
export const LOST_REUSED = 2;

/** Releases a held lock (`forget`: drop the record only). 0, LOST_*, or a negative code. */
export function releaseHeld(id: HeldId, forget: boolean): number {
  requestI32[3] = forget ? FORGET : 0;
  requestId[0] = id;
  channel.release();
  return requestI32[CODE]!;
}

/** Converts a held lock without waiting. 0, EAGAIN, LOST_*, or a negative code. */
export function changeHeld(id: HeldId, mode: LockMode): number {
  requestI32[2] = TYPE_CODE[mode];
  requestId[0] = id;
  channel.changeMode();
  return requestI32[CODE]!;
}

/** F_GETLK / F_OFD_GETLK: the lock that would block `req`, or null. */
export function query(req: Request): { mode: LockMode; start: bigint; length: bigint; pid: number } | null {
  const out = new BigInt64Array(4);
  const code = native.queryLock(
    KIND_CODE[req.kind],
    req.fd,
    TYPE_CODE[req.mode],
    offset(req.start),
    offset(req.length),
    out,
  );
  if (code !== 0) throw fail(code, req, 'query');
  if (out[0] === -1n) return null;
  return {
    mode: out[0] === BigInt(TYPE_CODE.shared) ? 'shared' : 'exclusive',
    start: out[1]!,
    length: out[2]!,
    pid: Number(out[3]),
  };
}

/**
 * The rejection of a wait whose timeout elapsed: code 'ETIMEDOUT'. lock.ts replaces it
 * (timeout.ts waitTimedOut, with the holders) before any caller sees it.
 */
export function timeoutError(req: Request): LockError {
  // Stryker disable next-line StringLiteral: equivalent, replaced before any caller sees it
  return new LockError(ETIMEDOUT_ERRNO, syscallName(req.kind, 'wait'), req.path, 0, 'lock wait timed out');
}
