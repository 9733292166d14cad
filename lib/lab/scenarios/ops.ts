/**
 * Operations on a held lock and queries: upgrade, splitting, deadlock detection,
 * F_GETLK, write locks on read-only fds, and a lock file replaced by rename.
 * @packageDocumentation
 */
import { renameSync, statSync, writeFileSync } from 'node:fs';
import { holders } from '../../index.js';
import {
  contender,
  contention,
  flockRangeNA,
  holder,
  must,
  mustSee,
  NotVisibleError,
  say,
  step,
  type Scenario,
} from './common.js';
import { getlkOutcome } from './query.js';

/** The remaining scenarios. */
export const opScenarios: readonly Scenario[] = [
  {
    name: 'upgrade_shared_to_exclusive_atomic',
    summary:
      'A and B hold read locks; A tries to upgrade to write (refused); B unlocks and asks for write: does A still hold its read lock?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      await must(a, 'lock read', log);
      await must(b, 'lock read', log);
      const up = await step(a, 'lock write', log);
      if (contention(up) === 'granted')
        throw new NotVisibleError(`${log.join('; ')} — the upgrade was granted: A does not see B's read lock`);
      await must(b, 'unlock', log);
      const after = contention(await step(b, 'lock write', log));
      return {
        outcome: after === 'conflict' ? 'atomic' : 'not-atomic',
        detail: `${log.join('; ')} — A's read lock ${after === 'conflict' ? 'survived' : 'was lost'}`,
      };
    },
  },
  {
    name: 'lock_splitting',
    summary: 'A write-locks bytes 0-99 and unlocks 40-59: are 0-39 and 60-99 still held and 40-59 free (B tries each)?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      if (ctx.kind === 'flock') return flockRangeNA(a, 'lock write range=0:100', log);
      await must(a, 'lock write range=0:100', log);
      await mustSee(b, log, ' range=0:100');
      await must(a, 'unlock range=40:20', log);
      let entries = '';
      if (process.platform === 'linux') {
        const mine = holders(ctx.file()).filter((h) => h.pid === a.pid && !h.waiting);
        entries = `; /proc/locks: ${mine.map((h) => `${h.start}+${h.length}`).join(', ')}`;
      }
      const low = contention(await step(b, 'lock write range=0:40', log));
      const mid = contention(await step(b, 'lock write range=40:20', log));
      if (mid === 'granted') await must(b, 'unlock range=40:20', log);
      const high = contention(await step(b, 'lock write range=60:40', log));
      const split = low === 'conflict' && mid === 'granted' && high === 'conflict';
      return { outcome: split ? 'split' : 'not-split', detail: log.join('; ') + entries };
    },
  },
  {
    name: 'deadlock_detection',
    summary:
      'AB/BA: A holds file 1 and waits for file 2, B holds file 2 and waits for file 1 (1 s bound): does one side get EDEADLK?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([
        holder(ctx, { file: ctx.file('one') }),
        contender(ctx, { file: ctx.peerFile('two') }),
      ]);
      await must(a, `open two path=${ctx.file('two')}`, log);
      await must(b, `open two path=${ctx.peerFile('one')}`, log);
      await must(a, 'lock write', log);
      await must(b, 'lock write', log);
      await mustSee(b, log, ' fd=two');
      const t = ctx.controller.at(100);
      const [ra, rb] = await Promise.all([
        a.send(`lock write fd=two wait timeout=1000 at ${t}`),
        b.send(`lock write fd=two wait timeout=1000 at ${t + 150}`),
      ]);
      log.push(say(a, ra), say(b, rb));
      const results = [ra, rb];
      if (results.some((r) => r.code === 'EDEADLK')) return { outcome: 'edeadlk', detail: log.join('; ') };
      if (results.every((r) => r.result === 'timeout'))
        return { outcome: 'none', detail: `${log.join('; ')} — both waited until their timeouts` };
      throw new Error(`unexpected deadlock results: ${log.join('; ')}`);
    },
  },
  {
    name: 'getlk_reports',
    summary:
      'A holds a write lock; B asks F_GETLK (the traditional POSIX query): does it see the holder, with which pid?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx, { kind: 'posix' })]);
      await must(a, 'lock write', log);
      const q = await must(b, 'getlk write', log, ['held', 'free']);
      return getlkOutcome(q, a.pid, log);
    },
  },
  {
    name: 'exclusive_on_readonly_fd',
    summary: 'a write (exclusive) lock through an fd opened O_RDONLY: granted or EBADF?',
    async run(ctx) {
      const log: string[] = [];
      writeFileSync(ctx.file(), 'readonly');
      const a = await holder(ctx);
      await must(a, 'open ro ro', log);
      const r = await step(a, 'lock write fd=ro', log);
      if (r.result === 'granted') return { outcome: 'granted', detail: log.join('; ') };
      if (r.code === 'EBADF') return { outcome: 'ebadf', detail: log.join('; ') };
      throw new Error(`unexpected: ${log.join('; ')} ${r.message ?? ''}`);
    },
  },
  {
    name: 'rename_replaced_file',
    summary:
      'A holds a write lock on the path; another file is renamed over the path; is a fresh open of the path locked?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      await must(a, 'lock write', log);
      await mustSee(b, log);
      const before = statSync(ctx.file()).ino;
      writeFileSync(ctx.file('replacement'), 'new');
      renameSync(ctx.file('replacement'), ctx.file());
      log.push(`rename(replacement, f): inode ${before} -> ${statSync(ctx.file()).ino}`);
      // Through another client (--peer-dir on a network filesystem) the first open
      // after the rename may fail with ESTALE (errno 116) while that client still
      // caches the old inode; open(2) is retried, as NFS clients do, and logged.
      for (let tries = 1; ; tries++) {
        const r = await step(b, 'open fresh', log);
        if (r.result === 'done') break;
        if (tries >= 5 || !/ESTALE|-116\b/.test(`${r.code ?? ''} ${r.message ?? ''}`))
          throw new Error(`setup step failed: ${log.join('; ')}`);
        await new Promise((res) => setTimeout(res, 200));
      }
      const c = contention(await step(b, 'lock write fd=fresh', log));
      return { outcome: c === 'granted' ? 'new-file-unlocked' : 'new-file-locked', detail: log.join('; ') };
    },
  },
];
