/**
 * Loads the native addon and types it. Order: `$SYSLOCKS_NATIVE` (an explicit
 * path, the escape hatch for unusual layouts), then the prebuilt binary shipped in
 * `prebuilds/<platform>-<arch>/`, then a local `build/Release` from node-gyp.
 * @internal
 */
import { join } from 'node:path';
import { nativeLoadError, type LoadAttempt } from './load_error.js';

/** Kind codes shared with native/lock_request.h. */
export const KIND_CODE = { flock: 0, posix: 1, ofd: 2, windows: 3 } as const;
/** Type codes shared with native/lock_request.h. */
export const TYPE_CODE = { shared: 0, exclusive: 1, unlock: 2 } as const;

/**
 * The functions of one request channel (native/channel.h). Each returns nothing and
 * stores its code in the buffer's int32 at `channelLayout.codeAt`: 0 or a negative
 * code; release and changeMode also 1 (the fd was closed) or 2 (the fd now refers to
 * another file), having touched nothing.
 */
export interface NativeChannel {
  trySet(): void;
  /** trySet, and on a grant the lock's record in the process-wide table (id into the buffer). */
  acquire(): void;
  /** The record of a request a wait was granted (id into the buffer). */
  register(): void;
  release(): void;
  changeMode(): void;
}

/**
 * A wait's completion: its code, Windows' error, and the id of the lock's record when
 * the wait asked for one and was granted (else 0; native/waiter.h, WaitRecord).
 */
export type WaitCallback = (code: number, winerror: number, heldId: number) => void;

// What a granted wait records in the lock table before it returns to JS (native/waiter.h,
// WaitRecord).
/** Record nothing (the primitives). */
export const RECORD_NONE = 0;
/** Record the lock; the caller keeps its fd. */
export const RECORD_LOCK = 1;
/** Record the lock, which owns its fd (a path lock). */
export const RECORD_LOCK_OWNING_FD = 2;

/** The raw binding. Every function returns 0 or a negative libuv-style error code. */
export interface NativeBinding {
  trySetLock(kind: number, fd: number, type: number, start: number | bigint, length: number | bigint): number;
  /** Undoes a grant nobody will own, keeping the caller's earlier locks (native/late_grant.h). */
  undoLateGrant(kind: number, fd: number, type: number, start: number | bigint, length: number | bigint): number;
  /**
   * A request channel for this copy of lib/ (native/channel.h): its functions read the
   * request from `buffer` (laid out as {@link NativeBinding.channelLayout} says) and
   * store their code in it.
   */
  channel(buffer: ArrayBuffer): NativeChannel;
  /**
   * The channel buffer's layout (native/channel.h): its size, the byte offsets of the
   * int64 range, the float64 id and the int32 code (the int32 kind, fd, type and flags
   * are at 0), and the flags' bits.
   */
  readonly channelLayout: {
    bytes: number;
    rangeAt: number;
    idAt: number;
    codeAt: number;
    ownsFd: number;
    forget: number;
  };
  waitSync(
    kind: number,
    fd: number,
    type: number,
    start: number | bigint,
    length: number | bigint,
    timeoutMs: number,
    record?: number,
  ): number;
  waitStart(
    kind: number,
    fd: number,
    type: number,
    start: number | bigint,
    length: number | bigint,
    callback: WaitCallback,
    record?: number,
  ): number;
  /** Cancels a wait: 0 done, 1 pending (call again until the callback runs), 2 abandoned (no callback). */
  waitCancel(id: number, abandon: boolean): number;
  /** The process's waiter threads: [live, parked]. */
  waiterThreads(): [number, number];
  /** The linger of parked waiter threads in ms, set first when `ms` is given (tests). */
  waiterLinger(ms?: number): number;
  /** The linger of parked waiter threads beyond the few kept idle, in ms, set first when given (tests). */
  waiterSurplusLinger(ms?: number): number;
  /** Tests: while `hold`, a granted abandoned wait stops before its undo; returns how many stand there. */
  waiterHoldUndos(hold?: boolean): number;
  queryLock(
    kind: number,
    fd: number,
    type: number,
    start: number | bigint,
    length: number | bigint,
    out: BigInt64Array,
  ): number;
  lastWinError(): number;
  pendingWaits(): number;
  /** POSIX only: opens a path for a lock the library owns (native/open_file.h): fd or code < 0. */
  openSync?(path: string, flags: number, mode: number): number;
  /** POSIX only: {@link NativeBinding.openSync} on libuv's pool. */
  openAsync?(path: string, flags: number, mode: number, callback: (fdOrCode: number) => void): void;
  /** POSIX only: closes an fd openSync/openAsync gave out, or defers the close (lock_table.h). */
  closeOwned?(fd: number): number;
  /** For tests: the process-wide lock table's counts. */
  tableStats(): { deferredFds: number; liveLocks: number };
  readonly kinds: { flock: boolean; posix: boolean; ofd: boolean; windows: boolean };
  /** POSIX: the signal that ends a kernel wait now (it moves if another library takes it). */
  interruptSignal?(): number;
  /** The platform's lock constants, from its headers (native/constants.h). */
  readonly constants: Readonly<Record<string, number>>;
}

/** glibc or musl: prebuildify's `--tag-libc` names the two Linux builds apart. */
function libcTag(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  // Stryker disable next-line StringLiteral: musl only (release-check.sh loads the musl build in Alpine); mutation runs use glibc
  return report?.header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

function load(): NativeBinding {
  const platformArch = `${process.platform}-${process.arch}`;
  const attempt: LoadAttempt = {
    platformArch,
    libc: undefined,
    explicit: undefined,
    root: join(__dirname, '..'),
    prebuilds: [],
  };
  // One try around everything: under Deno, reading the environment or process.report can be
  // refused as well as the load itself, and the error must say which (lib/load_error.ts).
  try {
    attempt.explicit = process.env['SYSLOCKS_NATIVE'] || undefined;
    if (attempt.explicit) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(attempt.explicit) as NativeBinding;
    }
    const libc = (attempt.libc = libcTag());
    // Stryker disable next-line StringLiteral: the untagged name is for platforms without a libc tag; mutation runs are Linux-only
    const tagged = libc ? `syslocks.${libc}.node` : 'syslocks.node';
    attempt.prebuilds = [...new Set([tagged, 'syslocks.node'])].map((name) => join('prebuilds', platformArch, name));
    // Required here, inside the try: the bindings package reads process.env as it loads,
    // which Deno refuses without --allow-env.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bindings = require('bindings') as typeof import('bindings');
    return bindings({
      bindings: 'syslocks.node',
      // bindings joins each entry, reading a name from these options when it has one.
      platformArch,
      tagged,
      try: [
        ['module_root', 'prebuilds', 'platformArch', 'tagged'],
        ['module_root', 'prebuilds', 'platformArch', 'bindings'],
        ['module_root', 'build', 'Release', 'bindings'],
        ['module_root', 'build', 'Debug', 'bindings'],
      ],
    } as unknown as string) as NativeBinding;
  } catch (cause) {
    throw nativeLoadError(cause, attempt);
  }
}

/** The loaded binding (loaded once, on first import). */
export const native: NativeBinding = load();
