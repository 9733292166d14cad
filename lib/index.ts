/**
 * syslocks: the OS file-lock primitives for Node.js.
 *
 * High level: {@link tryLock}, {@link lockSync}, {@link lock}, {@link getLock},
 * {@link capabilities} and {@link FileLock}. Primitives mirror the OS calls one to one.
 * @packageDocumentation
 */
export type {
  Capabilities,
  LockInfo,
  LockKind,
  LockMode,
  LockOptions,
  LockRange,
  SyncWaitOptions,
  Target,
  WaitOptions,
} from './types.js';
export { FileLock, getLock, lock, lockSync, tryLock } from './lock.js';
export { capabilities, resolveKind } from './capabilities.js';
export { AbortError, CONTENTION_CODE, LockError, TIMEOUT_CODE } from './errors.js';
export { holders, type LockHolder } from './holders.js';
export {
  fcntlGetLockSync,
  fcntlLock,
  fcntlLockSync,
  flock,
  flockSync,
  lockFileEx,
  lockFileExSync,
  unlockFileExSync,
  type FcntlGetLockOptions,
  type FcntlLockOptions,
  type FlockOperation,
  type LockFileExOptions,
  type PrimitiveSyncOptions,
  type PrimitiveWaitOptions,
  type RangeOptions,
} from './primitives.js';
