/**
 * The locker's command language (see locker.ts for what each command does): the
 * parsed form of a command line, and its parser. Bad input throws an Error whose
 * message names the offending word.
 * @packageDocumentation
 */
import type { LockKind, LockMode, LockRange } from '../index.js';

/** A lock kind a locker understands: every OS kind, plus the lab's in-process `mutex`. */
export type LockerKind = LockKind | 'mutex';

/** A parsed command. */
export interface Command {
  /** The verb. */
  op:
    | 'lock'
    | 'unlock'
    | 'unlockif'
    | 'stop'
    | 'open'
    | 'close'
    | 'getlk'
    | 'readfile'
    | 'spawnchild'
    | 'killchild'
    | 'sig'
    | 'sleep';
  /** `read` / `write` for lock and getlk. */
  mode?: LockMode;
  /** Run at this many ms after the controller's epoch. */
  at?: number;
  /** Named fd (default `main`, opened read-write on first use). */
  fd: string;
  /** Lock kind override (default: the locker's kind). */
  kind?: LockerKind;
  /** Byte range. */
  range?: LockRange;
  /** Wait for the lock instead of trying once. */
  wait: boolean;
  /** Bound of a wait, ms. */
  timeout?: number;
  /** open: read-only. getlk: use F_OFD_GETLK. */
  flag: boolean;
  /** open: a path other than the locker's file. sleep/sig: milliseconds. */
  arg?: string;
  /** sig: write the signature at this many ms after the epoch. */
  writeAt?: number;
  /** The text the command came from. */
  text: string;
}

const KINDS = new Set<string>(['flock', 'posix', 'ofd', 'windows', 'mutex']);
const OPS = new Set<string>([
  'lock',
  'unlock',
  'unlockif',
  'stop',
  'open',
  'close',
  'getlk',
  'readfile',
  'spawnchild',
  'killchild',
  'sig',
  'sleep',
]);

/** Parses `S:L` into a range. */
export function parseRange(text: string): LockRange {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new Error(`bad range '${text}' (expected START:LENGTH)`);
  const num = (s: string): number | bigint => (BigInt(s) > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(s) : Number(s));
  return { start: num(m[1]!), length: num(m[2]!) };
}

/** Parses one command line. Throws an Error with a readable message on bad input. */
export function parseCommand(text: string): Command {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const op = words.shift();
  if (!op || !OPS.has(op)) throw new Error(`unknown command '${text}'`);
  const cmd: Command = { op: op as Command['op'], fd: 'main', wait: false, flag: false, text: text.trim() };
  if (op === 'open' || op === 'close') {
    const name = words.shift();
    if (!name || !/^\w+$/.test(name)) throw new Error(`'${op}' needs an fd name`);
    cmd.fd = name;
  }
  while (words.length) {
    const w = words.shift()!;
    if (w === 'read' || w === 'write') cmd.mode = w === 'read' ? 'shared' : 'exclusive';
    else if (w === 'at') cmd.at = Number(words.shift());
    else if (w === 'wait') cmd.wait = true;
    else if (w === 'ro' || w === 'ofd') cmd.flag = true;
    else if (w.startsWith('fd=')) cmd.fd = w.slice(3);
    else if (w.startsWith('kind=') && KINDS.has(w.slice(5))) cmd.kind = w.slice(5) as LockerKind;
    else if (w.startsWith('writeat=')) cmd.writeAt = Number(w.slice(8));
    else if (w.startsWith('range=')) cmd.range = parseRange(w.slice(6));
    else if (w.startsWith('timeout=')) cmd.timeout = Number(w.slice(8));
    else if (w.startsWith('path=')) cmd.arg = w.slice(5);
    else if (w.startsWith('pause=')) cmd.arg = w.slice(6);
    else if (op === 'sleep' && /^\d+$/.test(w)) cmd.arg = w;
    else throw new Error(`unexpected '${w}' in '${text}'`);
  }
  if ((op === 'lock' || op === 'getlk') && !cmd.mode) throw new Error(`'${op}' needs read or write`);
  if (cmd.at !== undefined && !Number.isFinite(cmd.at)) throw new Error(`bad 'at' in '${text}'`);
  if (cmd.writeAt !== undefined && !Number.isFinite(cmd.writeAt)) throw new Error(`bad 'writeat' in '${text}'`);
  return cmd;
}
