/**
 * Queries against try-locks: F_OFD_GETLK beside F_GETLK, whether the query agrees with
 * a try-lock, and whether a bounded wait really ends at its bound on this filesystem.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import type { Report } from '../locker.js';
import {
  contender,
  contention,
  holder,
  must,
  NotVisibleError,
  say,
  step,
  type Measured,
  type Scenario,
} from './common.js';

/** The command name of `pid` (/proc/PID/comm), or null. */
function commOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * The token for a GETLK answer while `holderPid` holds the lock: `invisible` (free),
 * `pid` (the holder), `pid-minus-1` (an OFD lock has no owning pid) or `other-pid`
 * (a pid that is not the holder's: a FUSE daemon, a process on another host).
 */
export function getlkOutcome(q: Report, holderPid: number, log: string[]): Measured {
  if (q.result === 'free') return { outcome: 'invisible', detail: log.join('; ') };
  const pid = Number(q.data?.['pid']);
  if (pid === holderPid) return { outcome: 'pid', detail: `${log.join('; ')} — the holder's pid is ${holderPid}` };
  if (pid === -1) return { outcome: 'pid-minus-1', detail: log.join('; ') };
  const comm = commOf(pid);
  return {
    outcome: 'other-pid',
    detail: `${log.join('; ')} — pid ${pid}${comm ? ` (${comm})` : ' (not a process here)'} is not the holder ${holderPid}`,
  };
}

/** The query and try-lock rows. */
export const queryScenarios: readonly Scenario[] = [
  {
    name: 'ofd_getlk_reports',
    summary: 'A holds a write lock; B asks F_OFD_GETLK (the OFD query): does it see the holder, with which pid?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx, { kind: 'ofd' })]);
      await must(a, 'lock write', log);
      const q = await must(b, 'getlk write ofd', log, ['held', 'free']);
      return getlkOutcome(q, a.pid, log);
    },
  },
  {
    name: 'query_matches_try',
    summary:
      "A holds a write lock; B queries its own kind's lock (F_GETLK / F_OFD_GETLK), then try-locks: do they agree?",
    async run(ctx) {
      if (ctx.kind !== 'posix' && ctx.kind !== 'ofd')
        return { outcome: 'n/a', detail: `not run: ${ctx.kind} has no query call (only fcntl locks have GETLK)` };
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      await must(a, 'lock write', log);
      const q = await must(b, `getlk write${ctx.kind === 'ofd' ? ' ofd' : ''}`, log, ['held', 'free']);
      const t = contention(await step(b, 'lock write', log));
      if (t === 'granted') await must(b, 'unlock', log);
      const agree = (q.result === 'held') === (t === 'conflict');
      return {
        outcome: agree ? 'consistent' : 'inconsistent',
        detail: `${log.join('; ')} — query says ${q.result}, try-lock says ${t}`,
      };
    },
  },
  {
    name: 'bounded_wait_timeout',
    summary:
      'A holds a write lock; B waits for it with timeout=500 ms: does the wait end at its bound, after how long?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      await must(a, 'lock write', log);
      const bound = 500;
      const t0 = performance.now();
      // The report must come within 10 s of the bound; else the send rejects: an `error` cell.
      const r = await b.send(`lock write wait timeout=${bound}`, bound + 10_000);
      const took = Math.round(performance.now() - t0);
      log.push(`${say(b, r)} after ${took} ms`);
      if (r.result === 'granted') {
        await must(b, 'unlock', log);
        throw new NotVisibleError(`${log.join('; ')} — granted at once: B does not see A's lock`);
      }
      if (r.result !== 'timeout') {
        contention(r); // unsupported errno → its own token
        throw new Error(`unexpected: ${log.join('; ')}`);
      }
      return {
        outcome: took <= bound + 1000 ? 'timeout' : 'late-timeout',
        detail: `${log.join('; ')} — asked for ${bound} ms, the wait took ${took} ms`,
      };
    },
  },
];
