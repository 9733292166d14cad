// npm-helpers.ts - running npm, npx and other commands from the package tests: one
// process per call, output captured, and a readable failure that shows both streams.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/** Generous: a cold npm cache or a busy 2-core machine. */
export const SLOW = 10 * 60_000;

/** One finished command. */
export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion and captures its output. */
export function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
  timeout = SLOW,
): Ran {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  const ms = Math.round(performance.now() - t0);
  const stderr = (r.stderr ?? '') + (r.error ? `\n[spawn] ${r.error.message}` : '');
  return { status: r.status, stdout: r.stdout ?? '', stderr, ms };
}

/** Throws, with both output streams, unless the command exited 0. */
export function must(r: Ran, what: string): Ran {
  if (r.status !== 0) {
    throw new Error(`${what} failed (exit ${r.status})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r;
}

/** npm's own CLI script (npm-cli.js), to run npm under a PATH without npm's dir. */
export function npmCliJs(): string {
  const fromNpm = process.env['npm_execpath'];
  if (fromNpm && /npm-cli\.js$/.test(fromNpm) && existsSync(fromNpm)) return fromNpm;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, 'npm');
    if (dir && existsSync(candidate)) {
      const real = realpathSync(candidate);
      if (/\.js$/.test(real)) return real;
      const sibling = join(dirname(real), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
      if (existsSync(sibling)) return sibling;
    }
  }
  const beside = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (existsSync(beside)) return beside;
  throw new Error('cannot find npm-cli.js');
}

/** npx's CLI script, next to npm's. */
export function npxCliJs(): string {
  return join(dirname(npmCliJs()), 'npx-cli.js');
}

/** npm as `node <npm-cli.js>`, so it runs under any PATH. */
export function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Ran {
  return run(process.execPath, [npmCliJs(), ...args], cwd, env);
}

/** npx as `node <npx-cli.js>`. */
export function npx(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Ran {
  return run(process.execPath, [npxCliJs(), ...args], cwd, env);
}
