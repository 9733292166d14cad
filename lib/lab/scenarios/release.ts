/**
 * What makes a held lock go away: closing another fd, Node's own fs calls, handing
 * the fd to a child, SIGKILL, and another process's unlock.
 * @packageDocumentation
 */
import { contender, holder, must, mustSee, probeHeld, step, type CellContext, type Scenario } from './common.js';

/** A locks, B sees it, A opens the file again (through `path`) and closes that fd; still held? */
async function closeOther(ctx: CellContext, path: string) {
  const log: string[] = [];
  const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
  await must(a, 'lock write', log);
  await mustSee(b, log);
  await must(a, `open other path=${path}`, log);
  await must(a, 'close other', log);
  const outcome = await probeHeld(b, log);
  return { outcome, detail: log.join('; ') };
}

/**
 * The release scenarios. Each first checks that process B sees A's lock (else the cell
 * is `not-visible`), then probes with a write try-lock from B after the action.
 */
export const releaseScenarios: readonly Scenario[] = [
  {
    name: 'close_other_fd_releases',
    summary: 'A holds a write lock via fd1, opens the file again as fd2 and closes fd2; is the lock still held?',
    run: (ctx) => closeOther(ctx, ctx.file()),
  },
  {
    name: 'close_other_fd_peer_releases',
    summary: 'as close_other_fd_releases, but fd2 is opened through the peer mount (--peer-dir; else the same path)',
    run: (ctx) => closeOther(ctx, ctx.peerFile()),
  },
  {
    name: 'node_fs_read_releases',
    summary: 'A holds a write lock, then calls fs.readFileSync(path) in the same process; is the lock still held?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      await must(a, 'lock write', log);
      await mustSee(b, log);
      await must(a, 'readfile', log);
      const outcome = await probeHeld(b, log);
      return { outcome, detail: log.join('; ') };
    },
  },
  {
    name: 'child_inherits',
    summary:
      'A locks, spawns a child with the fd as its fd 3, then closes its own fd; is the lock still held (by the child)?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      try {
        await must(a, 'lock write', log);
        await mustSee(b, log);
        await must(a, 'spawnchild fd=main', log);
        await must(a, 'close main', log);
        const outcome = await probeHeld(b, log);
        return { outcome, detail: log.join('; ') };
      } finally {
        await a.send('killchild').catch(() => undefined);
      }
    },
  },
  {
    name: 'holder_killed_releases',
    summary: 'A holds a write lock and is killed with SIGKILL; is the lock released?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      await must(a, 'lock write', log);
      await mustSee(b, log);
      await a.kill();
      log.push(`A(pid ${a.pid}) SIGKILL, exited`);
      const outcome = await probeHeld(b, log);
      return { outcome, detail: log.join('; ') };
    },
  },
  {
    name: 'other_process_unlock_noop',
    summary: 'A holds a write lock; B (not the owner) issues an unlock on its own fd; is the lock still held?',
    async run(ctx) {
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx), contender(ctx)]);
      await must(a, 'lock write', log);
      await mustSee(b, log);
      await step(b, 'unlock', log);
      const outcome = await probeHeld(b, log);
      return { outcome, detail: log.join('; ') };
    },
  },
];
