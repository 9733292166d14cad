// Bad input throws TypeError/RangeError with Node's codes before any syscall: the
// path given is never created, and no fd is opened.
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fcntlLockSync, flockSync, getLock, lock, lockSync, tryLock, capabilities } from '../dist/index.js';
import { fdCount, procLocks, useTempFiles } from './helpers.js';

const file = useTempFiles();
/** Every lock this process holds: its POSIX locks in /proc/locks and the `lock:` lines of its fds (flock, OFD). */
function locksOfThisProcess(): string[] {
  const posix = readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .filter((l) => new RegExp(`^\\d+:\\s+POSIX\\s+\\S+\\s+\\S+\\s+${process.pid}\\s`).test(l));
  const perFd = readdirSync('/proc/self/fdinfo').flatMap((fd) => {
    try {
      return readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('lock:'))
        .map((l) => `fd ${fd}: ${l}`);
    } catch {
      return []; // the fd of the readdir itself is gone by now
    }
  });
  return [...posix, ...perFd].map((l) => l.replace(/^(fd \d+: )?(lock:\s*)?\d+:/, '$1'));
}

function missingPath(): string {
  return join(dirname(file()), 'never-created.lock');
}

interface Case {
  name: string;
  target?: unknown;
  options?: unknown;
  cls: typeof TypeError | typeof RangeError;
  code: string;
  message: RegExp;
}

const P = '<path>';
const cases: Case[] = [
  {
    name: 'non-integer fd',
    target: 1.5,
    cls: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message:
      /^The value of "target" is out of range\. It must be an integer >= 0 and <= 2147483647\. Received type number \(1\.5\)$/,
  },
  {
    name: 'negative fd',
    target: -1,
    cls: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /"target" is out of range.*Received type number \(-1\)/,
  },
  { name: 'NaN fd', target: NaN, cls: RangeError, code: 'ERR_OUT_OF_RANGE', message: /Received type number \(NaN\)/ },
  {
    name: 'Infinity fd',
    target: Infinity,
    cls: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /Received type number \(Infinity\)/,
  },
  {
    name: 'fd in an object, negative',
    target: { fd: -3 },
    cls: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /"target\.fd" is out of range/,
  },
  {
    name: 'target of a wrong type',
    target: true,
    cls: TypeError,
    code: 'ERR_INVALID_ARG_TYPE',
    message:
      /^The "target" argument must be a path string, a file descriptor number or an object with an fd\. Received type boolean \(true\)$/,
  },
  {
    name: 'empty path',
    target: '',
    cls: TypeError,
    code: 'ERR_INVALID_ARG_VALUE',
    message: /'target' must be a non-empty path/,
  },
  {
    name: 'path with a null byte',
    target: 'a\0b',
    cls: TypeError,
    code: 'ERR_INVALID_ARG_VALUE',
    message: /without null bytes/,
  },
  {
    name: 'negative start',
    target: P,
    options: { kind: 'ofd', range: { start: -1 } },
    cls: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /"options\.range\.start" is out of range.*Received type number \(-1\)/,
  },
  {
    name: 'start beyond 2^53 as a number',
    target: P,
    options: { kind: 'ofd', range: { start: 2 ** 60 } },
    cls: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /use a bigint beyond 2\^53/,
  },
  {
    name: 'bigint beyond int64',
    target: P,
    options: { kind: 'posix', range: { start: 2n ** 63n } },
    cls: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /<= 9223372036854775807\. Received type bigint \(9223372036854775808n\)/,
  },
  {
    name: 'range end beyond int64',
    target: P,
    options: { kind: 'posix', range: { start: 2n ** 62n, length: 2n ** 62n + 1n } },
    cls: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /"options\.range" is out of range/,
  },
  {
    name: 'negative length',
    target: P,
    options: { kind: 'ofd', range: { length: -5 } },
    cls: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /options\.range\.length/,
  },
  // POSIX allows a negative l_len (fcntl(2): "If l_len is negative, the interval
  // described by lock covers bytes l_start+l_len up to and including l_start-1"), so the
  // kernel would grant bytes 5-9 here: the library must refuse it first.
  {
    name: 'negative length as a bigint',
    target: P,
    options: { kind: 'posix', range: { start: 10n, length: -5n } },
    cls: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /"options\.range\.length" is out of range.*Received type bigint \(-5n\)/,
  },
  {
    name: 'negative start as a bigint',
    target: P,
    options: { kind: 'ofd', range: { start: -1n, length: 1n } },
    cls: RangeError,
    code: 'ERR_OUT_OF_RANGE',
    message: /"options\.range\.start" is out of range.*Received type bigint \(-1n\)/,
  },
  {
    name: 'string offset',
    target: P,
    options: { kind: 'ofd', range: { start: '5' } },
    cls: TypeError,
    code: 'ERR_INVALID_ARG_TYPE',
    message: /"options\.range\.start" argument must be of type number or bigint/,
  },
  {
    name: 'unknown kind',
    target: P,
    options: { kind: 'lockf' },
    cls: TypeError,
    code: 'ERR_INVALID_ARG_VALUE',
    message:
      /^The argument 'options\.kind' must be one of 'auto', 'flock', 'posix', 'ofd', 'windows'\. Received type string \('lockf'\)$/,
  },
  {
    name: 'unknown mode',
    target: P,
    options: { mode: 'write' },
    cls: TypeError,
    code: 'ERR_INVALID_ARG_VALUE',
    message: /'options\.mode' must be 'shared' or 'exclusive'/,
  },
  {
    name: 'a kind this platform lacks',
    target: P,
    options: { kind: 'windows' },
    cls: TypeError,
    code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
    message: /^Lock kind 'windows' is unavailable on this platform \(linux\)$/,
  },
  {
    name: 'a byte range with flock',
    target: P,
    options: { kind: 'flock', range: { start: 0, length: 10 } },
    cls: TypeError,
    code: 'ERR_INVALID_ARG_VALUE',
    message: /locks whole files only/,
  },
  {
    name: 'options not an object',
    target: P,
    options: 'exclusive',
    cls: TypeError,
    code: 'ERR_INVALID_ARG_TYPE',
    message: /"options" argument must be of type object/,
  },
];

