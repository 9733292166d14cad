// Test helpers: real lock owners in other processes and threads, temp files, and
// readers for /proc. Everything here talks to the real kernel.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export const AGENT = fileURLToPath(new URL('./fixtures/agent.mjs', import.meta.url));

export interface AgentError {
  name: string;
  code?: string;
  message: string;
  syscall?: string;
}

export interface Reply {
  ok: boolean;
  result?: unknown;
  error?: AgentError;
}

/** An agent in another process or thread. `call` resolves with its reply. */
export interface Agent {
  readonly pid: number;
  call(op: string, args?: Record<string, unknown>): Promise<Reply>;
  /** Like call, but throws when the agent reports an error. */
  ok<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

function makeAgent(
  name: string,
  send: (line: string) => void,
  onLine: (cb: (line: string) => void) => void,
  pid: number,
  kill: (signal?: NodeJS.Signals) => Promise<void>,
  exited: Promise<string>,
): { agent: Omit<Agent, 'pid'> & { pid: number }; ready: Promise<void> } {
  let seq = 1;
  const pending = new Map<number, (r: Reply) => void>();
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  let gone: string | null = null;
  // A dead agent answers nothing: fail its pending and later calls with how it ended
  // instead of leaving them to a runner timeout.
  void exited.then((how) => {
    gone = `agent ${pid} ${how}`;
    readyReject(new Error(`${gone} before it was ready`));
    for (const [s, resolve] of pending)
      resolve({ ok: false, error: { name: 'AgentGone', message: `${gone} before answering call ${s}` } });
    pending.clear();
  });
  onLine((line) => {
    const msg = JSON.parse(line) as Reply & { seq: number };
    if (msg.seq === 0) return readyResolve();
    pending.get(msg.seq)?.(msg);
    pending.delete(msg.seq);
  });
  // Bounded: an agent alive but stuck (a lock call that never returns, a lost reply)
  // fails the call with the op it did not answer instead of a runner timeout.
  const call = (op: string, args: Record<string, unknown> = {}): Promise<Reply> =>
    within(
      new Promise((resolve) => {
        const s = seq++;
        if (gone !== null) return resolve({ ok: false, error: { name: 'AgentGone', message: `${gone} before ${op}` } });
        pending.set(s, resolve);
        send(JSON.stringify({ seq: s, op, ...args }));
      }),
      `${name} did not answer '${op}'`,
    );
  const agent = {
    pid,
    call,
    async ok<T>(op: string, args?: Record<string, unknown>): Promise<T> {
      const r = await call(op, args);
      if (!r.ok) throw Object.assign(new Error(`agent ${op}: ${r.error?.message}`), r.error);
      return r.result as T;
    },
    kill,
    close: () => kill('SIGTERM'),
  };
  return { agent, ready };
}

const live = new Set<Agent>();

/** Starts an agent in a new process (separate PID, real kernel lock owner). */
export async function processAgent(extraFds: number[] = []): Promise<Agent> {
  const child = spawn(process.execPath, [AGENT], {
    stdio: ['pipe', 'pipe', 'inherit', ...extraFds],
  }) as ChildProcessWithoutNullStreams;
  let buf = '';
  const listeners: ((l: string) => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      for (const l of listeners) l(line);
    }
  });
  const exited = new Promise<string>((r) =>
    child.once('exit', (code, signal) => r(`exited (${signal ?? `code ${code}`})`)),
  );
  const name = `agent process ${child.pid}`;
  const { agent, ready } = makeAgent(
    name,
    (line) => child.stdin.write(line + '\n'),
    (cb) => listeners.push(cb),
    child.pid!,
    async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await within(exited, `${name} did not exit after ${signal}`);
      live.delete(agent as Agent);
    },
    exited,
  );
  live.add(agent as Agent);
  await within(ready, `${name} did not report ready`);
  return agent as Agent;
}

/** Starts an agent in a worker thread of this process (same PID). */
export async function threadAgent(): Promise<Agent> {
  const worker = new Worker(AGENT);
  const exited = new Promise<string>((r) => worker.once('exit', (code) => r(`worker exited (code ${code})`)));
  const name = `agent worker thread ${worker.threadId}`;
  const { agent, ready } = makeAgent(
    name,
    (line) => worker.postMessage(line),
    (cb) => worker.on('message', (m: string) => cb(m)),
    process.pid,
    async () => {
      // terminate() waits for the thread to stop, which a thread stuck in native code never does.
      await within(worker.terminate(), `${name} did not stop after terminate()`);
      await within(exited, `${name} did not emit 'exit' after terminate()`);
      live.delete(agent as Agent);
    },
    exited,
  );
  live.add(agent as Agent);
  await within(ready, `${name} did not report ready`);
  return agent as Agent;
}

