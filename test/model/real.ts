// The real side of the model-based test: the lock owners as separate processes and
// worker threads (test/model/agent.mjs), and the kernel's view of a file read from
// /proc/locks and /proc/PID/fdinfo.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { within } from '../helpers.js';
import { PROCESS_OF, type Op, type Proc, type Slot } from './world.js';

const AGENT = fileURLToPath(new URL('./agent.mjs', import.meta.url));
/** Runs per spawn of process A. */
const BATCH = 40;

type Cmd = { op: string; slot?: string; path?: string; fd?: number };

/** One agent: send a batch of commands, get one result per command. */
class Agent {
  private seq = 1;
  private readonly pending = new Map<number, (r: unknown[]) => void>();
  readonly ready: Promise<number>;
  constructor(
    /** Named in the message of a bounded wait on this agent. */
    readonly name: string,
    private readonly write: (line: string) => void,
    onLine: (cb: (line: string) => void) => void,
    readonly stop: () => Promise<void>,
  ) {
    let ready!: (pid: number) => void;
    this.ready = within(new Promise((r) => (ready = r)), `${name} did not report ready`);
    onLine((line) => {
      const msg = JSON.parse(line) as { seq: number; results: unknown[] };
      if (msg.seq === 0) return ready(msg.results[0] as number);
      this.pending.get(msg.seq)?.(msg.results);
      this.pending.delete(msg.seq);
    });
  }

  call(cmds: Cmd[]): Promise<unknown[]> {
    return within(
      new Promise((resolve) => {
        const s = this.seq++;
        this.pending.set(s, resolve);
        this.write(JSON.stringify({ seq: s, cmds }));
      }),
      () => `${this.name} did not answer ${cmds.map((c) => c.op).join(', ')}`,
    );
  }
}

function childAgent(extraFds: number[] = []): Agent {
  const child = spawn(process.execPath, [AGENT], {
    stdio: ['pipe', 'pipe', 'inherit', ...extraFds],
    env: process.env,
  }) as ChildProcessWithoutNullStreams;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let buf = '';
  let listener: (l: string) => void = () => {};
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      listener(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  const name = `model agent process ${child.pid}`;
  return new Agent(
    name,
    (l) => child.stdin.write(l + '\n'),
    (cb) => (listener = cb),
    async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await within(exited, `${name} did not exit after SIGKILL`); // the kernel has dropped the process's locks by now
    },
  );
}

function threadAgent(): Agent {
  const worker = new Worker(AGENT);
  const name = `model agent worker thread ${worker.threadId}`;
  return new Agent(
    name,
    (l) => worker.postMessage(l),
    (cb) => worker.on('message', (m: string) => cb(m)),
    async () => void (await within(worker.terminate(), `${name} did not stop after terminate()`)),
  );
}

/** One lock line of /proc/locks or fdinfo: "POSIX READ 1234 0 EOF" without the device. */
export interface KernelLock {
  kind: 'POSIX' | 'OFDLCK' | string;
  text: string; // "READ 0 EOF", as segText() writes it
  pid: number;
}

const LINE = /^\s*(?:lock:\s+)?\d+:\s+(->\s+)?(\S+)\s+\S+\s+(READ|WRITE)\s+(-?\d+)\s+(\S+:\d+)\s+(\d+)\s+(\d+|EOF)\s*$/;

/**
 * The file as /proc/locks names it: "MAJOR:MINOR:INODE", the device numbers in hex
 * (fs/locks.c prints "%02x:%02x:%lu"; Linux's dev_t keeps the minor's low byte in bits
 * 0-7, the major in bits 8-19 and the minor's rest from bit 20).
 */
function fileId(path: string): string {
  const { dev, ino } = statSync(path, { bigint: true });
  const major = (dev >> 8n) & 0xfffn;
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  const hex = (n: bigint): string => n.toString(16).padStart(2, '0');
  return `${hex(major)}:${hex(minor)}:${ino}`;
}

function parse(text: string, id: string): KernelLock[] {
  const out: KernelLock[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || m[5] !== id) continue;
    // A "->" line is a waiting request: the test never waits, so show it as a divergence.
    out.push({ kind: m[1] ? `waiting ${m[2]}` : m[2]!, text: `${m[3]} ${m[6]} ${m[7]}`, pid: Number(m[4]) });
  }
  return out;
}

/**
 * The file's lines, read until two reads agree. A /proc seq_file hands out at most a
 * page per read(2) and starts each read at a position in the kernel's list, so while
 * other processes on the host lock and unlock (a shared CI machine), a long
 * /proc/locks can show a line twice or skip one. Two equal reads in a row are a
 * consistent view of this file's locks, which only the agents change.
 */
function stableParse(path: string, id: string): KernelLock[] {
  let last = parse(readProc(path), id);
  for (let i = 0; i < 20; i++) {
    const next = parse(readProc(path), id);
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    last = next;
  }
  return last;
}

const procBuf = Buffer.alloc(1 << 20);

/**
 * Reads a /proc file into one reused buffer: readFileSync sees size 0 for /proc files
 * and grows its buffer read by read, several times slower per step of the test.
 */
function readProc(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let n = 0;
    for (let r; (r = readSync(fd, procBuf, n, procBuf.length - n, null)) > 0;) n += r;
    return procBuf.toString('latin1', 0, n);
  } finally {
    closeSync(fd);
  }
}

