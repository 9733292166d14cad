// Helpers for the lab tests: run the built CLI (dist/lab/cli.js) as a real process.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const CLI = fileURLToPath(new URL('../../dist/lab/cli.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/lab/cli.js ...args` to completion. A run still going after
 * `killAfterMs` (a hang guard, not a performance limit; the default stays under vitest's
 * 60 s test timeout) is killed and fails naming the command and what it printed.
 */
export function runCli(
  args: string[],
  killAfterMs = 50_000,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (hung)
        reject(
          new Error(
            `syslocks-lab ${args.join(' ')} did not exit within ${killAfterMs} ms (killed); stdout: ${stdout}; stderr: ${stderr}`,
          ),
        );
      else resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running CLI process whose stdout lines can be awaited. */
export interface Live {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  /** Resolves with the first line (seen so far or later) matching `re`. */
  line(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (unbounded: await it through `within`). */
  exited: Promise<number | null>;
}

export function startCli(args: string[]): Live {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of [...waiters]) {
      if (w.re.test(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    child,
    lines,
    exited,
    line(re, timeoutMs = 20_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matching ${re} (got: ${lines.join(' | ')})`)),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}