describe.each(['tryLock', 'lockSync', 'getLock', 'lock'] as const)('%s rejects bad input before any syscall', (fn) => {
  it.each(cases)('$name', async (c) => {
    const path = missingPath();
    const target = c.target === P ? path : c.target;
    const fds = fdCount();
    const locksBefore = locksOfThisProcess();
    let err: unknown;
    try {
      const call = { tryLock, lockSync, getLock, lock }[fn] as (t: unknown, o: unknown) => unknown;
      await call(target, c.options);
    } catch (e) {
      err = e;
    }
    // No lock appeared anywhere (an fd that slipped through, 1.5 taken as fd 1 say, would
    // be locked), and a path target was never opened.
    expect(locksOfThisProcess()).toEqual(locksBefore);
    if (c.target === P) expect(existsSync(path)).toBe(false);
    expect(err).toBeInstanceOf(c.cls);
    expect((err as NodeJS.ErrnoException).code).toBe(c.code);
    expect((err as Error).message).toMatch(c.message);
    expect(fdCount()).toBe(fds);
  });
});

describe('a negative bigint range on an open fd of a real file', () => {
  // The kernel would take these (a negative l_len is valid POSIX); only /proc/locks and
  // fdinfo can show whether a syscall happened, so they must show nothing.
  const negatives = [
    { start: 10n, length: -5n },
    { start: -1n, length: 1n },
    { start: -10n, length: 5n },
  ];
  const calls: [string, (fd: number, range: { start: bigint; length: bigint }) => unknown][] = [
    ['tryLock posix', (fd, range) => tryLock(fd, { kind: 'posix', range })],
    ['tryLock ofd', (fd, range) => tryLock(fd, { kind: 'ofd', range })],
    ['lockSync posix', (fd, range) => lockSync(fd, { kind: 'posix', range })],
    ['lock posix', (fd, range) => lock(fd, { kind: 'posix', range })],
    ['getLock posix', (fd, range) => getLock(fd, { kind: 'posix', range })],
    ['fcntlLockSync', (fd, range) => fcntlLockSync(fd, { mode: 'exclusive', ...range })],
    ['fcntlLockSync ofd', (fd, range) => fcntlLockSync(fd, { mode: 'shared', ofd: true, ...range })],
  ];
  it.each(calls)('%s throws RangeError and no lock appears', async (_, call) => {
    const f = file();
    const fd = openSync(f, 'r+');
    try {
      for (const range of negatives) {
        let err: unknown;
        try {
          await call(fd, range);
        } catch (e) {
          err = e;
        }
        const what = `range ${range.start}/${range.length}`;
        expect(procLocks(f), what).toEqual([]);
        expect(locksOfThisProcess(), what).toEqual([]);
        expect(err, what).toBeInstanceOf(RangeError);
        expect(err).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      }
    } finally {
      closeSync(fd);
    }
  });
});

