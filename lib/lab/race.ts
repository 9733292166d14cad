/**
 * `syslocks-lab race`: N lockers (worker threads or processes) each take a write
 * lock on one shared file, write their own signature (a JSON record), pause, and
 * re-read it; the controller starts every round's attempts at nearly the same
 * instant, so without real exclusion the accesses overlap. A re-read that changed is
 * a race: the lock did not exclude. The lock is one of the OS kinds, `none` (the
 * baseline) or `mutex` (an in-process lock shared by worker threads through a
 * SharedArrayBuffer: each process has its own, so it cannot exclude processes).
 * @packageDocumentation
 */
import { join } from 'node:path';
import { makeTempDir, removeDir } from './cleanup.js';
import { Controller, type LockerType } from './controller.js';
import { raceExpectationFor } from './expected.js';
import { MUTEX_BYTES } from './mutex.js';
import type { LabKind } from './types.js';

/** What guards the accesses: an OS lock kind, the lab's in-process mutex, or nothing. */
export type RaceLock = LabKind | 'mutex' | 'none';

/** Every lock `race --all` runs, in table order. */
export const RACE_LOCKS: readonly RaceLock[] = ['none', 'mutex', 'flock', 'posix', 'ofd'];

/** Options of {@link runRace}. */
export interface RaceOptions {
  /** Number of lockers. */
  workers: number;
  /** What guards the accesses. */
  kind: RaceLock;
  /** Threads of this process or separate processes. */
  workerType: LockerType;
  /** How long each locker keeps its signature before re-reading, ms (default 20). */
  periodMs?: number;
  /**
   * Force the write order: worker i writes at round start + i × period / workers, so
   * that without exclusion every write lands inside another worker's pause (default:
   * each writes as soon as it is granted).
   */
  forceWrite?: boolean;
  /** Rounds (default 10); every round, every worker accesses once. */
  rounds?: number;
  /** Directory for the shared file (default: a temp dir, removed afterwards). */
  dir?: string;
}

/** What a race run saw. */
export interface RaceResult {
  /** What guarded the accesses. */
  kind: RaceLock;
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
  /** SEMANTICS.md row of the expectation (null: not an OS lock). */
  row: string | null;
  /** Why the expectation is what it is. */
  why: string | null;
  /** Period, ms. */
  periodMs: number;
  /** Whether the write order was forced. */
  forceWrite: boolean;
  /** Wall time, ms. */
  durationMs: number;
  /** One example of a race (what was written, what was read back). */
  example?: string;
}

/** `pid 1 thread 2 read back pid 1 thread 3's record`, from a `sig` report's data. */
function describeRace(data: Record<string, unknown>): string {
  const who = (text: unknown): string => {
    try {
      const r = JSON.parse(String(text)) as { pid: number; thread: number };
      return `pid ${r.pid} thread ${r.thread}`;
    } catch {
      return `"${String(text)}"`;
    }
  };
  return `${who(data['wrote'])} read back the record of ${who(data['read'])}`;
}

/** Runs one kind × worker type. Every step is bounded; lockers are always stopped. */
export async function runRace(opts: RaceOptions): Promise<RaceResult> {
  const period = opts.periodMs ?? 20;
  const rounds = opts.rounds ?? 10;
  const dir = makeTempDir('syslocks-race-', opts.dir);
  const file = join(dir, 'shared');
  const controller = new Controller();
  const started = performance.now();
  // One mutex for the run: every thread gets this buffer; a process cannot share it.
  const mutex = new SharedArrayBuffer(MUTEX_BYTES);
  const kind = opts.kind === 'none' ? 'ofd' : opts.kind; // 'none' never sends a lock command
  let races = 0;
  let example: string | undefined;
  try {
    const lockers = await Promise.all(
      Array.from({ length: opts.workers }, (_, i) =>
        controller.start({
          file,
          kind,
          type: opts.workerType,
          name: `W${i + 1}`,
          ...(opts.workerType === 'thread' ? { mutex } : {}),
        }),
      ),
    );
    // A serialised round takes workers × period; allow that many times over.
    const wait = opts.workers * period * 4 + 2000;
    for (let r = 0; r < rounds; r++) {
      const t = controller.at(30);
      const reports = await Promise.all(
        lockers.map(async (l, i) => {
          const locked = opts.kind !== 'none';
          if (locked) {
            const got = await l.send(`lock write wait timeout=${wait} at ${t + i}`);
            if (got.result !== 'granted')
              throw new Error(`${l.name}: ${got.cmd}: ${got.result} ${got.code ?? ''} ${got.message ?? ''}`);
          }
          const writeAt = opts.forceWrite ? ` writeat=${t + Math.round((i * period) / opts.workers)}` : '';
          const sig = await l.send(`sig pause=${period}${writeAt}${locked ? '' : ` at ${t + i}`}`);
          if (locked) await l.send('unlock');
          return sig;
        }),
      );
      for (const s of reports) {
        if (s.result === 'changed') {
          races++;
          example ??= describeRace(s.data ?? {});
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
    why: exp?.why ?? null,
    periodMs: period,
    forceWrite: opts.forceWrite === true,
    durationMs: Math.round(performance.now() - started),
    ...(example ? { example } : {}),
  };
}
