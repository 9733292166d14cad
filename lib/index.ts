/**
 * syslocks: the OS file-lock primitives for Node.js.
 *
 * High level: {@link tryLock}, {@link lockSync}, {@link lock}, {@link getLock},
 * {@link capabilities} and {@link FileLock}. Primitives mirror the OS calls one to one.
 * @packageDocumentation
 */
export type {
  Capabilities,
  LockConflict,
  LockInfo,
  LockKind,
  LockMode,
  LockOptions,
  LockRange,
  OpenOptions,
  SyncWaitOptions,
  Target,
  TryLockOptions,
  WaitOptions,
} from './types.js';
export { FileLock, getLock, lock, lockSync, tryLock } from './lock.js';
export { capabilities, resolveKind } from './capabilities.js';
export { AbortError, CONTENTION_CODE, LockError, TIMEOUT_CODE, type LockErrorCode } from './errors.js';
export { holders, type LockHolder } from './holders.js';
export {
  constants,
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
  type LockConstants,
  type LockFileExOptions,
  type PrimitiveSyncOptions,
  type PrimitiveWaitOptions,
  type RangeOptions,
} from './primitives.js';
