/**
 * `syslocks-lab hold FILE`: takes a lock and keeps it until Enter, Ctrl-C, SIGTERM
 * or `--for SECONDS`, printing what it holds. The first terminal of the two-terminal
 * experiment.
 * @packageDocumentation
 */
import { lock, tryLock, type FileLock, type LockKind, type LockMode } from '../index.js';
import { lockText } from './describe.js';

/** Options of {@link hold}. */
export interface HoldOptions {
  /** The file (created if missing). */
  file: string;
  /** Lock kind (`auto` = the library's default here). */
  kind: LockKind | 'auto';
  /** Lock mode. */
  mode: LockMode;
  /** Byte range; omitted = whole file. */
  range?: { start: number; length: number };
  /** Release after this many seconds instead of waiting for Enter. */
  forSeconds?: number;
  /** Where to print (default stdout). */
  out?: NodeJS.WritableStream;
}

/**
 * setTimeout for any duration: Node fires timers longer than 2^31 - 1 ms at once
 * (with a TimeoutOverflowWarning), so a long hold is a chain of shorter timers.
 * Returns a function that cancels it.
 */
export function longTimeout(fn: () => void, ms: number): () => void {
  const deadline = performance.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = deadline - performance.now();
    if (left <= 0) return fn();
    timer = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
  };
  arm();
  return () => clearTimeout(timer);
}

/** Runs `hold`; resolves with the exit code once the lock is released. */
export async function hold(opts: HoldOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const say = (s: string): boolean => out.write(s + '\n');
  const base = { kind: opts.kind, mode: opts.mode, ...(opts.range ? { range: opts.range } : {}) };
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let held: FileLock | null = null;
  try {
    held = tryLock(opts.file, base);
    if (!held) {
      say(`busy: waiting for ${opts.mode} lock on ${opts.file} (Ctrl-C to give up)`);
      try {
        held = await lock(opts.file, { ...base, signal: abort.signal });
      } catch (err) {
        if ((err as { code?: string }).code === 'ABORT_ERR') {
          say('gave up waiting; no lock taken');
          return 130;
        }
        throw err;
      }
    }
    const started = performance.now();
    say(
      `holding ${lockText(held.kind, held.mode, opts.file, held.range.start, held.range.length)} as pid ${process.pid}`,
    );
    say(
      opts.forSeconds !== undefined
        ? `releasing in ${opts.forSeconds} s (or Enter / Ctrl-C)`
        : 'press Enter or Ctrl-C to release',
    );
    await new Promise<void>((resolve) => {
      const keepAlive = setInterval(() => undefined, 1 << 30);
      const cancel = opts.forSeconds !== undefined ? longTimeout(done, opts.forSeconds * 1000) : undefined;
      const onData = (d: Buffer): void => {
        if (d.includes(10) || d.includes(13)) done();
      };
      function done(): void {
        clearInterval(keepAlive);
        cancel?.();
        process.stdin.off('data', onData);
        process.stdin.pause();
        abort.signal.removeEventListener('abort', done);
        resolve();
      }
      abort.signal.addEventListener('abort', done);
      if (abort.signal.aborted) return done();
      process.stdin.on('data', onData);
      process.stdin.on('error', () => undefined);
    });
    held.release();
    say(`released after ${((performance.now() - started) / 1000).toFixed(2)} s`);
    return 0;
  } finally {
    if (held && !held.released) held.release();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
