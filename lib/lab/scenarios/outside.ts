/**
 * Programs nobody here wrote as contenders: "does my Node lock exclude my Python
 * script, my shell script, sqlite3?" Each cell runs both directions against live
 * processes of the tool:
 *
 * 1. the tool holds its lock (on the contender's path), and a syslocks process asks
 *    for a write lock of the column's kind;
 * 2. a syslocks process holds a write lock of the column's kind, and the tool tries
 *    its own lock without waiting.
 *
 * `conflict`: each side's lock excluded the other; `granted`: neither did; `one-way`:
 * only one direction conflicted (the detail says which); `skipped`: the tool is not
 * installed (detail `no python3`, ...). Tools: python3 `fcntl.flock`, `fcntl.lockf`
 * and an OFD lock through `fcntl.fcntl(F_OFD_SETLK)` with a packed `struct flock`;
 * util-linux `flock(1)`; the `sqlite3` shell (`BEGIN EXCLUSIVE`, which takes SQLite's
 * POSIX byte-range locks at offset 2^30, src/os_unix.c).
 * @packageDocumentation
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { holder, must, say, step, type CellContext, type Measured, type Scenario } from './common.js';
import type { ScenarioName } from '../types.js';

/** A tool-side lock: how to hold it, and how to try it once. */
interface Tool {
  /** Row name. */
  name: ScenarioName;
  /** What the tool does, for details and docs. */
  label: string;
  /** The program that must be installed, and how to check it. */
  program: string;
  probe: string[];
  /** argv that takes the lock, prints a line starting with `held`, and keeps it until stdin closes. */
  hold(path: string): { args: string[]; stdin?: string };
  /** argv that tries the lock once; exit 0 = granted, `busyCode` = conflict. */
  tryOnce(path: string): { args: string[]; stdin?: string };
  /** Exit status meaning "busy". */
  busyCode: number;
  /** Prepares the file (sqlite3 needs a database). */
  prepare?(path: string): void;
}

// One script for the three python3 locks. struct flock on 64-bit Linux (x86-64,
// aarch64): short l_type, short l_whence, (4 bytes padding), off_t l_start, off_t
// l_len, pid_t l_pid, (4 bytes padding) = 32 bytes; fcntl(2): "l_pid ... must be set
// to zero" for OFD requests. F_OFD_SETLK is 37 where Python lacks the constant.
const PY = `
import errno, fcntl, os, struct, sys
how, action, path = sys.argv[1:4]
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
try:
    if how == 'flock':
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    elif how == 'lockf':
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    else:
        req = struct.pack('hhxxxxqqixxxx', fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        fcntl.fcntl(fd, getattr(fcntl, 'F_OFD_SETLK', 37), req)
except OSError as e:
    if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
        print('busy', errno.errorcode[e.errno], flush=True)
        sys.exit(75)
    raise
print('held' if action == 'hold' else 'granted', os.getpid(), flush=True)
if action == 'hold':
    sys.stdin.read()
`;

function python(name: ScenarioName, how: 'flock' | 'lockf' | 'ofd', label: string): Tool {
  return {
    name,
    label,
    program: 'python3',
    // Prints the interpreter's real path: a version-manager shim on PATH can take seconds per start.
    probe: ['-c', 'import fcntl, sys; print(sys.executable)'],
    hold: (path) => ({ args: ['-c', PY, how, 'hold', path] }),
    tryOnce: (path) => ({ args: ['-c', PY, how, 'try', path] }),
    busyCode: 75,
  };
}

