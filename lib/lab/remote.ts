/**
 * Lockers over TCP: the server side of `syslocks-lab locker --listen HOST:PORT` and the
 * controller's client side. One line of JSON or text per message, newline-terminated.
 *
 * ```text
 * controller → locker  {"hello":"syslocks-lab/1","token":"…","file":"/path","kind":"ofd"}
 * locker → controller  {"ready":true,"pid":1234,"host":"node-b","now":1796…}   (or {"error":"unauthorized"}, then close)
 * controller → locker  time                 (a few times) clock probe; answer {"now":1796…}
 * controller → locker  epoch 1796…          the controller's time zero on the locker's clock
 * controller → locker  lock write at 2000   any locker command (locker.ts); one JSON report each
 * ```
 *
 * Rules the server keeps:
 * - Nothing but a hello with the right token is read: any other first line, a wrong or
 *   missing token, or no hello within 5 s closes the connection without running
 *   anything. Tokens are compared in constant time (SHA-256 of both, then
 *   `crypto.timingSafeEqual`), so the comparison time does not leak a prefix.
 * - One controller at a time: a newly authenticated controller replaces the current one.
 * - **A lost controller releases its locks**: when its connection ends (EOF, reset, TCP
 *   keepalive failure, replacement, or `stop`), every fd of that session is closed,
 *   which releases every lock it held, and queued or waiting commands are dropped. The
 *   server itself keeps listening for the next controller.
 * @packageDocumentation
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { LockerCore, nowMs, type LockerKind, type Report } from './locker.js';
import { LockerHandle } from './locker-handle.js';

/** Protocol tag of the hello line. */
export const PROTOCOL = 'syslocks-lab/1';
/** Env variable the locker and the controller read the token from. */
export const TOKEN_ENV = 'SYSLOCKS_LAB_TOKEN';
/** Shortest token accepted (a guessable token is no authentication). */
export const MIN_TOKEN_LENGTH = 16;

const HELLO_TIMEOUT_MS = 5000;
const CLOCK_PROBES = 5;
const MAX_LINE = 64 * 1024;
const KINDS: readonly string[] = ['flock', 'posix', 'ofd', 'windows', 'mutex'];

/** How to reach a remote locker and what it should lock. */
export interface RemoteLockerSpec {
  /** Host name or address of the locker. */
  host: string;
  /** Its TCP port. */
  port: number;
  /** The shared secret the locker was started with. */
  token: string;
  /** The file its commands work on, as a path **on the locker's host**. */
  file: string;
  /** Its default lock kind. */
  kind: LockerKind;
  /** A label for reports and errors. */
  name?: string;
}

/** Compares two tokens in constant time (independent of where they differ, and of their lengths). */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** Options of {@link serveLocker}. */
export interface ServeOptions {
  /** Address to bind (default `127.0.0.1`: only this host can connect). */
  host?: string;
  /** Port (0 = any free port). */
  port: number;
  /** The token every controller must present (at least {@link MIN_TOKEN_LENGTH} characters). */
  token: string;
  /** If set, files outside this directory are refused. */
  root?: string;
  /** Where to log connections and refusals (default: nowhere). */
  log?: (line: string) => void;
}

/** A listening locker server. */
export interface LockerServer {
  /** The bound address. */
  readonly address: AddressInfo;
  /** Stops listening, ends the current session (releasing its locks) and resolves when closed. */
  close(): Promise<void>;
}

/** One authenticated controller: its socket and, once it sent its epoch, its locker. */
interface Session {
  socket: Socket;
  file: string;
  kind: LockerKind;
  core: LockerCore | null;
}

