/**
 * `syslocks-lab race`: argument parsing and the table; the experiment is in race.ts.
 * `--all` runs every lock (none, mutex, flock, posix, ofd) with thread and process
 * workers and prints expected (docs/SEMANTICS.md, via expected.ts) against measured races.
 * @packageDocumentation
 */
import { tmpdir } from 'node:os';
import { intOption, parseArgs, UsageError } from '../args.js';
import { availableKinds, noPositionals, type Subcommand } from '../command.js';
import type { LockerType } from '../controller.js';
import { RACE_LOCKS, runRace, type RaceLock, type RaceResult } from '../race.js';
import { runInfo } from '../runinfo.js';
import { LiveLine, painter, useColour } from '../term.js';

/** Most lockers one race starts (each is a process or a thread). */
export const MAX_RACE_WORKERS = 64;

/** A race result agrees with the documented expectation (or there is none). */
function agrees(r: RaceResult): boolean {
  return r.racesExpected === null || r.racesExpected === r.racesSeen > 0;
}

function lockList(v: string | undefined): RaceLock[] {
  if (v === undefined || v === 'all') return availableKinds();
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known: readonly string[] = [...RACE_LOCKS, 'windows'];
  for (const k of list) if (!known.includes(k)) throw new UsageError(`--lock: unknown lock '${k}'`);
  return list as RaceLock[];
}

/** The expected-vs-measured table. */
export function formatRace(results: readonly RaceResult[], colour: boolean): string {
  const paint = painter(colour);
  const first = results[0];
  const notes: string[] = [];
  const rows = results.map((r) => {
    const exp = r.racesExpected === null ? '?' : r.racesExpected ? 'races' : 'no races';
    const ok = r.racesExpected === null || r.racesExpected === r.racesSeen > 0;
    const seen = `${r.racesSeen}/${r.accesses}`;
    const basis = r.row ? `SEMANTICS.md row ${r.row}` : (r.why ?? '');
    if (r.row && r.why && !notes.some((n) => n.includes(r.why!))) notes.push(`  row ${r.row}: ${r.why}`);
    return `${r.kind.padEnd(6)} ${r.workerType.padEnd(8)} ${exp.padEnd(9)} ${paint(ok ? 'green' : 'red', seen.padStart(6))}  ${(r.durationMs / 1000).toFixed(2).padStart(5)} s  ${basis}`;
  });
  const out = [
    `race: ${first?.workers ?? 0} workers x ${first ? first.accesses / first.workers : 0} rounds of lock, write, pause ${first?.periodMs ?? 0} ms, re-read, unlock${first?.forceWrite ? ', forced write order' : ''}`,
    '',
    'lock   workers  expected  races     time  expected because',
    ...rows,
    ...notes,
    '',
  ];
  for (const r of results) if (r.example) out.push(`  e.g. ${r.kind}/${r.workerType}: ${r.example}`);
  return out.join('\n') + (results.some((r) => r.example) ? '\n' : '');
}

/** `race`. */
export const raceCommand: Subcommand = {
  name: 'race',
  synopsis:
    '[--lock L[,L..]] [--worker-type thread|process[,..]] [--all] [--workers N] [--rounds R] [--period MS] [--force-write] [--json]',
  summary: 'write/re-read under the lock on an overlapped schedule; counts races',
  help: `N workers (threads of one process, or processes) each lock one file, write their
signature, pause --period ms, re-read and unlock; a re-read that changed is a race.

  --lock L[,L]         none, mutex (an in-process lock shared by threads through a
                       SharedArrayBuffer), flock, posix, ofd (default: the OS kinds here)
  --kind L[,L]         the same as --lock
  --worker-type T[,T]  thread and/or process (default both)
  --all                every lock x worker type, expected vs measured
  --workers N          lockers (2-${MAX_RACE_WORKERS}, default 4)
  --period MS          pause between write and re-read (1-10000, default 20)
  --rounds R           rounds (1-10000, default 10)
  --force-write        worker i writes at round start + i x period / N, so writes
                       interleave whenever the lock does not exclude
  --json               JSON on stdout (with versions, date and filesystem)
exit: 0 every result as documented, 1 otherwise (table and JSON alike), 2 usage`,
  async run(argv) {
    const args = parseArgs(
      argv,
      ['workers', 'kind', 'lock', 'worker-type', 'period', 'rounds'],
      ['json', 'all', 'force-write'],
    );
    noPositionals(args);
    if (args.switches.has('all') && (args.values.has('lock') || args.values.has('kind')))
      throw new UsageError('--all runs every lock; drop --lock');
    const locks = args.switches.has('all')
      ? RACE_LOCKS.filter((l) => l === 'none' || l === 'mutex' || availableKinds().includes(l as never))
      : lockList(args.values.get('lock') ?? args.values.get('kind'));
    const types = (args.values.get('worker-type') ?? 'thread,process').split(',') as LockerType[];
    for (const t of types)
      if (t !== 'thread' && t !== 'process') throw new UsageError(`--worker-type: '${t}' is not thread or process`);
    const workers = intOption(args, 'workers', 4, 2, MAX_RACE_WORKERS);
    const periodMs = intOption(args, 'period', 20, 1, 10_000);
    const rounds = intOption(args, 'rounds', 10, 1, 10_000);
    const forceWrite = args.switches.has('force-write');
    const info = runInfo(tmpdir());
    const live = new LiveLine(process.stderr);
    const results: RaceResult[] = [];
    for (const kind of locks) {
      for (const workerType of types) {
        live.update(`race: ${kind} x ${workerType} ...`);
        results.push(await runRace({ workers, kind, workerType, periodMs, rounds, forceWrite }));
      }
    }
    live.clear();
    const code = results.every(agrees) ? 0 : 1;
    process.stdout.write(
      args.switches.has('json')
        ? JSON.stringify({ ...info, results }, null, 2) + '\n'
        : formatRace(results, useColour(process.stdout)),
    );
    return code;
  },
};
