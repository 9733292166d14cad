/**
 * `syslocks-lab race`: argument parsing and the table; the experiment is in race.ts.
 * @packageDocumentation
 */
import { intOption, parseArgs, UsageError } from '../args.js';
import { kindList, noPositionals, type Subcommand } from '../command.js';
import type { LockerType } from '../controller.js';
import { runRace, type RaceResult } from '../race.js';
import { runInfo } from '../runinfo.js';
import { LiveLine, painter, useColour } from '../term.js';
import { tmpdir } from 'node:os';

/** Most lockers one race starts (each is a process or a thread). */
export const MAX_RACE_WORKERS = 64;

/** A race result agrees with the documented expectation (or there is none). */
function agrees(r: RaceResult): boolean {
  return r.racesExpected === null || r.racesExpected === r.racesSeen > 0;
}

/** `race`. */
export const raceCommand: Subcommand = {
  name: 'race',
  synopsis: '[--workers N] [--kind K[,K]] [--worker-type thread|process[,..]] [--period MS] [--rounds R] [--json]',
  summary: 'write/re-read under the lock on an overlapped schedule; counts races',
  help: `  --workers N          lockers (2-${MAX_RACE_WORKERS}, default 4)
  --kind K[,K]         kinds to try (default: every kind here)
  --worker-type T[,T]  thread and/or process (default both)
  --period MS          how long each locker keeps its signature (1-10000, default 20)
  --rounds R           rounds (1-10000, default 10)
  --json               JSON on stdout (with versions, date and filesystem)
exit: 0 every result as documented, 1 otherwise (table and JSON alike), 2 usage`,
  async run(argv) {
    const args = parseArgs(argv, ['workers', 'kind', 'worker-type', 'period', 'rounds'], ['json']);
    noPositionals(args);
    const kinds = kindList(args.values.get('kind'), 'kind');
    const types = (args.values.get('worker-type') ?? 'thread,process').split(',') as LockerType[];
    for (const t of types)
      if (t !== 'thread' && t !== 'process') throw new UsageError(`--worker-type: '${t}' is not thread or process`);
    const workers = intOption(args, 'workers', 4, 2, MAX_RACE_WORKERS);
    const periodMs = intOption(args, 'period', 20, 1, 10_000);
    const rounds = intOption(args, 'rounds', 10, 1, 10_000);
    const info = runInfo(tmpdir());
    const paint = painter(useColour(process.stdout));
    const live = new LiveLine(process.stderr);
    const results: RaceResult[] = [];
    for (const kind of kinds) {
      for (const workerType of types) {
        live.update(`race: ${kind} × ${workerType} ...`);
        results.push(await runRace({ workers, kind, workerType, periodMs, rounds }));
      }
    }
    live.clear();
    const code = results.every(agrees) ? 0 : 1;
    if (args.switches.has('json')) {
      process.stdout.write(JSON.stringify({ ...info, results }, null, 2) + '\n');
      return code;
    }
    const rows = results.map((r) => {
      const exp = r.racesExpected === null ? '?' : r.racesExpected ? 'yes' : 'no';
      const seen = `${r.racesSeen}/${r.accesses}`;
      return `${r.kind.padEnd(6)} ${r.workerType.padEnd(8)} ${exp.padEnd(15)} ${agrees(r) ? paint('green', seen.padEnd(11)) : paint('red', seen.padEnd(11))} ${(r.durationMs / 1000).toFixed(2)} s${r.row ? `  (SEMANTICS.md row ${r.row})` : ''}`;
    });
    process.stdout.write(
      [
        `race: ${workers} workers × ${rounds} rounds of lock, write signature, pause, re-read, unlock`,
        '',
        'kind   type     races expected  races seen  time',
        ...rows,
        '',
      ].join('\n'),
    );
    for (const r of results) if (r.example) process.stdout.write(`  e.g. ${r.kind}/${r.workerType}: ${r.example}\n`);
    return code;
  },
};
