/**
 * overlayfs rows (`matrix --copy-up`): a file of the lower layer is opened read-only
 * through the overlay and locked; then another process opens it read-write, which
 * copies it up to the upper layer (overlayfs.rst, "Non-directories": "the file is
 * copied up from the lower to the upper filesystem" on the first open for write).
 * Does the lock survive? And does a process that opens the layer's file directly,
 * bypassing the overlay, see a lock taken through it?
 *
 * A read-only fd carries a read lock for posix/ofd (fcntl(2): F_WRLCK needs a fd open
 * for writing) and an exclusive lock for flock (flock(2) has no such rule).
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import type { LabKind } from '../types.js';
import {
  contender,
  contention,
  holder,
  must,
  NotVisibleError,
  step,
  type CellContext,
  type Locker,
  type OverlayCell,
  type Scenario,
} from './common.js';

function overlayOf(ctx: CellContext): OverlayCell | null {
  return ctx.overlay;
}

const NOT_OVERLAY = {
  outcome: 'n/a',
  detail: 'not run: needs matrix --copy-up with --dir on an overlay mount',
} as const;

/** The lock A can take through a read-only fd. */
const roMode = (kind: LabKind): 'read' | 'write' => (kind === 'flock' ? 'write' : 'read');

/** B checks, through its own read-only fd on the merged file (no copy-up), that it sees A's lock. */
async function seesBeforeCopyUp(ctx: CellContext, b: Locker, merged: string, log: string[]): Promise<void> {
  await must(b, `open peek ro path=${merged}`, log);
  let seen: boolean;
  if (ctx.kind === 'flock') {
    const r = contention(await step(b, 'lock write fd=peek', log));
    if (r === 'granted') await must(b, 'unlock fd=peek', log);
    seen = r === 'conflict';
  } else {
    const q = await must(b, `getlk write fd=peek${ctx.kind === 'ofd' ? ' ofd' : ''}`, log, ['held', 'free']);
    seen = q.result === 'held';
  }
  if (!seen) throw new NotVisibleError(`${log.join('; ')} — B does not see A's lock before the copy-up`);
}

/** The overlay rows. */
export const overlayScenarios: readonly Scenario[] = [
  {
    name: 'overlay_copy_up_keeps_lock',
    summary:
      'A locks a lower-layer file through a read-only fd; B opens it read-write (copy-up): is the lock still held?',
    async run(ctx) {
      const o = overlayOf(ctx);
      if (!o) return NOT_OVERLAY;
      if (!o.upper) return { outcome: 'n/a', detail: 'not run: the overlay has no upper layer (read-only)' };
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx, { file: o.merged }), contender(ctx, { file: o.merged })]);
      await must(a, `open ro ro path=${o.merged}`, log);
      await must(a, `lock ${roMode(ctx.kind)} fd=ro`, log);
      await seesBeforeCopyUp(ctx, b, o.merged, log);
      await must(b, `open rw path=${o.merged}`, log);
      const c = contention(await step(b, 'lock write fd=rw', log));
      if (c === 'granted') await must(b, 'unlock fd=rw', log);
      return { outcome: c === 'conflict' ? 'held' : 'released', detail: `${log.join('; ')} — copied up by B's open` };
    },
  },
  {
    name: 'overlay_lower_bypass',
    summary:
      'A locks a lower-layer file through the overlay (read-only fd); B opens the lower file directly: conflict?',
    async run(ctx) {
      const o = overlayOf(ctx);
      if (!o) return NOT_OVERLAY;
      const log: string[] = [];
      const [a, b] = await Promise.all([holder(ctx, { file: o.merged }), contender(ctx, { file: o.lower })]);
      await must(a, `open ro ro path=${o.merged}`, log);
      await must(a, `lock ${roMode(ctx.kind)} fd=ro`, log);
      const c = contention(await step(b, 'lock write', log));
      return { outcome: c, detail: `${log.join('; ')} — B opened ${o.lower} (the lower layer) directly` };
    },
  },
  {
    name: 'overlay_upper_bypass',
    summary:
      'A opens a lower-layer file read-write through the overlay (copy-up) and locks it; B opens the upper file directly: conflict?',
    async run(ctx) {
      const o = overlayOf(ctx);
      if (!o) return NOT_OVERLAY;
      if (!o.upper) return { outcome: 'n/a', detail: 'not run: the overlay has no upper layer (read-only)' };
      const log: string[] = [];
      const a = await holder(ctx, { file: o.merged });
      await must(a, 'lock write', log); // opens read-write: copy-up
      // B's open would create the file if the copy-up had not happened: check first.
      if (!existsSync(o.upper)) throw new Error(`no copy-up: ${o.upper} does not exist after A's read-write open`);
      log.push(`copied up: ${o.upper} exists`);
      const b = await contender(ctx, { file: o.upper });
      const c = contention(await step(b, 'lock write', log));
      return { outcome: c, detail: `${log.join('; ')} — B opened ${o.upper} (the upper layer) directly` };
    },
  },
];
