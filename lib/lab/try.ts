/**
 * `syslocks-lab try FILE`: says at once whether the lock would be granted and, if
 * not, who holds it (pid and command for every kind, from /proc on Linux), with what
 * F_GETLK alone would have said. With `--wait` it waits (showing that it waits and
 * for how long) until granted, `--timeout` elapses or Ctrl-C.
 * @packageDocumentation
 */
import { lock, tryLock, type LockKind, type LockMode } from '../index.js';
import { getlkText, holderLines, holdersOrReason, lockText } from './describe.js';
import { LiveLine } from './term.js';

/** Options of {@link tryCommand}. */
export interface TryOptions {
  /** The file (created if missing, like any lock by path). */
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
export const TRY_EXIT = { granted: 0, busy: 1, timedOut: 3, aborted: 130 } as const;

/** Runs `try`; resolves with the exit code ({@link TRY_EXIT}). */
export async function tryCommand(opts: TryOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const say = (s: string): boolean => out.write(s + '\n');
  const base = { kind: opts.kind, mode: opts.mode, ...(opts.range ? { range: opts.range } : {}) };
  const first = tryLock(opts.file, base);
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
    const got = await lock(opts.file, {
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