describe('wait options', () => {
  it.each([
    [{ timeout: -1 }, RangeError, 'ERR_OUT_OF_RANGE', /"options\.timeout" is out of range/],
    [{ timeout: NaN }, RangeError, 'ERR_OUT_OF_RANGE', /"options\.timeout"/],
    [{ timeout: '10' }, TypeError, 'ERR_INVALID_ARG_TYPE', /"options\.timeout" argument must be of type number/],
    [
      { signal: {} },
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      /"options\.signal" argument must be an instance of AbortSignal/,
    ],
  ] as const)('lock(%o)', async (options, cls, code, message) => {
    const path = missingPath();
    const err = await lock(path, options as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect((err as NodeJS.ErrnoException).code).toBe(code);
    expect((err as Error).message).toMatch(message);
    expect(existsSync(path)).toBe(false);
  });

  it('lockSync validates its timeout too', () => {
    const path = missingPath();
    expect(() => lockSync(path, { timeout: -5 })).toThrow(RangeError);
    expect(existsSync(path)).toBe(false);
  });
});

describe('primitives', () => {
  it('validate fd, operation and mode', () => {
    expect(() => flockSync(-1, 'exclusive')).toThrow(RangeError);
    expect(() => flockSync(0, 'upgrade' as never)).toThrow(/'operation' must be 'shared', 'exclusive' or 'unlock'/);
    expect(() => fcntlLockSync(0, { mode: 'write' as never })).toThrow(TypeError);
    expect(() => fcntlLockSync(0, { mode: 'shared', start: -1 })).toThrow(RangeError);
  });

  it('calls shaped like the hot path (lib/hot_path.ts) still reject bad arguments before any syscall', () => {
    const f = file();
    const fd = openSync(f, 'r+');
    try {
      // Each would take a lock on `fd` if it got past the checks.
      expect(() => fcntlLockSync(fd, { mode: 'exclusive', ofdd: true } as never)).toThrow(
        /'ofdd' is not an option of fcntlLockSync\(\); did you mean 'ofd'\?/,
      );
      expect(() => fcntlLockSync(fd, { mode: 'exclusive', wait: true, timeout: -1 })).toThrow(RangeError);
      expect(() => fcntlLockSync(fd + 0.5, { mode: 'exclusive' })).toThrow(RangeError);
      expect(() => fcntlLockSync(2 ** 31 + fd, { mode: 'exclusive' })).toThrow(RangeError);
      expect(() => fcntlLockSync(String(fd) as never, { mode: 'exclusive' })).toThrow(TypeError);
      expect(() => fcntlLockSync(fd, null as never)).toThrow(TypeError);
      expect(() => flockSync(fd, 'exclusive', { wiat: true } as never)).toThrow(/did you mean 'wait'\?/);
      expect(() => flockSync(fd, 'exclusive', { timeout: NaN })).toThrow(RangeError);
      expect(() => flockSync(fd + 0.5, 'exclusive')).toThrow(RangeError);
      expect(() => flockSync(fd, 'EXCLUSIVE' as never)).toThrow(TypeError);
      expect(procLocks(f)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });

  it('errors from the kernel look like fs errors: code, errno, syscall, message', () => {
    let err: NodeJS.ErrnoException | undefined;
    try {
      flockSync(987, 'exclusive');
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      code: 'EBADF',
      errno: -9,
      syscall: 'flock',
      message: 'EBADF: bad file descriptor, flock',
    });
  });

  it('a path error carries the path, like fs', () => {
    const dir = dirname(file());
    const err = (() => {
      try {
        getLock(join(dir, 'missing'), { kind: 'ofd' });
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
    })();
    expect(err).toMatchObject({ code: 'ENOENT', path: join(dir, 'missing') });
  });

  it('capabilities() reports the kinds this kernel offers', () => {
    expect(capabilities()).toEqual({ platform: 'linux', flock: true, posix: true, ofd: true, windows: false });
  });
});
