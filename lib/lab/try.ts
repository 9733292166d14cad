/**
 * `syslocks-lab try FILE`: says at once whether the lock would be granted and, if
 * not, who holds it (pid and command for every kind, from /proc on Linux), with what
 * F_GETLK alone would have said. With `--wait` it waits (showing that it waits and
 * for how long) until granted, `--timeout` elapses or Ctrl-C.
 * @packageDocumentation
 */
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { lock, tryLock, type LockKind, type LockMode } from '../index.js';
import { getlkText, holderLines, holdersOrReason, lockText } from './describe.js';
import { LiveLine } from './term.js';

/** Options of {@link tryCommand}. */
export interface TryOptions {
  /** The file; it must exist (`try` asks about a file, it never creates one). */
  file: string;
  /** Lock kind. */
  kind: LockKind | 'auto';
  /** Lock mode. */
  mode: LockMode;
  /** Byte range; omitted = whole file. */
  range?: { start: number; length: number };
  /** Wait until granted. */
  wait: boolean;
  /** With `wait`: give up after this many ms. */
  timeoutMs?: number;
  /** Where to print (default stdout). */
  out?: NodeJS.WriteStream;
}

/** Exit codes of `try`. */
export const TRY_EXIT = { granted: 0, busy: 1, missing: 2, timedOut: 3, aborted: 130 } as const;

/**
 * Opens `file` without O_CREAT: read-write if allowed, else read-only (enough for a
 * shared lock, and for flock of any mode). Null if it does not exist.
 */
function openExisting(file: string): number | null {
  try {
    return openSync(file, fsConstants.O_RDWR);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') throw err;
    return openSync(file, fsConstants.O_RDONLY);
  }
}

/** Runs `try`; resolves with the exit code ({@link TRY_EXIT}). */
export async function tryCommand(opts: TryOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const say = (s: string): boolean => out.write(s + '\n');
  const fd = openExisting(opts.file);
  if (fd === null) {
    process.stderr.write(`syslocks-lab: try: ${opts.file}: no such file (try never creates the file it asks about)\n`);
    return TRY_EXIT.missing;
  }
  try {
    return await tryOn(fd, opts, say);
  } finally {
    closeSync(fd);
  }
}

async function tryOn(fd: number, opts: TryOptions, say: (s: string) => boolean): Promise<number> {
  const out = opts.out ?? process.stdout;
  const base = { kind: opts.kind, mode: opts.mode, ...(opts.range ? { range: opts.range } : {}) };
  const first = tryLock(fd, base);
  if (first) {
    say(
      `granted: ${lockText(first.kind, first.mode, opts.file, first.range.start, first.range.length)} is free (pid ${process.pid}); released again`,
    );
    first.release();
    return TRY_EXIT.granted;
  }
  say(`busy: ${opts.mode} lock on ${opts.file} is not available. Held by:`);
  const list = holdersOrReason(opts.file);
  if (typeof list === 'string') say(`  ${list}`);
  else if (list.length === 0) say('  (no lock in /proc/locks: released meanwhile, or in another PID namespace)');
  else for (const line of holderLines(list)) say(line);
  say(getlkText(opts.file, opts.range?.start ?? 0, opts.range?.length ?? 0));
  if (!opts.wait) return TRY_EXIT.busy;

  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.on('SIGINT', onSigint);
  const started = performance.now();
  const live = new LiveLine(out);
  const seconds = (): string => ((performance.now() - started) / 1000).toFixed(2);
  say(
    `waiting for the lock${opts.timeoutMs !== undefined ? ` (timeout ${opts.timeoutMs} ms)` : ''}; Ctrl-C to give up`,
  );
  const ticker = setInterval(() => live.update(`waiting... ${seconds()} s`), 100);
  try {
    const got = await lock(fd, {
      ...base,
      signal: abort.signal,
      ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
    });
    clearInterval(ticker);
    live.clear();
    say(
      `granted after ${seconds()} s: ${lockText(got.kind, got.mode, opts.file, got.range.start, got.range.length)} (pid ${process.pid}); released again`,
    );
    got.release();
    return TRY_EXIT.granted;
  } catch (err) {
    clearInterval(ticker);
    live.clear();
    const code = (err as { code?: string }).code;
    if (code === 'ABORT_ERR') {
      say(`gave up after ${seconds()} s (Ctrl-C); no lock taken`);
      return TRY_EXIT.aborted;
    }
    if (code === 'ETIMEDOUT') {
      say(`timed out after ${seconds()} s; no lock taken`);
      return TRY_EXIT.timedOut;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
