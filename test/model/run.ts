// The property: for any sequence of ops, every outcome and every lock state of the
// real system (syslocks over the kernel) equals the model's. fast-check generates the
// sequences and, on a divergence, shrinks it to a short one that can be replayed.
import fc from 'fast-check';
import { probeDivergence, queriesFor, stateDivergence } from './check.js';
import { Real } from './real.js';
import { SLOTS, World, type Op } from './world.js';

const slot = fc.constantFrom(...SLOTS);
const kind = fc.constantFrom('posix' as const, 'ofd' as const);
const mode = fc.constantFrom('shared' as const, 'exclusive' as const);
// A small file area so ranges overlap, touch and split often; length 0 = to EOF.
const start = fc.integer({ min: 0, max: 11 });
const len = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 5 },
  { arbitrary: fc.constant(0), weight: 1 },
);
const nth = fc.nat(7);
const c = <T extends string>(v: T) => fc.constant(v);

/** One random op; weights keep locks piling up while releases and closes clear them. */
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: c('lock'), slot, kind, mode, start, len }) },
  { weight: 2, arbitrary: fc.record({ op: c('set'), slot, kind, mode, start, len }) },
  { weight: 2, arbitrary: fc.record({ op: c('unlock'), slot, kind, start, len }) },
  { weight: 3, arbitrary: fc.record({ op: c('release'), slot, nth }) },
  { weight: 3, arbitrary: fc.record({ op: c('change'), slot, nth, mode }) },
  { weight: 1, arbitrary: fc.record({ op: c('close'), slot }) },
  { weight: 2, arbitrary: fc.record({ op: c('plock'), kind, mode, start, len }) },
  { weight: 1, arbitrary: fc.record({ op: c('prelease'), nth }) },
  { weight: 1, arbitrary: fc.record({ op: c('pchange'), nth, mode }) },
);

/** How a run is sized and checked. */
export interface ModelOptions {
  /** Stop generating new sequences once this many ops ran. */
  ops: number;
  seed: number;
  /** Longest generated sequence. */
  maxLength?: number;
  /** Compare the whole lock state every N ops (1 = every op). */
  checkEvery?: number;
  /** Ask F_GETLK / F_OFD_GETLK (4 queries, one round trip) every N ops. */
  probeEvery?: number;
}

/** What a run found. */
export interface ModelSummary {
  ops: number;
  sequences: number;
  divergences: number;
  seconds: number;
  seed: number;
  /** The shrunk failing sequence and what differed. */
  failure?: { ops: Op[]; message: string; shrinks: number };
}

/** Runs one sequence from a clean start; throws at the first divergence. */
async function runSequence(real: Real, ops: Op[], o: Required<ModelOptions>): Promise<number> {
  await real.newRun();
  const world = new World();
  const fail = (i: number, what: string): never => {
    throw Object.assign(new Error(`step ${i} ${JSON.stringify(ops[i])}:\n${what}`), { step: i });
  };
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const want = world.apply(op);
    const got = await real.apply(op);
    if (got !== want) fail(i, `outcome: model ${want} kernel ${got}`);
    const last = i === ops.length - 1;
    if (last || i % o.checkEvery === 0) {
      const d = stateDivergence(world, real);
      if (d) fail(i, d);
    }
    if (last || i % o.probeEvery === 0) {
      const qs = queriesFor(i);
      const answers = await real.probe(qs);
      qs.forEach((q, j) => {
        const d = probeDivergence(world, real, q, answers[j]);
        if (d) fail(i, d);
      });
    }
  }
  return ops.length;
}

/** Runs sequences until `ops` ops ran, or shrinks and reports the first divergence. */
export async function runModel(options: ModelOptions): Promise<ModelSummary> {
  const o: Required<ModelOptions> = { maxLength: 300, checkEvery: 1, probeEvery: 5, ...options };
  const real = await Real.start();
  let done = 0;
  let sequences = 0;
  let failing = false;
  const t0 = performance.now();
  try {
    const property = fc.asyncProperty(
      fc.array(opArb, { minLength: 1, maxLength: o.maxLength, size: 'max' }),
      async (ops) => {
        if (!failing && done >= o.ops) return; // enough: the remaining runs pass untested
        try {
          const n = await runSequence(real, ops, o);
          if (!failing) {
            done += n;
            sequences++;
          }
        } catch (err) {
          failing = true; // from here on fast-check only replays shrunk candidates
          throw err;
        }
      },
    );
    const numRuns = Math.ceil(o.ops / (o.maxLength / 4)) + 10;
    const details = await fc.check(property, { seed: o.seed, numRuns, endOnFailure: false });
    const summary: ModelSummary = {
      ops: done,
      sequences,
      divergences: details.failed ? 1 : 0,
      seconds: (performance.now() - t0) / 1000,
      seed: o.seed,
    };
    if (details.failed) {
      const err = details.errorInstance as (Error & { step?: number }) | undefined;
      // The ops after the failing step played no part in it.
      const ops = details.counterexample![0].slice(0, (err?.step ?? Infinity) + 1);
      summary.failure = { ops, message: err?.message ?? String(err), shrinks: details.numShrinks };
    }
    return summary;
  } finally {
    await real.stop();
  }
}

/** Replays one sequence (a printed counterexample): null when it agrees with the model. */
export async function replayModel(ops: Op[]): Promise<string | null> {
  const real = await Real.start();
  try {
    await runSequence(real, ops, { ops: ops.length, seed: 0, maxLength: ops.length, checkEvery: 1, probeEvery: 1 });
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await real.stop();
  }
}

/** The summary as the report prints it. */
export function formatSummary(s: ModelSummary): string {
  const lines = [
    `model: ${s.ops} ops in ${s.sequences} sequences, ${s.divergences} divergences, ` +
      `${Math.round(s.ops / s.seconds)} ops/s (${s.seconds.toFixed(1)} s), seed ${s.seed}`,
  ];
  if (s.failure) {
    lines.push(
      `DIVERGENCE (shrunk ${s.failure.shrinks} times to ${s.failure.ops.length} ops):`,
      s.failure.message,
      `replay: npm run model -- --replay '${JSON.stringify(s.failure.ops)}'`,
    );
  }
  return lines.join('\n');
}
