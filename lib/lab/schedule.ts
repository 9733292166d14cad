/**
 * Schedule files for `syslocks-lab controller`: which lockers to start or connect to,
 * and the timed commands each one runs. The format (docs/LAB.md):
 *
 * ```text
 * # comment
 * locker A kind=ofd file=/srv/data/app.lock                        a local locker process
 * locker B kind=ofd file=/mnt/b/app.lock remote=10.0.0.2:7001      a remote `syslocks-lab locker`
 *          [token-env=NAME | token-file=PATH]                      its token (default: env SYSLOCKS_LAB_TOKEN)
 * A lock write at +0s
 * B lock write wait timeout=10000 at +1s
 * A unlock at now+2s
 * B unlockif at 2026-11-30T21:00:05Z
 * B stop
 * ```
 *
 * Times: `+2s` / `+500ms` / `+1.5s` (after time zero: the moment every locker is ready),
 * `now+6s` (after the same locker's previous command reported), an ISO date or a Unix
 * time in ms (absolute), or a plain number below 10^12 (ms after time zero). Each
 * locker runs its commands in file order, one at a time; lockers run in parallel.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import type { LockerKind } from './locker.js';

/** When a command runs. */
export type When =
  { base: 'zero'; ms: number } | { base: 'previous'; ms: number } | { base: 'absolute'; epochMs: number };

/** One locker of a schedule. */
export interface ScheduleLocker {
  /** Its name in the schedule (word characters). */
  name: string;
  /** Default lock kind of its commands. */
  kind: LockerKind;
  /** The file it locks (a path on its own host). */
  file: string;
  /** `HOST:PORT` of a remote locker; absent = a local locker process. */
  remote?: { host: string; port: number };
  /** Where the token of a remote locker comes from. */
  token?: { env: string } | { file: string };
}

/** One timed command. */
export interface ScheduleCommand {
  /** Locker name. */
  locker: string;
  /** The locker command without its `at` part (locker.ts syntax). */
  command: string;
  /** When it runs; absent = as soon as the previous one reported. */
  when?: When;
  /** 1-based line in the schedule file. */
  line: number;
}

/** A parsed schedule. */
export interface Schedule {
  /** Lockers, in file order. */
  lockers: ScheduleLocker[];
  /** Commands, in file order. */
  commands: ScheduleCommand[];
}

const VERBS = new Set(['lock', 'unlock', 'unlockif', 'stop', 'sleep', 'getlk', 'readfile', 'sig']);
const LOCKER_KINDS: readonly string[] = ['flock', 'posix', 'ofd', 'windows', 'mutex'];

/** Parses a duration: `2s`, `1.5s`, `500ms`, `500` (ms). */
function duration(text: string, where: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  if (!m) throw new Error(`${where}: bad duration '${text}' (use e.g. 2s, 1.5s or 500ms)`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** Parses an `at` value (see the module doc). */
export function parseWhen(text: string, where = 'at'): When {
  if (text.startsWith('now+')) return { base: 'previous', ms: duration(text.slice(4), where) };
  if (text.startsWith('+')) return { base: 'zero', ms: duration(text.slice(1), where) };
  if (/^\d+(\.\d+)?$/.test(text)) {
    const n = Number(text);
    return n >= 1e12 ? { base: 'absolute', epochMs: n } : { base: 'zero', ms: n };
  }
  if (/^\d{4}-\d\d-\d\dT/.test(text)) {
    const t = Date.parse(text);
    if (Number.isFinite(t)) return { base: 'absolute', epochMs: t };
  }
  throw new Error(`${where}: bad time '${text}' (use +2s, now+6s, an ISO date or epoch ms)`);
}

/** Parses a schedule from its text; errors name the line. */
export function parseSchedule(text: string): Schedule {
  const lockers: ScheduleLocker[] = [];
  const commands: ScheduleCommand[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    const where = `schedule line ${i + 1}`;
    if (!line) return;
    const words = line.split(/\s+/);
    if (words[0] === 'locker') {
      const name = words[1];
      if (!name || !/^\w+$/.test(name)) throw new Error(`${where}: 'locker' needs a name (word characters)`);
      if (lockers.some((l) => l.name === name)) throw new Error(`${where}: locker ${name} is defined twice`);
      const opts = new Map<string, string>();
      for (const w of words.slice(2)) {
        const eq = w.indexOf('=');
        if (eq < 1) throw new Error(`${where}: expected key=value, got '${w}'`);
        opts.set(w.slice(0, eq), w.slice(eq + 1));
      }
      for (const k of opts.keys())
        if (!['kind', 'file', 'remote', 'token-env', 'token-file'].includes(k))
          throw new Error(`${where}: unknown locker option '${k}'`);
      const kind = opts.get('kind');
      if (!kind || !LOCKER_KINDS.includes(kind))
        throw new Error(
          `${where}: locker ${name} needs kind=${LOCKER_KINDS.join('|')} (explicit: 'auto' differs by version)`,
        );
      const file = opts.get('file');
      if (!file) throw new Error(`${where}: locker ${name} needs file=PATH`);
      const l: ScheduleLocker = { name, kind: kind as LockerKind, file };
      const remote = opts.get('remote');
      if (remote !== undefined) {
        const m = /^(.+):(\d+)$/.exec(remote);
        if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
          throw new Error(`${where}: remote= must be HOST:PORT (got '${remote}')`);
        l.remote = { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
        const tf = opts.get('token-file');
        l.token = tf !== undefined ? { file: tf } : { env: opts.get('token-env') ?? 'SYSLOCKS_LAB_TOKEN' };
      } else if (opts.has('token-env') || opts.has('token-file')) {
        throw new Error(`${where}: a token is only for a remote= locker`);
      }
      lockers.push(l);
      return;
    }
    const name = words[0]!;
    if (!lockers.some((l) => l.name === name))
      throw new Error(`${where}: '${name}' is not a locker defined above (define it with 'locker ${name} ...')`);
    const rest = words.slice(1);
    if (!rest.length || !VERBS.has(rest[0]!)) throw new Error(`${where}: unknown command '${rest.join(' ')}'`);
    const atIndex = rest.indexOf('at');
    let when: When | undefined;
    if (atIndex >= 0) {
      const t = rest[atIndex + 1];
      if (t === undefined || atIndex + 2 !== rest.length) throw new Error(`${where}: 'at TIME' must end the line`);
      when = parseWhen(t, where);
      rest.splice(atIndex, 2);
    }
    commands.push({ locker: name, command: rest.join(' '), line: i + 1, ...(when ? { when } : {}) });
  });
  if (!lockers.length) throw new Error('the schedule defines no locker');
  return { lockers, commands };
}

/** Reads and parses a schedule file. */
export function readSchedule(path: string): Schedule {
  return parseSchedule(readFileSync(path, 'utf8'));
}

/** The token of a remote locker, from the env variable or file the schedule names. */
export function tokenOf(l: ScheduleLocker): string {
  const t = l.token ?? { env: 'SYSLOCKS_LAB_TOKEN' };
  const value = 'file' in t ? readFileSync(t.file, 'utf8').trim() : process.env[t.env];
  if (!value)
    throw new Error(
      `locker ${l.name}: no token (${'file' in t ? `file ${t.file} is empty` : `env ${t.env} is not set`})`,
    );
  return value;
}
