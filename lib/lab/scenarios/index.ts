/**
 * Every scenario, in the fixed table order of {@link SCENARIO_NAMES}.
 * @packageDocumentation
 */
import { SCENARIO_NAMES, type ScenarioName } from '../types.js';
import type { Scenario } from './common.js';
import { contentionScenarios } from './contention.js';
import { interactionScenarios } from './interaction.js';
import { opScenarios } from './ops.js';
import { overlayScenarios } from './overlay.js';
import { queryScenarios } from './query.js';
import { releaseScenarios } from './release.js';

const byName = new Map<ScenarioName, Scenario>(
  [
    ...contentionScenarios,
    ...interactionScenarios,
    ...releaseScenarios,
    ...opScenarios,
    ...queryScenarios,
    ...overlayScenarios,
  ].map((s) => [s.name, s]),
);

/** All scenarios in table order. */
export const SCENARIOS: readonly Scenario[] = SCENARIO_NAMES.map((n) => {
  const s = byName.get(n);
  if (!s) throw new Error(`scenario ${n} is not implemented`);
  return s;
});

/** The scenario contract, re-exported for callers of {@link SCENARIOS}. */
export type { CellContext, Measured, OverlayCell, Scenario } from './common.js';
