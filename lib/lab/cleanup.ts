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
 * Removes `dir` recursively in a child process, waiting at most `boundMs`: a wedged
 * filesystem (a FUSE daemon that stopped answering) blocks rm in the kernel, and must
 * not block the lab. Resolves with null when removed, else with a note saying why not.
 */
export function removeDir(dir: string, boundMs = 10_000): Promise<string | null> {
  return new Promise((resolve) => {
    const rm = spawn(
      process.execPath,
      ['-e', 'require("fs").rmSync(process.argv[1], {recursive: true, force: true})', dir],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    rm.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    const timer = setTimeout(() => {
      rm.kill('SIGKILL');
      rm.unref();
      finish(`cleanup of ${dir} did not finish within ${boundMs} ms (a wedged filesystem?); it may be left behind`);
    }, boundMs);
    let done = false;
    function finish(note: string | null): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (note === null) {
        dirs.delete(dir);
        tell(`-dir ${dir}`);
      }
      resolve(note);
    }
    rm.on('error', (err) => finish(`cleanup of ${dir} failed: ${err.message}`));
    rm.on('exit', (code) =>
      finish(code === 0 ? null : `cleanup of ${dir} failed (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`),
    );
  });
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
