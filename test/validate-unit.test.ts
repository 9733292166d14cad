// The argument checks of lib/validate.ts one by one, through dist/validate.js: exact
// error classes, codes and wording at every boundary, so that a check that is weakened
// (a `<` for a `<=`, a type test dropped, a suggestion that is never made) fails here.
// StrykerJS found these gaps (docs/TESTING.md); the public entry points are covered by
// test/validation.test.ts and test/mistakes.test.ts.
import { describe, expect, it } from 'vitest';
import {
  MAX_OFFSET,
  MAX_TIMEOUT,
  validateFd,
  validateKind,
  validateMode,
  validateOptions,
  validateRange,
  validateSignal,
  validateTarget,
  validateTimeout,
} from '../dist/validate.js';

/** The error `f` throws, checked for class and code. */
function thrown(f: () => unknown, cls: typeof TypeError | typeof RangeError, code: string): Error {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(cls);
  expect((err as NodeJS.ErrnoException).code).toBe(code);
  return err as Error;
}

describe('validateFd', () => {
  it('takes 0 and 2^31-1, the ends of the range', () => {
    expect(validateFd(0)).toBe(0);
    expect(validateFd(2 ** 31 - 1)).toBe(2 ** 31 - 1);
  });
  it('refuses -1, 2^31 and 1.5 as out of range, naming the argument', () => {
    for (const bad of [-1, 2 ** 31, 1.5]) {
      expect(thrown(() => validateFd(bad), RangeError, 'ERR_OUT_OF_RANGE').message).toBe(
        `The value of "fd" is out of range. It must be an integer >= 0 and <= 2147483647. Received type number (${bad})`,
      );
    }
  });
  it('refuses a non-number by type, with the name it is given', () => {
    expect(thrown(() => validateFd('3'), TypeError, 'ERR_INVALID_ARG_TYPE').message).toBe(
      `The "fd" argument must be of type number. Received type string ('3')`,
    );
    expect(thrown(() => validateFd(3n, 'target.fd'), TypeError, 'ERR_INVALID_ARG_TYPE').message).toMatch(
      /^The "target\.fd" argument must be of type number/,
    );
  });
});

describe('validateTarget', () => {
  it('a path, an fd, an object with an fd', () => {
    expect(validateTarget('/tmp/x')).toEqual({ path: '/tmp/x' });
    expect(validateTarget(4)).toEqual({ fd: 4 });
    expect(validateTarget({ fd: 5 })).toEqual({ fd: 5 });
  });
  it('refuses an empty path, a NUL byte, and anything else by type', () => {
    expect(thrown(() => validateTarget(''), TypeError, 'ERR_INVALID_ARG_VALUE').message).toMatch(
      /^The argument 'target' must be a non-empty path/,
    );
    expect(thrown(() => validateTarget('a\0b'), TypeError, 'ERR_INVALID_ARG_VALUE').message).toMatch(
      /^The argument 'target' must be a string without null bytes/,
    );
    for (const bad of [true, 5n, null, undefined, {}]) {
      expect(thrown(() => validateTarget(bad), TypeError, 'ERR_INVALID_ARG_TYPE').message).toMatch(
        /^The "target" argument must be a path string, a file descriptor number or an object with an fd/,
      );
    }
    expect(thrown(() => validateTarget({ fd: -1 }), RangeError, 'ERR_OUT_OF_RANGE').message).toMatch(/"target\.fd"/);
  });
});

describe('validateKind and validateMode', () => {
  it('defaults, and every valid value', () => {
    expect(validateKind(undefined)).toBe('auto');
    for (const k of ['auto', 'flock', 'posix', 'ofd', 'windows']) expect(validateKind(k)).toBe(k);
    expect(validateMode(undefined)).toBe('exclusive');
    expect(validateMode('shared')).toBe('shared');
  });
  it('a non-string is a type error, an unknown string a value error', () => {
    expect(thrown(() => validateKind(1), TypeError, 'ERR_INVALID_ARG_TYPE').message).toMatch(
      /^The "options\.kind" argument must be of type string/,
    );
    expect(thrown(() => validateKind('fcntl'), TypeError, 'ERR_INVALID_ARG_VALUE').message).toMatch(/options\.kind/);
    expect(thrown(() => validateMode(1), TypeError, 'ERR_INVALID_ARG_TYPE').message).toMatch(
      /^The "options\.mode" argument must be of type string/,
    );
    expect(thrown(() => validateMode('read'), TypeError, 'ERR_INVALID_ARG_VALUE').message).toMatch(
      /^The argument 'options\.mode' must be 'shared' or 'exclusive'/,
    );
  });
});

