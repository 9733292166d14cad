// lib/errors.ts in one process, each observable a StrykerJS run found unasserted
// (docs/TESTING.md): the descriptions that replace libuv's (checked against strerror(3)
// through python3, a tool this library did not write), errno numbers libuv cannot name,
// which own properties a LockError has, and how a bad argument is described (the
// "Received ..." tail Node's own ERR_INVALID_ARG_TYPE uses).
import { execFileSync } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AbortError, CONTENTION_CODE, LockError, TIMEOUT_CODE } from '../dist/index.js';
import {
  ECANCELED_ERRNO,
  EDEADLK_ERRNO,
  errnoOf,
  invalidArgType,
  invalidArgValue,
  outOfRange,
  unavailable,
} from '../dist/errors.js';

/** python3's `os.strerror` and `errno` values for names: what glibc says, not us. */
function strerror(names: string[]): Record<string, { errno: number; text: string }> {
  const out = execFileSync(
    'python3',
    [
      '-c',
      'import errno,os,sys,json; print(json.dumps({n: [getattr(errno,n), os.strerror(getattr(errno,n))] for n in sys.argv[1:]}))',
      ...names,
    ],
    { encoding: 'utf8' },
  );
  const parsed = JSON.parse(out) as Record<string, [number, string]>;
  return Object.fromEntries(Object.entries(parsed).map(([n, [errno, text]]) => [n, { errno, text }]));
}

describe('LockError', () => {
  // libuv words ETIMEDOUT for sockets ("connection timed out"); a lock wait says "timed out".
  const STRERROR_WORDED = ['EDEADLK', 'ENOLCK', 'ESTALE', 'EOVERFLOW', 'ENOTSUP', 'EOPNOTSUPP', 'ENOTCONN'];

  it.each(STRERROR_WORDED)('%s reads as strerror(3) says, with the errno libuv would report', (name) => {
    const { errno, text } = strerror([name])[name]!;
    const err = new LockError(-errno, 'fcntl(F_SETLKW)', '/some/file');
    expect(err.code).toBe(name === 'EOPNOTSUPP' && errnoOf('ENOTSUP') === -errno ? err.code : name);
    expect(err.errno).toBe(-errno);
    expect(err.message).toBe(`${err.code}: ${text.toLowerCase()}, fcntl(F_SETLKW) '/some/file'`);
  });

  it('ETIMEDOUT reads "timed out", not the socket wording', () => {
    const err = new LockError(errnoOf('ETIMEDOUT'), 'flock');
    expect(err.message).toBe('ETIMEDOUT: timed out, flock');
  });

  it("an errno only libuv names (no os.constants entry) keeps libuv's name and text", () => {
    // EREMOTEIO: what a network filesystem may answer; os.constants.errno lacks it.
    const err = new LockError(-121, 'fcntl(F_SETLK)');
    expect(err).toMatchObject({ code: 'EREMOTEIO', errno: -121 });
    expect(err.message).toBe('EREMOTEIO: remote I/O error, fcntl(F_SETLK)');
  });

  it('an errno nobody can name is UNKNOWN with its number', () => {
    const err = new LockError(-98765, 'flock');
    expect(err).toMatchObject({ code: 'UNKNOWN', errno: -98765 });
    expect(err.message).toBe('UNKNOWN: unknown error -98765, flock');
  });

  it('errno numbers libuv has no code for come from the OS table', () => {
    const py = strerror(['EDEADLK', 'ENOLCK', 'EAGAIN', 'ECANCELED']);
    expect(EDEADLK_ERRNO).toBe(-py.EDEADLK!.errno);
    expect(errnoOf('EDEADLK')).toBe(-py.EDEADLK!.errno);
    expect(errnoOf('ENOLCK')).toBe(-py.ENOLCK!.errno);
    expect(errnoOf('EAGAIN')).toBe(-py.EAGAIN!.errno);
    expect(ECANCELED_ERRNO).toBe(-py.ECANCELED!.errno);
    expect(new LockError(EDEADLK_ERRNO, 'fcntl(F_SETLKW)').code).toBe('EDEADLK');
    // A name the OS table does not list at all.
    expect(errnoOf('ENOSUCHERRNO' as keyof typeof osConstants.errno)).toBe(-0);
  });

  it('has path and winerror only when there is one, and is named like an fs error', () => {
    const bare = new LockError(errnoOf('EBADF'), 'flock');
    expect(Object.keys(bare).sort()).toEqual(['code', 'errno', 'syscall']);
    expect('path' in bare).toBe(false);
    expect(bare.message).toBe('EBADF: bad file descriptor, flock');
    const withPath = new LockError(errnoOf('EBADF'), 'flock', '', 0);
    expect(Object.keys(withPath).sort()).toEqual(['code', 'errno', 'path', 'syscall']);
    expect(withPath.message).toBe("EBADF: bad file descriptor, flock ''");
    const windows = new LockError(errnoOf('EAGAIN'), 'LockFileEx', 'C:\\f', 33);
    expect(windows.winerror).toBe(33);
    expect(bare.name).toBe('Error');
    expect(String(bare)).toBe('Error: EBADF: bad file descriptor, flock');
  });

  it('exports the contention and timeout codes', () => {
    expect(CONTENTION_CODE).toBe('EAGAIN');
    expect(TIMEOUT_CODE).toBe('ETIMEDOUT');
  });
});