/** The lock owners of one test run and the file they lock. */
export class Real {
  private readonly dir = mkdtempSync(join(tmpdir(), 'syslocks-model-'));
  private file = '';
  private id = '';
  private runs = 0;
  private a: Agent | undefined;
  readonly pids: Record<Proc, number> = { A: 0, B: 0, M: process.pid, P: 0 };
  /** The fd number of each slot in its process (fdinfo is read through it). */
  readonly fds: Partial<Record<Slot, number>> = {};

  /** Removes the temp dir even when the run is cut short (a test timeout ends the process). */
  private readonly cleanup = (): void => rmSync(this.dir, { recursive: true, force: true });

  private constructor(
    private readonly b: Agent,
    private readonly p: Agent,
    private readonly t: [Agent, Agent],
  ) {
    process.once('exit', this.cleanup);
  }

  static async start(): Promise<Real> {
    const r = new Real(childAgent(), childAgent(), [threadAgent(), threadAgent()]);
    r.pids.B = await r.b.ready;
    r.pids.P = await r.p.ready;
    await Promise.all(r.t.map((t) => t.ready));
    return r;
  }

  private agentOf(op: Op): Agent {
    if (!('slot' in op)) return this.p; // locks by path live in process P
    const slot = op.slot;
    if (PROCESS_OF[slot] === 'A') return this.a!;
    if (slot === 'B0') return this.b;
    return this.t[slot === 'T0' ? 0 : 1];
  }

  /**
   * Files prepared for the next runs, each with a pair of fds in process A that are
   * one open file description (spawn dup2()s both from one fd of this process).
   * Spawning A once per batch instead of once per run keeps runs cheap.
   */
  private prepared: { path: string; id: string; fds: [number, number] }[] = [];

  private async prepareBatch(n: number): Promise<void> {
    await this.a?.stop();
    const files = [];
    const fds: number[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const path = join(this.dir, `f${this.runs + i}`);
        writeFileSync(path, '');
        // This process (M) holds no locks on these files, so closing its fds below drops nothing.
        fds.push(openSync(path, 'r+'));
        files.push({ path, id: fileId(path), fds: [3 + 2 * i, 4 + 2 * i] as [number, number] });
      }
      this.a = childAgent(fds.flatMap((fd) => [fd, fd]));
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    this.pids.A = await this.a.ready;
    this.prepared = files;
  }

  /** A clean start: a new file, fresh opens everywhere, and no lock anywhere. */
  async newRun(): Promise<void> {
    if (this.file) {
      await Promise.all([this.a!, this.b, this.p, ...this.t].map((x) => x.call([{ op: 'reset' }])));
      rmSync(this.file, { force: true });
    }
    if (this.prepared.length === 0) await this.prepareBatch(BATCH);
    const next = this.prepared.shift()!;
    this.runs++;
    this.file = next.path;
    this.id = next.id;
    const path = this.file;
    const [a, b, p, t0, t1] = await Promise.all([
      this.a!.call([
        { op: 'open', slot: 'A0', path, fd: next.fds[0] },
        { op: 'open', slot: 'A1', path, fd: next.fds[1] },
        { op: 'open', slot: 'A2', path },
      ]),
      this.b.call([{ op: 'open', slot: 'B0', path }]),
      this.p.call([{ op: 'open', slot: 'P0', path }]),
      this.t[0].call([{ op: 'open', slot: 'T0', path }]),
      this.t[1].call([{ op: 'open', slot: 'T1', path }]),
    ]);
    const all = [...a!, ...b!, ...p!, ...t0!, ...t1!];
    if (all.some((x) => typeof x !== 'number')) throw new Error(`setup failed: ${JSON.stringify(all)}`);
    Object.assign(this.fds, { A0: a![0], A1: a![1], A2: a![2], B0: b![0], T0: t0![0], T1: t1![0] });
  }

  /** Runs one op in its owner; the reply is an Outcome or "error: ...". */
  async apply(op: Op): Promise<string> {
    // A close reopens the slot, maybe under another fd number: ask for it in the same batch.
    const cmds: Cmd[] = op.op === 'close' ? [op, { op: 'fd', slot: op.slot }] : [op];
    const [r, fd] = await this.agentOf(op).call(cmds);
    if (op.op === 'close') this.fds[op.slot] = fd as number;
    return r as string;
  }

  /** F_GETLK / F_OFD_GETLK from process P, which holds no lock: one round trip for all. */
  async probe(queries: readonly Cmd[]): Promise<unknown[]> {
    return this.p.call(queries.map((q) => ({ ...q, slot: 'P0' })));
  }

  /** Every lock on the file, from /proc/locks. */
  procLocks(): KernelLock[] {
    return stableParse('/proc/locks', this.id);
  }

  /** The locks held through a slot's open file description, from its fdinfo "lock:" lines. */
  fdinfoLocks(slot: Slot): KernelLock[] {
    const pid = this.pids[PROCESS_OF[slot]];
    return stableParse(`/proc/${pid}/fdinfo/${this.fds[slot]}`, this.id);
  }

  async stop(): Promise<void> {
    await Promise.all([this.a, this.b, this.p, ...this.t].map((x) => x?.stop()));
    process.off('exit', this.cleanup);
    this.cleanup();
  }
}