const TOOLS: readonly Tool[] = [
  python('python_flock_contender', 'flock', 'python3 fcntl.flock(LOCK_EX|LOCK_NB)'),
  python('python_lockf_contender', 'lockf', 'python3 fcntl.lockf(LOCK_EX|LOCK_NB)'),
  python('python_ofd_contender', 'ofd', 'python3 fcntl.fcntl(F_OFD_SETLK, F_WRLCK whole file)'),
  {
    name: 'flock1_contender',
    label: 'util-linux flock(1) -x -n',
    program: 'flock',
    probe: ['--version'],
    // flock(1) holds the lock while its command runs; the command ends when stdin closes.
    hold: (path) => ({
      args: ['-x', '-n', '-E', '75', path, 'sh', '-c', 'echo held $$; cat >/dev/null'],
    }),
    tryOnce: (path) => ({ args: ['-x', '-n', '-E', '75', path, 'true'] }),
    busyCode: 75,
  },
  {
    name: 'sqlite3_contender',
    label: 'sqlite3 shell, BEGIN EXCLUSIVE',
    program: 'sqlite3',
    probe: ['-version'],
    prepare(path) {
      const r = spawnSync('sqlite3', [path, 'CREATE TABLE IF NOT EXISTS t(x);'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`sqlite3 could not create ${path}: ${r.stderr.trim()}`);
    },
    hold: (path) => ({
      args: ['-batch', '-bail', path],
      stdin: "BEGIN EXCLUSIVE;\nINSERT INTO t VALUES(1);\nSELECT 'held';\n",
    }),
    // .timeout 0: no busy handler, so a held lock answers "database is locked" at once.
    tryOnce: (path) => ({
      args: ['-batch', '-bail', path],
      stdin: '.timeout 0\nBEGIN EXCLUSIVE;\nCOMMIT;\n',
    }),
    busyCode: 1,
  },
];

const installed = new Map<string, string | null>();

/**
 * The executable of `tool` here, or null when it is not installed (checked once per
 * process). For python3 it is the interpreter's own path (`sys.executable`).
 */
function executable(tool: Tool): string | null {
  const key = tool.program + tool.probe.join(' ');
  let exe = installed.get(key);
  if (exe === undefined) {
    const r = spawnSync(tool.program, tool.probe, { encoding: 'utf8', timeout: 30_000 });
    const printed = r.stdout?.trim() ?? '';
    exe =
      r.error === undefined && r.status === 0 ? (tool.program === 'python3' && printed ? printed : tool.program) : null;
    installed.set(key, exe);
  }
  return exe;
}

/** Starts the tool's holder; resolves once it holds the lock, with its pid and a release function. */
function holdWithTool(tool: Tool, exe: string, path: string): Promise<{ pid: number; release: () => Promise<void> }> {
  const spec = tool.hold(path);
  const child = spawn(exe, spec.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-1000)));
  child.stdin.on('error', () => {
    /* it exited; 'exit' reports it */
  });
  if (spec.stdin) child.stdin.write(spec.stdin);
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  const release = async (): Promise<void> => {
    child.stdin.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${tool.label} did not take its lock within 10 s: ${stderr.trim()}`));
    }, 10_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('held')) return;
      clearTimeout(timer);
      resolve({ pid: child.pid ?? -1, release });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`${tool.label} exited (${code}) before holding its lock: ${stderr.trim()}`));
    });
  });
}

/** Runs the tool's one-shot try; `conflict` or `granted`, with its pid and output. */
function tryWithTool(
  tool: Tool,
  exe: string,
  path: string,
): Promise<{ result: 'conflict' | 'granted'; pid: number; said: string }> {
  const spec = tool.tryOnce(path);
  return new Promise((resolve, reject) => {
    const child = spawn(exe, spec.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.on('error', () => {});
    child.stdin.end(spec.stdin ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const said = out.trim().replace(/\s+/g, ' ');
      if (code === 0) resolve({ result: 'granted', pid: child.pid ?? -1, said });
      else if (code === tool.busyCode && (tool.program !== 'sqlite3' || /locked/.test(out)))
        resolve({ result: 'conflict', pid: child.pid ?? -1, said });
      else reject(new Error(`${tool.label} failed (exit ${code}): ${said}`));
    });
  });
}

async function measure(tool: Tool, ctx: CellContext): Promise<Measured> {
  if (ctx.kind === 'windows') return { outcome: 'n/a', detail: 'not run: these tools lock with flock(2)/fcntl(2)' };
  const exe = executable(tool);
  if (exe === null) return { outcome: 'skipped', detail: `no ${tool.program}` };
  const log: string[] = [];
  const toolPath = ctx.peerFile('tool.lock');
  const ourPath = ctx.file('tool.lock');
  const a = await holder(ctx, { file: ourPath });
  tool.prepare?.(toolPath);
  // 1. The tool holds; syslocks asks.
  const held = await holdWithTool(tool, exe, toolPath);
  log.push(`${tool.label} (pid ${held.pid}) holds its lock`);
  let ours: 'conflict' | 'granted';
  try {
    const r = await step(a, 'lock write', log);
    if (r.result !== 'conflict' && r.result !== 'granted') throw new Error(`syslocks lock failed: ${say(a, r)}`);
    ours = r.result;
    if (ours === 'granted') await must(a, 'unlock', log);
  } finally {
    await held.release();
  }
  // 2. syslocks holds; the tool tries. The tool's holder has exited, but on a FUSE
  // filesystem its release reaches the server asynchronously: wait for it (bounded).
  await must(a, 'lock write wait timeout=5000', log);
  const t = await tryWithTool(tool, exe, toolPath);
  log.push(`${tool.label} (pid ${t.pid}) try: ${t.result}${t.said ? ` ("${t.said}")` : ''}`);
  await must(a, 'unlock', log);
  const outcome = ours === t.result ? ours : 'one-way';
  const dir =
    outcome === 'one-way'
      ? ` — only ${ours === 'conflict' ? `the tool's lock excluded syslocks` : `syslocks excluded the tool`}`
      : '';
  return { outcome, detail: log.join('; ') + dir };
}

/** The outside-contender rows. */
export const outsideScenarios: readonly Scenario[] = TOOLS.map((tool) => ({
  name: tool.name,
  summary: `${tool.label} against a syslocks write lock of the column's kind, both directions (conflict = each excludes the other)`,
  run: (ctx) => measure(tool, ctx),
}));
