/**
 * Do two lock families see each other? In `X_vs_Y_interaction`, column X means a Y
 * lock is held by another process and an X lock is asked for; column Y the reverse.
 * Columns of kinds the row does not name are `n/a` by definition (nothing is run).
 * @packageDocumentation
 */
import type { LabKind, ScenarioName } from '../types.js';
import { contender, contention, holder, must, step, type Scenario } from './common.js';

function interaction(name: ScenarioName, x: LabKind, y: LabKind): Scenario {
  return {
    name,
    summary: `another process holds a ${y} (or ${x}) write lock; is a ${x} (or ${y}) write lock granted?`,
    async run(ctx) {
      if (ctx.kind !== x && ctx.kind !== y) {
        return { outcome: 'n/a', detail: `not run: the row compares ${x} and ${y} only` };
      }
      const held = ctx.kind === x ? y : x;
      const log: string[] = [`holder kind ${held}, contender kind ${ctx.kind}`];
      const [a, b] = await Promise.all([holder(ctx, { kind: held }), contender(ctx)]);
      await must(a, 'lock write', log);
      const outcome = contention(await step(b, 'lock write', log));
      return { outcome, detail: log.join('; ') };
    },
  };
}

/** The three interaction rows. */
export const interactionScenarios: readonly Scenario[] = [
  interaction('ofd_vs_posix_interaction', 'ofd', 'posix'),
  interaction('flock_vs_posix_interaction', 'flock', 'posix'),
  interaction('flock_vs_ofd_interaction', 'flock', 'ofd'),
];
