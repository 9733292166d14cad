// Cross-checks with tools nobody here wrote: util-linux flock(1) and lslocks(8),
// python3's fcntl module. A lock taken by syslocks is seen by them, and theirs by
// syslocks, for all three kinds.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getLock, lock, tryLock, type LockKind } from '../dist/index.js';
import { procLocks, until, useTempFiles, within } from './helpers.js';

const children: ChildProcess[] = [];
const file = useTempFiles(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

// python3's fcntl: flock(), lockf() (= POSIX record locks), and F_OFD_SETLK through
// fcntl() with a packed struct flock (x86_64/aarch64 glibc layout: hhqqi + padding).
const PY_LOCK = `
import fcntl, os, struct, sys
path, kind, mode, action = sys.argv[1:5]
fd = os.open(path, os.O_RDWR)
ex = mode == 'exclusive'
try:
    if kind == 'flock':
        fcntl.flock(fd, (fcntl.LOCK_EX if ex else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    elif kind == 'posix':
        fcntl.lockf(fd, (fcntl.LOCK_EX if ex else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    else:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack('hhqqi4x', fcntl.F_WRLCK if ex else fcntl.F_RDLCK, 0, 0, 0, 0))
except OSError as e:
    print('busy' if e.errno in (11, 13) else 'error %d' % e.errno, flush=True)
    sys.exit(0)
print('held', flush=True)
if action == 'hold':
    sys.stdin.read()
`;

function pyTry(path: string, kind: LockKind, mode = 'exclusive'): string {
  const r = spawnSync('python3', ['-c', PY_LOCK, path, kind, mode, 'try'], { encoding: 'utf8' });
  return r.stdout.trim();
}

async function pyHold(path: string, kind: LockKind, mode = 'exclusive'): Promise<ChildProcess> {
  const child = spawn('python3', ['-c', PY_LOCK, path, kind, mode, 'hold'], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const line = await within(
    new Promise<string>((r) => child.stdout!.once('data', (d: Buffer) => r(d.toString().trim()))),
    `python3 did not print whether it holds the ${mode} ${kind} lock`,
  );
  expect(line).toBe('held');
  return child;
}

describe.each<LockKind>(['flock', 'posix', 'ofd'])('python3 fcntl module, kind %s', (kind) => {
  it('sees a syslocks lock as busy, and is granted after release', () => {
    const f = file();
    const l = tryLock(f, { kind })!;
    expect(pyTry(f, kind)).toBe('busy');
    l.release();
    expect(pyTry(f, kind)).toBe('held');
  });

  it('its lock is seen by tryLock and getLock', async () => {
    const f = file();
    const py = await pyHold(f, kind, 'shared');
    expect(tryLock(f, { kind })).toBeNull();
    const shared = tryLock(f, { kind, mode: 'shared' });
    expect(shared).not.toBeNull();
    shared!.release();
    expect(getLock(f, { kind })).toMatchObject({ kind, mode: 'shared', pid: py.pid }); // OFD: named from /proc
    py.kill();
  });
});

describe('util-linux flock(1)', () => {
  it('flock -n fails while syslocks holds a flock, succeeds after release', () => {
    const f = file();
    const l = tryLock(f, { kind: 'flock' })!;
    expect(spawnSync('flock', ['-n', f, 'true']).status).toBe(1);
    l.release();
    expect(spawnSync('flock', ['-n', f, 'true']).status).toBe(0);
  });

  it("flock(1)'s lock is seen by tryLock and getLock, with its pid", async () => {
    const f = file();
    const holder = spawn('flock', ['-s', f, 'sleep', '60']);
    children.push(holder);
    await until(() => procLocks(f).length === 1);
    expect(tryLock(f, { kind: 'flock' })).toBeNull();
    expect(getLock(f, { kind: 'flock' })).toMatchObject({ kind: 'flock', mode: 'shared', pid: holder.pid });
    // flock and fcntl locks are independent on a local filesystem (flock(2) NOTES).
    const ofd = tryLock(f, { kind: 'ofd' });
    expect(ofd).not.toBeNull();
    ofd!.release();
  });
});

describe('lslocks(8)', () => {
  it('lists each kind with the right type, pid and range', () => {
    const f = file();
    const fl = tryLock(f, { kind: 'flock', mode: 'shared' })!;
    const ofd = tryLock(f, { kind: 'ofd', range: { start: 0, length: 10 } })!;
    const px = tryLock(f, { kind: 'posix', range: { start: 20, length: 10 } })!;
    // By inode: lslocks cannot name the path of an OFD lock (its pid is -1).
    const r = spawnSync('lslocks', ['--json', '--output', 'COMMAND,PID,TYPE,MODE,START,END,INODE'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const ino = statSync(f).ino;
    const rows = (JSON.parse(r.stdout) as { locks: Record<string, unknown>[] }).locks.filter(
      (l) => Number(l['inode']) === ino,
    );
    expect(rows).toHaveLength(3);
    const byType = Object.fromEntries(rows.map((l) => [String(l['type']), l]));
    expect(byType['FLOCK']).toMatchObject({ pid: process.pid, mode: 'READ' });
    expect(byType['OFDLCK']).toMatchObject({ pid: -1, mode: 'WRITE', start: 0, end: 9 });
    expect(byType['POSIX']).toMatchObject({ pid: process.pid, mode: 'WRITE', start: 20, end: 29 });
    fl.release();
    ofd.release();
    px.release();
  });
});

// Issue 9 section 1: the default kind takes the lock that Python's filelock /
// fcntl.flock, util-linux flock(1), Rust's File::lock and Go's lockedfile take on a
// whole file: flock(2). Each direction across separate processes.
describe("kind 'auto' (default) on a whole file excludes flock(2) users", () => {
  const flockWaiter = (f: string) => procLocks(f).some((l) => l.waiting && l.type === 'FLOCK');

  it('resolves to flock for a whole file and to OFD for a range', () => {
    const f = file();
    const whole = tryLock(f)!;
    expect(whole.kind).toBe('flock');
    whole.release();
    const ranged = tryLock(f, { range: { start: 0, length: 1 } })!;
    expect(ranged.kind).toBe('ofd');
    ranged.release();
  });

  it('flock(1) holds: tryLock is null and lock() waits until it exits', async () => {
    const f = file();
    // -F: flock(1) execs sleep itself, so killing holder.pid drops the lock.
    const holder = spawn('flock', ['-F', '-x', f, 'sleep', '60']);
    children.push(holder);
    await until(() => procLocks(f).length === 1);
    expect(tryLock(f)).toBeNull();
    const waiting = lock(f);
    let granted = false;
    void waiting.then(() => (granted = true));
    await until(() => flockWaiter(f)); // our wait sits in the kernel, behind flock(1)
    expect(granted).toBe(false);
    holder.kill('SIGKILL');
    const l = await within(waiting, 'lock() was not granted after flock(1), the holder, was killed');
    expect(l.kind).toBe('flock');
    l.release();
  });

  it('we hold: flock -n fails, and succeeds after release', () => {
    const f = file();
    const l = tryLock(f)!;
    expect(spawnSync('flock', ['-n', f, 'true']).status).toBe(1);
    expect(spawnSync('flock', ['-n', '-s', f, 'true']).status).toBe(1);
    l.release();
    expect(spawnSync('flock', ['-n', f, 'true']).status).toBe(0);
  });

  it('python3 fcntl.flock holds: tryLock is null and lock() waits until it exits', async () => {
    const f = file();
    const py = await pyHold(f, 'flock', 'exclusive');
    expect(tryLock(f)).toBeNull();
    expect(tryLock(f, { mode: 'shared' })).toBeNull();
    const waiting = lock(f, { mode: 'shared' });
    await until(() => flockWaiter(f));
    py.kill('SIGKILL');
    (await within(waiting, 'lock() was not granted after python3, the holder, was killed')).release();
  });

  it("we hold: python3's fcntl.flock(LOCK_NB) raises, and succeeds after release", () => {
    const f = file();
    const l = tryLock(f, { mode: 'shared' })!;
    expect(pyTry(f, 'flock', 'exclusive')).toBe('busy');
    expect(pyTry(f, 'flock', 'shared')).toBe('held'); // shared + shared coexist
    l.release();
    expect(pyTry(f, 'flock', 'exclusive')).toBe('held');
  });
});