/** Starts a locker server; resolves once it listens. */
export function serveLocker(opts: ServeOptions): Promise<LockerServer> {
  if (opts.token.length < MIN_TOKEN_LENGTH)
    throw new RangeError(`the token must have at least ${MIN_TOKEN_LENGTH} characters`);
  const log = opts.log ?? (() => {});
  const root = opts.root === undefined ? undefined : resolve(opts.root);
  let current: Session | null = null;

  const server: Server = createServer((socket) => {
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setKeepAlive(true, 10_000);
    socket.setNoDelay(true);
    let refused = false;
    // Answers once, then reads nothing more from this peer (later lines are dropped).
    const refuse = (why: string): void => {
      if (refused) return;
      refused = true;
      rl.close();
      clearTimeout(helloTimer);
      log(`refused ${peer}: ${why}`);
      if (session) session.core?.close();
      socket.end(JSON.stringify({ error: why }) + '\n');
      setTimeout(() => socket.destroy(), 200).unref();
    };
    const helloTimer = setTimeout(() => refuse('no hello'), HELLO_TIMEOUT_MS);
    // Before authentication, refuse long lines instead of buffering them.
    let unauthBytes = 0;
    const guard = (d: Buffer): void => {
      unauthBytes += d.length;
      if (unauthBytes > MAX_LINE) refuse('hello too long');
    };
    socket.on('data', guard);
    let session: Session | null = null;
    const rl = createInterface({ input: socket });
    rl.on('error', () => {
      /* the socket's own 'close' ends the session */
    });
    socket.on('error', () => {
      /* 'close' follows and ends the session */
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      rl.close();
      if (session) {
        session.core?.close();
        log(`controller ${peer} gone: its locks are released`);
        if (current === session) current = null;
      }
    });
    rl.on('line', (line) => {
      if (refused) return;
      if (!session) {
        clearTimeout(helloTimer);
        let hello: { hello?: unknown; token?: unknown; file?: unknown; kind?: unknown };
        try {
          hello = JSON.parse(line) as typeof hello;
        } catch {
          return refuse('unauthorized');
        }
        if (hello.hello !== PROTOCOL || typeof hello.token !== 'string' || !tokensEqual(hello.token, opts.token))
          return refuse('unauthorized');
        if (typeof hello.file !== 'string' || !isAbsolute(hello.file)) return refuse('file must be an absolute path');
        if (typeof hello.kind !== 'string' || !KINDS.includes(hello.kind)) return refuse('bad kind');
        if (root !== undefined) {
          const rel = relative(root, resolve(hello.file));
          if (rel.startsWith('..') || isAbsolute(rel)) return refuse(`file is outside ${root}`);
        }
        socket.off('data', guard);
        if (current) {
          log(`controller ${current.socket.remoteAddress ?? '?'} replaced by ${peer}: its locks are released`);
          current.core?.close();
          current.socket.destroy();
        }
        // The next line sets the epoch; the core exists from then on.
        session = { socket, file: hello.file, kind: hello.kind as LockerKind, core: null };
        current = session;
        log(`controller ${peer} authenticated: ${session.kind} on ${session.file}`);
        socket.write(JSON.stringify({ ready: true, pid: process.pid, host: hostname(), now: nowMs() }) + '\n');
        return;
      }
      const s = session;
      if (!s.core && line.trim() === 'time') {
        socket.write(JSON.stringify({ now: nowMs() }) + '\n');
        return;
      }
      if (!s.core) {
        const m = /^epoch\s+(-?[\d.]+)$/.exec(line.trim());
        if (!m) return refuse('expected "epoch MS"');
        s.core = new LockerCore(s.file, s.kind, Number(m[1]));
        return;
      }
      if (!line.trim()) return;
      const core = s.core;
      core.push(line, (r: Report) => {
        if (socket.writable) socket.write(JSON.stringify(r) + '\n');
        if (core.stopped) socket.end();
      });
    });
  });

  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen({
        address: server.address() as AddressInfo,
        close: () =>
          new Promise<void>((done) => {
            current?.core?.close();
            current?.socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Connects to a locker server, authenticates, and returns a handle whose reports carry
 * times relative to `epoch` (the controller's clock; the locker's clock offset is
 * estimated from the handshake round trip, as NTP does, and folded into its epoch).
 */
export function connectRemote(spec: RemoteLockerSpec, epoch: number, timeoutMs: number): Promise<LockerHandle> {
  const where = `${spec.host}:${spec.port}`;
  const name = spec.name ?? where;
  return new Promise((resolveConnect, reject) => {
    const socket = createConnection({ host: spec.host, port: spec.port });
    socket.setKeepAlive(true, 10_000);
    socket.setNoDelay(true);
    const handle = new LockerHandle(
      name,
      'remote',
      epoch,
      (line) => socket.write(line + '\n'),
      () => socket.destroy(),
      where,
    );
    let ready = false;
    let probing = false;
    let probes = 0;
    let best = { rtt: Infinity, offset: 0 };
    let sentAt = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`locker ${name} at ${where}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      sentAt = nowMs();
      socket.write(JSON.stringify({ hello: PROTOCOL, token: spec.token, file: spec.file, kind: spec.kind }) + '\n');
    });
    createInterface({ input: socket }).on('line', (line) => {
      let msg: { ready?: boolean; pid?: number; now?: number; error?: string };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (ready) return handle.onReport(msg as Report);
      if (probing) {
        // NTP's estimate: the locker read its clock halfway through the round trip; the
        // sample with the shortest round trip bounds the error best (± RTT/2).
        const back = nowMs();
        const rtt = back - sentAt;
        if (rtt < best.rtt) best = { rtt, offset: (msg.now ?? back) - (sentAt + back) / 2 };
        if (++probes < CLOCK_PROBES) {
          sentAt = nowMs();
          socket.write('time\n');
          return;
        }
        clearTimeout(timer);
        ready = true;
        socket.write(`epoch ${(epoch + best.offset).toFixed(3)}\n`);
        return resolveConnect(handle);
      }
      if (!msg.ready) {
        clearTimeout(timer);
        socket.destroy();
        return reject(new Error(`locker ${name} at ${where} refused the connection: ${msg.error ?? line}`));
      }
      handle.pid = msg.pid ?? -1;
      probing = true;
      sentAt = nowMs();
      socket.write('time\n');
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`locker ${name} at ${where}: ${err.message}`));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      handle.onExit('connection closed');
      if (!ready) reject(new Error(`locker ${name} at ${where} closed the connection before it was ready`));
    });
  });
}
