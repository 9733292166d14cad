// Issue 9 section 4, "Mistakes get errors, not silence": misspelt options, fake
// signals, timeouts that say who holds the lock, holders named by their real pid,
// honest error wording and codes, and primitives that agree with each other. The
// holders are real processes (node agents, python3, util-linux flock).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  constants,
  fcntlGetLockSync,
  fcntlLock,
  fcntlLockSync,
  flock,
  flockSync,
  getLock,
  lock,
  lockSync,
  tryLock,
  LockError,
} from '../dist/index.js';
import { fdCount, procLocks, processAgent, until, useTempFiles, within, thrown } from './helpers.js';

const children: ChildProcess[] = [];
const file = useTempFiles(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function rejection(p: unknown): Promise<NodeJS.ErrnoException> {
  // Bounded: a call that never settles fails with that, not with a runner timeout.
  const settled = await within(
    Promise.resolve(p).then(
      () => null,
      (e: unknown) => ({ e }),
    ),
    'the call neither resolved nor rejected (a rejection was expected)',
  );
  if (settled === null) throw new Error('expected a rejection');
  return settled.e as NodeJS.ErrnoException;
}

describe('unknown option keys throw ERR_INVALID_ARG_VALUE naming the key and the nearest valid one', () => {
  it("lock(f, { timout: 50 }) throws at once instead of waiting forever behind another process's lock", async () => {
    const f = file();
    const holder = await processAgent();
    await holder.ok('tryLock', { path: f, options: { kind: 'ofd' } });
    const fds = fdCount();
    const err = await rejection(lock(f, { kind: 'ofd', timout: 50 } as never));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(err.message).toBe(
      "The argument 'options' is invalid: 'timout' is not an option of lock(); did you mean 'timeout'?",
    );
    expect(fdCount()).toBe(fds);
  });

  it.each([
    [
      'tryLock',
      (p: string) => tryLock(p, { knd: 'ofd' } as never),
      /'knd' is not an option of tryLock\(\); did you mean 'kind'\?/,
    ],
    [
      'lockSync',
      (p: string) => lockSync(p, { Timeout: 5 } as never),
      /'Timeout' is not an option of lockSync\(\); did you mean 'timeout'\?/,
    ],
    [
      'getLock',
      (p: string) => getLock(p, { mdoe: 'shared' } as never),
      /'mdoe' is not an option of getLock\(\); did you mean 'mode'\?/,
    ],
    [
      'lock',
      (p: string) => lock(p, { singal: undefined } as never),
      /'singal' is not an option of lock\(\); did you mean 'signal'\?/,
    ],
    [
      'tryLock',
      (p: string) => tryLock(p, { start: 5 } as never),
      /'start' is not an option of tryLock\(\); did you mean 'range: \{ start \}'\?/,
    ],
    [
      'tryLock',
      (p: string) => tryLock(p, { range: { strat: 1 } } as never),
      /'strat' is not an option of options\.range; did you mean 'start'\?/,
    ],
    [
      'tryLock',
      (p: string) => tryLock(p, { zzzzzz: 1 } as never),
      /'zzzzzz' is not an option of tryLock\(\); valid keys: 'kind', 'mode', 'range', 'create', 'createMode', 'followSymlinks'$/,
    ],
    ['lock', (p: string) => lock(p, { creat: true } as never), /did you mean 'create'\?/],
  ] as const)('%s, case %#', async (_name, call, message) => {
    const p = join(dirname(file()), 'never-created.lock');
    const err = await rejection((async () => call(p))());
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(err.message).toMatch(message);
    expect(existsSync(p)).toBe(false);
  });

  it('every primitive checks its keys, by its own option names', async () => {
    const fd = openSync(file(), 'r+');
    try {
      const cases: [() => unknown, RegExp][] = [
        [
          () => flockSync(fd, 'exclusive', { wiat: true } as never),
          /'wiat' is not an option of flockSync\(\); did you mean 'wait'\?/,
        ],
        [() => flock(fd, 'exclusive', { timeot: 1 } as never), /of flock\(\); did you mean 'timeout'\?/],
        [
          () => fcntlLockSync(fd, { mode: 'shared', lenght: 5 } as never),
          /of fcntlLockSync\(\); did you mean 'length'\?/,
        ],
        [() => fcntlLock(fd, { mode: 'shared', odf: true } as never), /of fcntlLock\(\); did you mean 'ofd'\?/],
        [
          () => fcntlGetLockSync(fd, { range: { start: 1 } } as never),
          /'range' is not an option of fcntlGetLockSync\(\)/,
        ],
      ];
      for (const [call, message] of cases) {
        const err = await rejection((async () => call())());
        expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
        expect(err.message).toMatch(message);
      }
      // Their range errors name their own options (start/length), not options.range.
      expect(thrown(() => fcntlLockSync(fd, { mode: 'shared', start: -1 })).message).toMatch(
        /^The value of "options\.start" is out of range/,
      );
      expect(thrown(() => fcntlGetLockSync(fd, { length: 'x' as never })).message).toMatch(
        /^The "options\.length" argument must be of type number or bigint/,
      );
    } finally {
      closeSync(fd);
    }
  });

  it('the open options of path targets and explicit undefined are accepted', () => {
    const f = file();
    const l = tryLock(f, { kind: undefined, mode: undefined, range: undefined, create: true, followSymlinks: true })!;
    expect(l).not.toBeNull();
    l.release();
  });
});

describe('a signal that is not a real AbortSignal is rejected before any wait starts', () => {
  const fake = { aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} };

  it('lock() with a look-alike signal rejects with ERR_INVALID_ARG_TYPE, not after a wait', async () => {
    const f = file();
    const holder = await processAgent();
    await holder.ok('tryLock', { path: f, options: { kind: 'ofd' } });
    // With the old duck-typed check this waited 300 ms and rejected with ETIMEDOUT.
    const err = await rejection(lock(f, { kind: 'ofd', timeout: 300, signal: fake as never }));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(err.message).toMatch(/"options\.signal" argument must be an instance of AbortSignal/);
    expect(procLocks(f).filter((l) => l.waiting)).toEqual([]);
  });

  it('an object that only inherits from AbortSignal.prototype is rejected too; real signals pass', async () => {
    const fd = openSync(file(), 'r+');
    try {
      const forged = Object.create(AbortSignal.prototype) as AbortSignal;
      for (const signal of [fake, forged]) {
        expect((await rejection(fcntlLock(fd, { mode: 'exclusive', signal: signal as never }))).code).toBe(
          'ERR_INVALID_ARG_TYPE',
        );
        expect((await rejection(flock(fd, 'exclusive', { signal: signal as never }))).code).toBe(
          'ERR_INVALID_ARG_TYPE',
        );
      }
      for (const signal of [new AbortController().signal, AbortSignal.timeout(60_000), AbortSignal.any([])]) {
        await flock(fd, 'exclusive', { signal });
        await flock(fd, 'unlock');
      }
    } finally {
      closeSync(fd);
    }
  });
});