describe('AbortError', () => {
  it('has Node’s default message, name and code, and keeps its cause', () => {
    const plain = new AbortError();
    expect(plain.message).toBe('The operation was aborted');
    expect(String(plain)).toBe('AbortError: The operation was aborted');
    expect(plain.code).toBe('ABORT_ERR');
    const reason = new Error('why');
    expect(new AbortError(undefined, { cause: reason }).cause).toBe(reason);
  });
});

describe('how a bad argument is described', () => {
  class Custom {}
  function named(): void {}
  const VALUES: [string, unknown][] = [
    ['null', null],
    ['undefined', undefined],
    ['a bigint', 5n],
    ['a number', 1.5],
    ['minus zero', -0],
    ['NaN', NaN],
    ['a string of 28', 'x'.repeat(28)],
    ['a string of 29', 'y'.repeat(29)],
    ["a string with a '", "it's"],
    ['a named function', named],
    ['an arrow function', () => 0],
    ['a class instance', new Custom()],
    ['an object without prototype', Object.create(null) as object],
    ['an object whose constructor is not a function', { constructor: { name: 'Fake' } }],
    ['a boolean', false],
    ['a symbol', Symbol('s')],
    ['a symbol shown in 28 characters', Symbol('s'.repeat(20))],
    ['a symbol shown in 29 characters', Symbol('s'.repeat(21))],
    ['a bigint of 40 digits', 10n ** 39n],
    ['a number of 24 characters', -1.2345678901234567e-300],
    ['true', true],
    ['Infinity', -Infinity],
    ['a nested object without prototype', Object.assign(Object.create(null) as object, { a: { b: 1 } })],
    ['an instance of an anonymous class', new (class {})()],
  ];

  /** Node's own message for `value` where a string is required (path.join validates). */
  function nodeReceived(value: unknown): string {
    try {
      if (typeof value === 'string') Buffer.alloc(value as unknown as number);
      else join(value as string);
    } catch (e) {
      const message = (e as Error).message;
      return message.slice(message.indexOf('Received '));
    }
    throw new Error('Node accepted the value');
  }

  it.each(VALUES)('%s reads as Node would describe it', (_what, value) => {
    const ours = invalidArgType('fd', 'of type number', value).message;
    expect(ours).toBe(`The "fd" argument must be of type number. ${nodeReceived(value)}`);
  });

  it('the wording, spelled out for a few values', () => {
    const received = (v: unknown): string => invalidArgType('x', 'y', v).message.split('. Received ')[1]!;
    expect(received('y'.repeat(29))).toBe(`type string ('${'y'.repeat(25)}...')`);
    expect(received('x'.repeat(28))).toBe(`type string ('${'x'.repeat(28)}')`);
    expect(received(new Custom())).toBe('an instance of Custom');
    expect(received(named)).toBe('function named');
    expect(received(-0)).toBe('type number (-0)');
    expect(received(Object.create(null))).toBe('[Object: null prototype] {}');
    // Node's own test (`'name' in value.constructor`) throws a TypeError here.
    expect(received({ constructor: 5 })).toBe('[Object]');
  });

  it('the other argument errors carry Node’s codes', () => {
    expect(invalidArgValue('mode', "must be 'shared' or 'exclusive'", 'x')).toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: "The argument 'mode' must be 'shared' or 'exclusive'. Received type string ('x')",
    });
    expect(outOfRange('timeout', '>= 0', -1)).toMatchObject({
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: 'The value of "timeout" is out of range. It must be >= 0. Received type number (-1)',
    });
    expect(unavailable('kind "windows"')).toMatchObject({
      name: 'TypeError',
      code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
      message: `kind "windows" is unavailable on this platform (${process.platform})`,
    });
  });
});
