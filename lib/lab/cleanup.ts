/**
 * Nothing the lab starts or creates outlives it: child processes (lockers, counter
 * workers and whatever they spawn) and temp dirs are tracked here, and removed on a
 * normal end, on SIGINT/SIGTERM/SIGHUP (cli.ts calls {@link cleanupAll}) and even
 * when the lab itself is killed with SIGKILL: a small guardian process holds a pipe
 * from the lab and, when that pipe closes with something still registered, kills the
 * registered process groups and removes the registered dirs (guardian.ts).
 *
 * On POSIX every child is started as the leader of its own process group
 * (`detached`: setsid(2)), so killing the group also kills its grandchildren
 * (kill(2): "If pid is less than -1, then sig is sent to every process in the
 * process group whose ID is -pid").
 * @packageDocumentation
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const POSIX = process.platform !== 'win32';
/** The compiled guardian entry (next to this file in dist/lab). */
export const GUARDIAN = join(__dirname, 'guardian.js');

const dirs = new Set<string>();
const children = new Map<number, ChildProcess>();
let guardian: ChildProcess | null = null;
let guardianFailed = false;

function tell(line: string): void {
  if (!POSIX || guardianFailed) return;
  if (!guardian) {
    try {
      guardian = spawn(process.execPath, [GUARDIAN], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
      guardian.on('error', () => (guardianFailed = true));
      guardian.stdin!.on('error', () => (guardianFailed = true));
      // Neither the guardian nor its pipe keeps the lab alive.
      guardian.unref();
      (guardian.stdin as unknown as { unref?: () => void }).unref?.();
    } catch {
      guardianFailed = true;
      return;
    }
  }
  guardian.stdin!.write(line + '\n');
}

/** Sends `signal` to the child's whole process group (POSIX), else to the child. */
export function killTree(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  if (POSIX) {
    try {
      process.kill(-child.pid, signal);
      return;
    } catch {
      /* the group is gone; fall through to the child itself */
    }
  }
  try {
    child.kill(signal);
  } catch {
    /* already gone */
  }
}

/**
 * `spawn` for the lab's children: a process group of its own (POSIX), registered so
 * that {@link cleanupAll} and the guardian can kill it and all it spawned.
 */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { ...options, detached: POSIX });
  const pid = child.pid;
  if (pid !== undefined) {
    children.set(pid, child);
    tell(`+pid ${pid}`);
    child.once('exit', () => {
      // Grandchildren left in its group (a locker's spawned child) go with it.
      killTree(child);
      children.delete(pid);
      tell(`-pid ${pid}`);
    });
  }
  return child;
}

/** `mkdtemp(parent/prefix)`, registered for removal on any end of the lab. */
export function makeTempDir(prefix: string, parent: string = tmpdir()): string {
  const dir = mkdtempSync(join(parent, prefix));
  dirs.add(dir);
  tell(`+dir ${dir}`);
  return dir;
}

/**
 * Runs `script` (Node code; its arguments in `process.argv.slice(1)`) in a child
 * process, waiting at most `boundMs`. The lab's own process never touches the
 * measured filesystem for setup or cleanup: on a wedged mount (a FUSE daemon that
 * stopped answering) a syscall never returns, and a Node process with a stuck libuv
 * thread cannot even exit. Resolves with null on success, else with why not.
 */
export function runBounded(
  what: string,
  script: string,
  args: readonly string[],
  boundMs: number,
): Promise<string | null> {
  return new Promise((resolve) => {
    // Tracked too: after a SIGKILL of the lab, the guardian must not race a late helper.
    const child = spawnTracked(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    let done = false;
    const finish = (note: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(note);
    };
    const timer = setTimeout(() => {
      killTree(child);
      child.unref();
      finish(`${what} did not finish within ${boundMs} ms (a wedged filesystem?)`);
    }, boundMs);
    child.on('error', (err) => finish(`${what} failed: ${err.message}`));
    child.on('exit', (code) =>
      finish(code === 0 ? null : `${what} failed (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`),
    );
  });
}

/**
 * Creates every dir of `dirs` out of process, bounded (see {@link runBounded}). Not
 * recursive: their parent must exist, so a parent already removed (the lab was
 * killed meanwhile and the guardian cleaned up) is never made again.
 */
export function makeDirs(dirs: readonly string[], boundMs = 10_000): Promise<string | null> {
  return runBounded(
    'creating the cell directories',
    'for (const d of process.argv.slice(1)) require("fs").mkdirSync(d)',
    dirs,
    boundMs,
  );
}

/**
 * Removes `dir` recursively out of process, bounded (see {@link runBounded}), and
 * stops tracking it once removed. Resolves with null when removed, else with a note.
 */
export async function removeDir(dir: string, boundMs = 10_000): Promise<string | null> {
  const note = await runBounded(
    `cleanup of ${dir}`,
    'require("fs").rmSync(process.argv[1], { recursive: true, force: true })',
    [dir],
    boundMs,
  );
  // Tracked no longer either way: a dir that could not be removed in time is reported
  // once, not retried at exit (nor by the guardian) on a mount that stopped answering.
  dirs.delete(dir);
  tell(`-dir ${dir}`);
  return note === null ? null : `${note}; it may be left behind`;
}

/** Kills every tracked process group and removes every tracked dir; resolves with notes of what failed. */
export async function cleanupAll(boundMs = 10_000): Promise<string[]> {
  for (const child of children.values()) killTree(child);
  const notes = await Promise.all([...dirs].map((d) => removeDir(d, boundMs)));
  return notes.filter((n): n is string => n !== null);
}

/** What is still tracked (for tests and the exit path). */
export function tracked(): { dirs: string[]; pids: number[] } {
  return { dirs: [...dirs], pids: [...children.keys()] };
}