/** Stops every agent still running (afterEach). */
export async function stopAgents(): Promise<void> {
  await Promise.all([...live].map((a) => a.kill('SIGKILL')));
}

/** A fresh temp dir with an empty file in it; removed by cleanup(). */
export function tempFile(name = 'f.lock'): { dir: string; file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'syslocks-test-'));
  const file = join(dir, name);
  writeFileSync(file, '');
  return { dir, file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Registers cleanup for the calling test file and returns a maker of temp files:
 * after each test, its agents are stopped and its temp dirs removed.
 */
export function useTempFiles(extraCleanup?: () => void): () => string {
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    extraCleanup?.();
    await stopAgents();
    for (const c of cleanups.splice(0)) c();
  });
  return () => {
    const t = tempFile();
    cleanups.push(t.cleanup);
    return t.file;
  };
}

/** One parsed /proc/locks entry. */
export interface ProcLocksEntry {
  type: string;
  access: string;
  pid: number;
  ino: number;
  start: string;
  end: string;
  waiting: boolean;
}

/** /proc/locks entries on `file`. */
export function procLocks(file: string): ProcLocksEntry[] {
  // /proc/locks comes a page per read(2), each read restarting at a position in a list
  // other test files change meanwhile: read until two reads agree on this file.
  let last = procLocksOnce(file);
  for (let i = 0; i < 20; i++) {
    const again = procLocksOnce(file);
    if (JSON.stringify(again) === JSON.stringify(last)) return again;
    last = again;
  }
  return last;
}

function procLocksOnce(file: string): ProcLocksEntry[] {
  const ino = statSync(file).ino;
  const out: ProcLocksEntry[] = [];
  for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
    const m = /^\d+:\s+(->\s+)?(\S+)\s+\S+\s+(\S+)\s+(-?\d+)\s+\S+:\S+:(\d+)\s+(\d+)\s+(\S+)/.exec(line);
    if (m && Number(m[5]) === ino) {
      out.push({ waiting: !!m[1], type: m[2]!, access: m[3]!, pid: Number(m[4]), ino, start: m[6]!, end: m[7]! });
    }
  }
  return out;
}

/** Number of threads of this process. */
export function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

/** Number of open fds of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** How long a bounded wait in a test waits before it fails with its message (a hang guard, not a performance limit). */
export const BOUND_MS = 20_000;

/**
 * Waits until `cond()` holds, polling. If it does not hold within `boundMs`, fails with
 * an error naming `what` (default: the condition's source; a function is called then, to
 * name what a child printed by that time), so a hang points at the thing that did not
 * happen instead of at a runner timeout. Not a performance limit.
 */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string | (() => string) = `condition ${cond.toString()}`,
  boundMs = BOUND_MS,
): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`${typeof what === 'function' ? what() : what}: did not happen within ${boundMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Resolves with `p`, or fails with an error naming `what` if `p` has not settled within
 * `boundMs` (for a child's line, a lock grant, an exit). A failure message, not a
 * performance limit. `what` may be a function, to name what a child printed by then.
 */
export async function within<T>(p: Promise<T>, what: string | (() => string), boundMs = BOUND_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    const say = (): string => (typeof what === 'function' ? what() : what);
    timer = setTimeout(() => reject(new Error(`${say()} (waited ${boundMs} ms)`)), boundMs);
  });
  try {
    return await Promise.race([p, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The first line `input` prints. Bounded like `within`: fails naming `what` when the
 * stream ends without a line (the process died) or no line comes within `boundMs`.
 */
export function firstLine(
  input: NodeJS.ReadableStream,
  what: string | (() => string),
  boundMs = BOUND_MS,
): Promise<string> {
  const lines = createInterface({ input });
  return within(
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      lines.once('close', () =>
        reject(new Error(`${typeof what === 'function' ? what() : what}: its output ended without a line`)),
      );
    }),
    what,
    boundMs,
  );
}

/** The error `f` throws synchronously (fails the test when it does not throw). */
export function thrown(f: () => unknown): NodeJS.ErrnoException {
  try {
    f();
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error('expected a throw');
}