// A named function: its name must appear in the timeout error's stack.
async function callerOfLockThatTimesOut(f: string): Promise<unknown> {
  return await lock(f, { kind: 'ofd', timeout: 200 });
}

async function callerOfFdLockThatTimesOut(fd: number): Promise<unknown> {
  return await lock(fd, { kind: 'ofd', timeout: 100 });
}

describe('a timeout error says how long it waited, who holds the lock, and who called', () => {
  it('lock(): ms, pid and command of the holder (another process), .holders, and the caller in the stack', async () => {
    const f = file();
    const holder = await processAgent();
    await holder.ok('tryLock', { path: f, options: { kind: 'ofd' } });
    const err = (await rejection(callerOfLockThatTimesOut(f))) as LockError;
    expect(err).toBeInstanceOf(LockError);
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.message).toBe(
      `ETIMEDOUT: lock wait timed out after 200 ms (held by pid ${holder.pid} 'node'), fcntl(F_OFD_SETLKW) '${f}'`,
    );
    expect(err.timeout).toBe(200);
    expect(err.holders).toMatchObject([{ pid: holder.pid, kind: 'ofd', mode: 'exclusive', waiting: false }]);
    expect(err.stack).toContain('callerOfLockThatTimesOut');
  });

  it('lock(fd): the caller in the stack too (its wait settles from a timer, outside any await of lock())', async () => {
    const f = file();
    const holder = await processAgent();
    await holder.ok('tryLock', { path: f, options: { kind: 'ofd' } });
    const fd = openSync(f, 'r+');
    try {
      const err = (await rejection(callerOfFdLockThatTimesOut(fd))) as LockError;
      expect(err.code).toBe('ETIMEDOUT');
      expect(err.stack).toMatch(/^Error: ETIMEDOUT: lock wait timed out after 100 ms/);
      expect(err.stack).toContain('callerOfFdLockThatTimesOut');
    } finally {
      closeSync(fd);
    }
  });

  it('the default kind against a python3 flock holder, and lockSync', async () => {
    const f = file();
    const py = spawn(
      'python3',
      [
        '-c',
        'import fcntl,sys; fh = open(sys.argv[1]); fcntl.flock(fh, fcntl.LOCK_SH); print("held", flush=True); sys.stdin.read()',
        f,
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    children.push(py);
    await within(new Promise((r) => py.stdout!.once('data', r)), 'python3 did not print that it holds its flock');
    const err = (await rejection(lock(f, { timeout: 100 }))) as LockError;
    expect(err.message).toBe(
      `ETIMEDOUT: lock wait timed out after 100 ms (held by pid ${py.pid} 'python3'), flock '${f}'`,
    );
    const sync = thrown(() => lockSync(f, { timeout: 50 })) as LockError;
    expect(sync.message).toBe(
      `ETIMEDOUT: lock wait timed out after 50 ms (held by pid ${py.pid} 'python3'), flock '${f}'`,
    );
    expect(sync.holders).toMatchObject([{ pid: py.pid, kind: 'flock', mode: 'shared' }]);
  });
});

describe('a timeout names at most three holders, each once', () => {
  /** A python3 process that runs `code` on the file, prints "held" and waits for stdin to close. */
  async function pythonHolder(f: string, code: string): Promise<number> {
    const py = spawn(
      'python3',
      ['-c', `import fcntl,sys; fh = open(sys.argv[1], 'r+'); ${code}; print("held", flush=True); sys.stdin.read()`, f],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    children.push(py);
    await within(new Promise((r) => py.stdout!.once('data', r)), 'python3 did not print that it holds its lock');
    return py.pid!;
  }

  it('three shared flock holders are all named; five: three named, "2 more"', async () => {
    const f = file();
    const pids: number[] = [];
    for (let i = 0; i < 3; i++) pids.push(await pythonHolder(f, 'fcntl.flock(fh, fcntl.LOCK_SH)'));
    const three = thrown(() => lockSync(f, { timeout: 20 })) as LockError;
    expect(three.message).toMatch(
      /^ETIMEDOUT: lock wait timed out after 20 ms \(held by pid \d+ 'python3', pid \d+ 'python3', pid \d+ 'python3'\), flock '/,
    );
    for (let i = 0; i < 2; i++) pids.push(await pythonHolder(f, 'fcntl.flock(fh, fcntl.LOCK_SH)'));
    const err = thrown(() => lockSync(f, { timeout: 20 })) as LockError;
    expect(new Set(err.holders!.map((h) => h.pid))).toEqual(new Set(pids));
    const named = [...err.message.matchAll(/pid (\d+) 'python3'/g)].map((m) => Number(m[1]));
    expect(named).toHaveLength(3);
    expect(pids).toEqual(expect.arrayContaining(named));
    expect(err.message).toMatch(
      /^ETIMEDOUT: lock wait timed out after 20 ms \(held by (pid \d+ 'python3', ){3}2 more\), flock '/,
    );
  });

  it('one process holding two conflicting ranges is named once', async () => {
    const f = file();
    const pid = await pythonHolder(f, 'fcntl.lockf(fh, fcntl.LOCK_SH, 10, 0); fcntl.lockf(fh, fcntl.LOCK_SH, 10, 20)');
    const err = thrown(() => lockSync(f, { kind: 'posix', timeout: 20 })) as LockError;
    expect(err.holders).toHaveLength(2);
    expect(err.message).toBe(
      `ETIMEDOUT: lock wait timed out after 20 ms (held by pid ${pid} 'python3'), fcntl(F_SETLKW) '${f}'`,
    );
  });
});

describe('getLock names the real pid of OFD and flock holders', () => {
  it('an OFD holder in another process: its pid, not -1', async () => {
    const f = file();
    const holder = await processAgent();
    await holder.ok('tryLock', { path: f, options: { kind: 'ofd', mode: 'shared', range: { start: 2, length: 3 } } });
    expect(getLock(f, { kind: 'ofd' })).toEqual({
      kind: 'ofd',
      mode: 'shared',
      start: 2n,
      length: 3n,
      pid: holder.pid,
    });
    // POSIX asks see OFD holders too (fcntl(2)): also named.
    expect(getLock(f, { kind: 'posix' })).toMatchObject({ pid: holder.pid });
    // The primitive reports what F_OFD_GETLK says.
    const fd = openSync(f, 'r');
    expect(fcntlGetLockSync(fd, { ofd: true })).toMatchObject({ pid: -1 });
    closeSync(fd);
  });

  it('a flock placed by a parent and now held only by its child is named by the child', async () => {
    const f = file();
    // util-linux flock(1) takes the lock, then forks sleep, which inherits it; killing
    // flock(1) leaves the child as the only holder while /proc/locks names the placer.
    const outer = spawn('flock', ['-x', f, 'sleep', '60'], { detached: true });
    children.push(outer);
    await until(() => procLocks(f).length === 1);
    const placer = procLocks(f)[0]!.pid;
    expect(placer).toBe(outer.pid);
    let sleeper = 0;
    await until(() => {
      sleeper = Number(spawnSync('pgrep', ['-P', String(placer)], { encoding: 'utf8' }).stdout.trim() || 0);
      return sleeper > 0;
    });
    outer.kill('SIGKILL');
    await until(() => spawnSync('kill', ['-0', String(placer)]).status !== 0);
    try {
      expect(procLocks(f)[0]!.pid).toBe(placer); // /proc/locks still names the placer
      expect(getLock(f, { kind: 'flock' })).toEqual({
        kind: 'flock',
        mode: 'exclusive',
        start: 0n,
        length: 0n,
        pid: sleeper,
      });
    } finally {
      try {
        process.kill(-outer.pid!, 'SIGKILL');
      } catch {
        /* group gone */
      }
    }
  });
});

describe('errors read true for files and always carry a code', () => {
  it("EOPNOTSUPP from the filesystem reads 'operation not supported', not libuv's socket wording", () => {
    // A filesystem that refuses locks, simulated below libc: flock() fails with
    // EOPNOTSUPP in a child whose libc call is interposed (LD_PRELOAD).
    const dir = dirname(file());
    const so = join(dir, 'eopnotsupp.so');
    const src =
      '#include <errno.h>\nint flock(int fd, int op) { (void)fd; (void)op; errno = EOPNOTSUPP; return -1; }\n';
    const cc = spawnSync('cc', ['-shared', '-fPIC', '-o', so, '-x', 'c', '-'], { input: src });
    expect(cc.status).toBe(0);
    const script = `
      const s = require(${JSON.stringify(join(process.cwd(), 'dist/index.js'))});
      const fd = require('fs').openSync(${JSON.stringify(file())}, 'r');
      try { s.flockSync(fd, 'exclusive'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const r = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, LD_PRELOAD: so },
      encoding: 'utf8',
    });
    expect(JSON.parse(r.stdout)).toEqual({ code: 'ENOTSUP', message: 'ENOTSUP: operation not supported, flock' });
  });

  it('codes for errnos libuv cannot name, and descriptions without socket words', () => {
    const stale = new (LockError as unknown as new (...a: unknown[]) => LockError)(-116, 'fcntl(F_SETLK)', '/x');
    expect(stale).toMatchObject({ code: 'ESTALE', message: "ESTALE: stale file handle, fcntl(F_SETLK) '/x'" });
    const unknown = new (LockError as unknown as new (...a: unknown[]) => LockError)(-4242, 'flock');
    expect(unknown.code).toBe('UNKNOWN');
  });
});

describe('the primitives agree with each other', () => {
  it("async flock(fd, 'unlock') releases like fcntlLock(fd, { mode: 'unlock' }), seen by flock(1)", async () => {
    const f = file();
    const fd = openSync(f, 'r+');
    try {
      await flock(fd, 'exclusive');
      expect(spawnSync('flock', ['-n', f, 'true']).status).toBe(1);
      await flock(fd, 'unlock');
      expect(spawnSync('flock', ['-n', f, 'true']).status).toBe(0);
    } finally {
      closeSync(fd);
    }
  });

  it("constants are the platform's own values (as python3's fcntl module has them)", () => {
    const names = [
      'LOCK_SH',
      'LOCK_EX',
      'LOCK_UN',
      'LOCK_NB',
      'F_RDLCK',
      'F_WRLCK',
      'F_UNLCK',
      'F_SETLK',
      'F_SETLKW',
      'F_GETLK',
      'F_OFD_SETLK',
      'F_OFD_SETLKW',
      'F_OFD_GETLK',
    ] as const;
    const py = spawnSync(
      'python3',
      ['-c', `import fcntl, json; print(json.dumps({n: getattr(fcntl, n) for n in ${JSON.stringify(names)}}))`],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(py.stdout)).toEqual(Object.fromEntries(names.map((n) => [n, constants[n]])));
    expect(Object.isFrozen(constants)).toBe(true);
  });
});
