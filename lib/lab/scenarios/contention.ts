/**
 * Who excludes whom: two processes, two fds of one process, two worker threads,
 * disjoint byte ranges and a length-0 lock probed at 1 TiB.
 * @packageDocumentation
 */
import { contender, contention, flockRangeNA, holder, must, step, type Scenario } from './common.js';

const TIB = 1n << 40n;

/** Two processes: A holds, B asks for the same mode. */
function twoProcesses(name: 'two_processes_exclusive' | 'two_processes_shared', mode: 'read' | 'write'): Scenario {
  return {
    name,
    summary: `process A holds a ${mode} lock on the whole file; does process B get a ${mode} lock?`,
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      await must(a, `lock ${mode}`, log);
      const outcome = contention(await step(b, `lock ${mode}`, log));
      return { outcome, detail: log.join('; ') };
    },
  };
}

/** The contention scenarios. */
export const contentionScenarios: readonly Scenario[] = [
  twoProcesses('two_processes_exclusive', 'write'),
  twoProcesses('two_processes_shared', 'read'),
  {
    name: 'same_process_two_fds',
    summary: 'one process opens the file twice and asks for a write lock through each fd',
    async run(ctx) {
      const log: string[] = [];
      const a = await holder(ctx);
      await must(a, `open second path=${ctx.peerFile()}`, log);
      await must(a, 'lock write fd=main', log);
      const outcome = contention(await step(a, 'lock write fd=second', log));
      return { outcome, detail: log.join('; ') };
    },
  },
  {
    name: 'threads_two_fds',
    summary: 'two worker_threads of one process, each with its own fd, ask for a write lock',
    async run(ctx) {
      const log: string[] = [];
      const [t1, t2] = await Promise.all([
        holder(ctx, { type: 'thread' }),
        contender(ctx, { type: 'thread', name: 'T2' }),
      ]);
      await must(t1, 'lock write', log);
      const outcome = contention(await step(t2, 'lock write', log));
      return { outcome, detail: log.join('; ') };
    },
  },
  {
    name: 'byte_ranges_disjoint',
    summary: 'process A write-locks bytes 0-9; does process B get a write lock on bytes 10-19?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      if (ctx.kind === 'flock') return flockRangeNA(a, 'lock write range=0:10', log);
      await must(a, 'lock write range=0:10', log);
      const outcome = contention(await step(b, 'lock write range=10:10', log));
      return { outcome, detail: log.join('; ') };
    },
  },
  {
    name: 'lock_len_zero_to_eof',
    summary:
      'process A write-locks from byte 5 with length 0 on a 48-byte file; does it conflict with B at offset 1 TiB?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      if (ctx.kind === 'flock') return flockRangeNA(a, 'lock write range=5:0', log);
      await must(a, 'sig', log, ['same']); // makes the file non-empty (48 bytes)
      await must(a, 'lock write range=5:0', log);
      const outcome = contention(await step(b, `lock write range=${TIB}:1`, log));
      return { outcome, detail: log.join('; ') };
    },
  },
];