describe('validateRange', () => {
  it('takes 0 and 2^63-1 as bigints, and safe integers as numbers', () => {
    expect(validateRange({ start: 0n, length: MAX_OFFSET })).toEqual({ start: 0n, length: MAX_OFFSET });
    expect(validateRange({ start: MAX_OFFSET })).toEqual({ start: MAX_OFFSET, length: 0n });
    expect(validateRange({ start: MAX_OFFSET, length: 1n })).toEqual({ start: MAX_OFFSET, length: 1n }); // ends at 2^63-1
    expect(validateRange({ start: Number.MAX_SAFE_INTEGER, length: 0 })).toEqual({
      start: BigInt(Number.MAX_SAFE_INTEGER),
      length: 0n,
    });
    expect(validateRange(undefined)).toEqual({ start: 0n, length: 0n });
  });
  it('refuses -1n and 2^63 as bigints, with the bounds in the message', () => {
    for (const bad of [-1n, MAX_OFFSET + 1n]) {
      expect(thrown(() => validateRange({ start: bad }), RangeError, 'ERR_OUT_OF_RANGE').message).toBe(
        `The value of "options.range.start" is out of range. It must be >= 0 and <= ${MAX_OFFSET}. Received type bigint (${bad}n)`,
      );
    }
  });
  it('refuses a range that ends past 2^63-1, and a range that is not an object', () => {
    expect(
      thrown(() => validateRange({ start: MAX_OFFSET, length: 2n }), RangeError, 'ERR_OUT_OF_RANGE').message,
    ).toMatch(/^The value of "options\.range" is out of range\. It must be a range ending at or before byte /);
    for (const bad of [null, 5, 'x']) {
      expect(thrown(() => validateRange(bad), TypeError, 'ERR_INVALID_ARG_TYPE').message).toMatch(
        /^The "options\.range" argument must be of type object/,
      );
    }
    expect(thrown(() => validateRange({ start: '1' }), TypeError, 'ERR_INVALID_ARG_TYPE').message).toMatch(
      /^The "options\.range\.start" argument must be of type number or bigint/,
    );
  });
});

describe('validateTimeout', () => {
  it('undefined and Infinity wait forever (-1); 0 and 2^31-1 are kept; fractions are floored', () => {
    expect(validateTimeout(undefined)).toBe(-1);
    expect(validateTimeout(Infinity)).toBe(-1);
    expect(validateTimeout(0)).toBe(0);
    expect(validateTimeout(MAX_TIMEOUT)).toBe(MAX_TIMEOUT);
    expect(validateTimeout(2.9)).toBe(2);
  });
  it('refuses -1, 2^31 and NaN as out of range, and a string by type', () => {
    for (const bad of [-1, MAX_TIMEOUT + 1, NaN]) {
      expect(thrown(() => validateTimeout(bad), RangeError, 'ERR_OUT_OF_RANGE').message).toBe(
        `The value of "options.timeout" is out of range. It must be >= 0 and <= ${MAX_TIMEOUT}, or Infinity. Received type number (${bad})`,
      );
    }
    expect(thrown(() => validateTimeout('5'), TypeError, 'ERR_INVALID_ARG_TYPE').message).toMatch(/options\.timeout/);
  });
});

describe('validateSignal', () => {
  it('a real AbortSignal passes; null, a string and a look-alike do not', () => {
    const signal = new AbortController().signal;
    expect(validateSignal(signal)).toBe(signal);
    expect(validateSignal(undefined)).toBeUndefined();
    for (const bad of [null, 'abort', { aborted: false, addEventListener() {} }]) {
      expect(thrown(() => validateSignal(bad), TypeError, 'ERR_INVALID_ARG_TYPE').message).toMatch(
        /^The "options\.signal" argument must be an instance of AbortSignal/,
      );
    }
  });
});

describe('validateOptions: the suggestion for an unknown key', () => {
  const hint = (options: object, of: Parameters<typeof validateOptions>[1] = 'lock'): string =>
    thrown(() => validateOptions(options, of), TypeError, 'ERR_INVALID_ARG_VALUE').message.replace(/^.*; /, '');

  it('a transposition counts as one edit', () => {
    expect(hint({ mdoe: 1 }, 'getLock')).toBe("did you mean 'mode'?"); // 2 edits without it: too far for 4 letters
    expect(hint({ tiemout: 1 })).toBe("did you mean 'timeout'?");
    // A transposition plus two substitutions is three edits: too far for 4 letters.
    expect(hint({ omxx: 1 }, 'getLock')).toBe("valid keys: 'kind', 'mode', 'range'");
  });
  it('the tolerance grows with the key: 1 edit up to 5 letters, 2 from 6, 3 from 9, never more', () => {
    expect(hint({ mnde: 1 }, 'getLock')).toBe("did you mean 'mode'?"); // 1 edit, 4 letters
    expect(hint({ mdx: 1 }, 'getLock')).toBe("valid keys: 'kind', 'mode', 'range'"); // 2 edits, 3 letters
    expect(hint({ tymout: 1 })).toBe("did you mean 'timeout'?"); // 2 edits, 6 letters
    expect(hint({ folowSymlnk: 1 })).toBe("did you mean 'followSymlinks'?"); // 3 edits, 11 letters
    expect(hint({ fllowSymlnkXYZ: 1 })).toMatch(/^valid keys: /); // 4 edits, 14 letters
  });
  it('between two options equally close, the first in the list', () => {
    expect(hint({ createMo: 1 })).toBe("did you mean 'create'?"); // 2 from 'create' and from 'createMode'
  });
  it('start and length point into range for the high-level calls, not for the primitives', () => {
    expect(hint({ length: 1 }, 'tryLock')).toBe("did you mean 'range: { length }'?");
    expect(hint({ strt: 1 }, 'fcntlLockSync')).toBe("did you mean 'start'?");
  });
  it('a key far from every option lists the valid keys', () => {
    expect(hint({ q: 1 }, 'flock')).toBe("valid keys: 'timeout', 'signal'");
  });
  it('a non-object is refused by type, named by the caller', () => {
    expect(thrown(() => validateOptions(5, 'lock'), TypeError, 'ERR_INVALID_ARG_TYPE').message).toMatch(
      /^The "options" argument must be of type object/,
    );
    expect(validateOptions(undefined, 'lock')).toEqual({});
  });
});
