/**
 * `syslocks-lab occ`: the table entry; the experiment is in occ.ts.
 * @packageDocumentation
 */
import { OCC_USAGE, occCommand as run } from '../occ.js';
import { fromUsage } from './from-usage.js';

/** `occ`. */
export const occCommand = fromUsage({
  name: 'occ',
  summary: 'optimistic commits (version check + jittered retry) vs the same workload under a lock',
  usage: OCC_USAGE,
  run,
});
