// python3's fcntl module as an outside witness: a separate process, code nobody here
// wrote, asking the kernel about locks on a file.
import { spawn, spawnSync } from 'node:child_process';
import type { LockKind } from '../dist/index.js';
import { within } from './helpers.js';

const PROBE = `
import fcntl, os, sys, struct
path, family, mode, start, length = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
fd = os.open(path, os.O_RDONLY if family == 'flock' else os.O_RDWR)
if family == 'getlk':
    t = fcntl.F_WRLCK if mode == 'exclusive' else fcntl.F_RDLCK
    buf = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack('hhqqi', t, os.SEEK_SET, start, length, 0))
    l_type, _, l_start, l_len, l_pid = struct.unpack('hhqqi', buf)
    names = {fcntl.F_RDLCK: 'shared', fcntl.F_WRLCK: 'exclusive', fcntl.F_UNLCK: 'none'}
    print(f"{names[l_type]} {l_start} {l_len} {l_pid}")
    sys.exit(0)
try:
    if family == 'flock':
        fcntl.flock(fd, (fcntl.LOCK_EX if mode == 'exclusive' else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    else:
        fcntl.lockf(fd, (fcntl.LOCK_EX if mode == 'exclusive' else fcntl.LOCK_SH) | fcntl.LOCK_NB, length, start)
    print('free')
except OSError:
    print('busy')
`;

function run(args: string[]): string {
  const r = spawnSync('python3', ['-c', PROBE, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 probe failed: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Whether another process can take the lock now: `flock` = flock(2), `fcntl` =
 * lockf(3)'s F_SETLK (conflicts with POSIX and OFD locks).
 */
export function outsideTry(
  file: string,
  family: 'flock' | 'fcntl',
  mode: 'shared' | 'exclusive' = 'exclusive',
  start = 0,
  length = 0,
): 'busy' | 'free' {
  return run([file, family, mode, String(start), String(length)]) as 'busy' | 'free';
}

/** F_GETLK from another process: "none" or "<mode> <start> <length> <pid>". */
export function outsideGetlk(file: string, mode: 'shared' | 'exclusive', start = 0, length = 0): string {
  return run([file, 'getlk', mode, String(start), String(length)]);
}

/** python3 holding `kind` on the whole file for `seconds`, then exiting (its lock goes with it). */
export async function pythonHolder(f: string, kind: LockKind, seconds: number): Promise<void> {
  const take =
    kind === 'flock'
      ? 'fcntl.flock(fh, fcntl.LOCK_EX)'
      : kind === 'posix'
        ? 'fcntl.lockf(fh, fcntl.LOCK_EX)'
        : 'fcntl.fcntl(fh, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))';
  const py = spawn(
    'python3',
    [
      '-c',
      `import fcntl, struct, sys, time; fh = open(sys.argv[1], 'r+'); ${take}; print("held", flush=True); time.sleep(${seconds})`,
      f,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await within(new Promise((r) => py.stdout.once('data', r)), 'python3 did not print that it holds the lock');
}
