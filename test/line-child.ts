// Child processes that talk in lines on stdout (the waiter and FUSE fixtures), killed
// after each test so that a failed test leaves none behind.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach } from 'vitest';
import { within } from './helpers.js';

/** A child process with line-based stdout; every wait on it is bounded. */
export interface LineChild {
  proc: ChildProcessWithoutNullStreams;
  /** The next line it prints; rejects at once, saying how, if it ends first. */
  line: () => Promise<string>;
  /** How it ended (bounded). */
  exit: () => Promise<{ code: number | null; signal: string | null }>;
  /** Its stderr so far. */
  stderr: () => string;
}

/** Returns the spawner of {@link LineChild}ren; registers their kill after each test. */
export function useLineChildren(): (cmd: string, args: string[]) => LineChild {
  const children = new Set<ChildProcessWithoutNullStreams>();
  afterEach(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    children.clear();
  });
  return (cmd, args) => {
    const c = lineChild(cmd, args);
    children.add(c.proc);
    return c;
  };
}

function lineChild(cmd: string, args: string[]): LineChild {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] }) as ChildProcessWithoutNullStreams;
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  let buf = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: string | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  // Bounded (test/helpers.ts within): a child that never prints or never exits fails
  // its test with what it did not do, instead of running into vitest's timeout.
  const name = [cmd, ...args].map((a) => a.split('/').pop()).join(' ');
  // A child that dies instead of printing fails at once, saying how it ended ('close':
  // after its stdout has been read to the end, so no printed line is passed over).
  const died = new Promise<never>((_, reject) =>
    proc.once('close', (code, signal) =>
      reject(new Error(`${name} ended (code ${code}, signal ${signal}) before its next line (stderr: ${err})`)),
    ),
  );
  died.catch(() => {});
  const line = (): Promise<string> => {
    const l = lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    const next = Promise.race([new Promise<string>((r) => waiting.push(r)), died]);
    return within(next, () => `${name} did not print its next line (stderr: ${err})`);
  };
  const exitBounded = (): Promise<{ code: number | null; signal: string | null }> =>
    within(exit, `${name} did not exit (stderr: ${err})`);
  return { proc, line, exit: exitBounded, stderr: () => err };
}
