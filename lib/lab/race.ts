/**
 * `syslocks-lab race`: N lockers (worker threads or processes) each take a write
 * lock on one shared file, write their own signature, pause, and re-read it; the
 * controller starts every round's attempts at nearly the same instant, so without
 * real exclusion the accesses overlap. A re-read that changed is a race: the lock did
 * not exclude.
 * @packageDocumentation
 */
import { join } from 'node:path';
import { makeTempDir, removeDir } from './cleanup.js';
import { Controller, type LockerType } from './controller.js';
import { raceExpectationFor } from './expected.js';
import type { LabKind } from './types.js';

/** Options of {@link runRace}. */
export interface RaceOptions {
  /** Number of lockers. */
  workers: number;
  /** Lock kind. */
  kind: LabKind;
  /** Threads of this process or separate processes. */
  workerType: LockerType;
  /** How long each locker keeps its signature before re-reading, ms (default 20). */
  periodMs?: number;
  /** Rounds (default 10); every round, every worker accesses once. */
  rounds?: number;
  /** Directory for the shared file (default: a temp dir, removed afterwards). */
  dir?: string;
}

/** What a race run saw. */
export interface RaceResult {
  /** Lock kind. */
  kind: LabKind;
  /** Worker type. */
  workerType: LockerType;
  /** Lockers. */
  workers: number;
  /** Locked accesses in all (workers × rounds). */
  accesses: number;
  /** Accesses whose re-read differed: measured races. */
  racesSeen: number;
  /** Documented: should this combination race? (null: not documented here). */
  racesExpected: boolean | null;
  /** SEMANTICS.md row of the expectation. */
  row: string | null;
  /** Wall time, ms. */
  durationMs: number;
  /** One example of a race (what was written, what was read back). */
  example?: string;
}

/** Runs one kind × worker type. Every step is bounded; lockers are always stopped. */
export async function runRace(opts: RaceOptions): Promise<RaceResult> {
  const period = opts.periodMs ?? 20;
  const rounds = opts.rounds ?? 10;
  const dir = makeTempDir('syslocks-race-', opts.dir);
  const file = join(dir, 'shared');
  const controller = new Controller();
  const started = performance.now();
  let races = 0;
  let example: string | undefined;
  try {
    const lockers = await Promise.all(
      Array.from({ length: opts.workers }, (_, i) =>
        controller.start({ file, kind: opts.kind, type: opts.workerType, name: `W${i + 1}` }),
      ),
    );
    // A serialised round takes workers × period; allow that many times over.
    const wait = opts.workers * period * 4 + 2000;
    for (let r = 0; r < rounds; r++) {
      const t = controller.at(30);
      const reports = await Promise.all(
        lockers.map(async (l, i) => {
          const got = await l.send(`lock write wait timeout=${wait} at ${t + i}`, wait + 3000);
          if (got.result !== 'granted')
            throw new Error(`${l.name}: ${got.cmd}: ${got.result} ${got.code ?? ''} ${got.message ?? ''}`);
          const sig = await l.send(`sig pause=${period}`, period + 3000);
          await l.send('unlock');
          return sig;
        }),
      );
      for (const s of reports) {
        if (s.result === 'changed') {
          races++;
          example ??= `pid ${s.pid} thread ${s.threadId} wrote "${String(s.data?.['wrote'])}" and read back "${String(s.data?.['read'])}"`;
        } else if (s.result !== 'same') throw new Error(`sig failed: ${s.result} ${s.message ?? ''}`);
      }
    }
  } finally {
    await controller.dispose();
    const note = await removeDir(dir);
    if (note) process.stderr.write(`syslocks-lab: ${note}\n`);
  }
  const exp = raceExpectationFor(process.platform, opts.kind, opts.workerType);
  return {
    kind: opts.kind,
    workerType: opts.workerType,
    workers: opts.workers,
    accesses: opts.workers * rounds,
    racesSeen: races,
    racesExpected: exp?.races ?? null,
    row: exp?.row ?? null,
    durationMs: Math.round(performance.now() - started),
    ...(example ? { example } : {}),
  };
}
