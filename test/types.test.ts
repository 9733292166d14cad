// The public types: checked by `npm run typecheck` (part of `npm test`, with
// exactOptionalPropertyTypes on), and run as a test so the values exist too.
import { expect, it } from 'vitest';
import {
  LockError,
  constants,
  type FcntlLockOptions,
  type LockConflict,
  type LockErrorCode,
  type PrimitiveSyncOptions,
  type SyncWaitOptions,
  type TryLockOptions,
  type WaitOptions,
} from '../dist/index.js';

// Options a caller forwards from its own optional inputs.
const maybe: { n: number | undefined; s: AbortSignal | undefined; b: boolean | undefined } = {
  n: undefined,
  s: undefined,
  b: undefined,
};

it('option types accept an explicit undefined (exactOptionalPropertyTypes)', () => {
  const wait: WaitOptions = {
    kind: undefined,
    mode: undefined,
    range: { start: maybe.n, length: undefined },
    timeout: maybe.n,
    signal: maybe.s,
  };
  const sync: SyncWaitOptions = {
    timeout: undefined,
    create: maybe.b,
    createMode: undefined,
    followSymlinks: undefined,
  };
  const tryOpts: TryLockOptions = { range: undefined };
  const prim: FcntlLockOptions & PrimitiveSyncOptions = {
    mode: 'shared',
    ofd: maybe.b,
    start: undefined,
    wait: undefined,
  };
  expect([wait, sync, tryOpts, prim]).toHaveLength(4);
});

it('LockError.code is a union of string literals, ERR_LOCK_LOST included', () => {
  const codes: LockErrorCode[] = ['EAGAIN', 'ETIMEDOUT', 'EDEADLK', 'ENOTSUP', 'ERR_LOCK_LOST', 'UNKNOWN'];
  // @ts-expect-error not a code a LockError can carry
  const wrong: LockErrorCode = 'NOT_A_CODE';
  const code: LockError['code'] = codes[0]!;
  const conflict: LockConflict | null = null;
  expect([code, wrong, conflict, typeof constants.LOCK_EX]).toEqual(['EAGAIN', 'NOT_A_CODE', null, 'number']);
});
