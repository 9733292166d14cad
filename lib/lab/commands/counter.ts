/**
 * `syslocks-lab counter`: argument parsing and the summary; the experiment is in counter.ts.
 * @packageDocumentation
 */
import { tmpdir } from 'node:os';
import { choiceOption, intOption, MAX_TIMER_MS, parseArgs } from '../args.js';
import { availableKinds, noPositionals, type Subcommand } from '../command.js';
import { runCounter } from '../counter.js';
import { runInfo } from '../runinfo.js';
import { painter, useColour } from '../term.js';
import { ALL_KINDS } from '../types.js';

/** Most processes one counter run starts. */
export const MAX_COUNTER_WORKERS = 64;
/** Most increments per process. */
export const MAX_COUNTER_ITERATIONS = 1_000_000;

/** `counter`. */
export const counterCommand: Subcommand = {
  name: 'counter',
  synopsis: '[--workers N] [--iterations M] [--kind K] [--no-lock] [--dir D] [--timeout MS] [--json]',
  summary: 'N processes increment one file M times each under the lock; the result must be exactly N × M',
  help: `  --workers N          processes (1-${MAX_COUNTER_WORKERS}, default 8)
  --iterations M       increments per process (1-${MAX_COUNTER_ITERATIONS}, default 100)
  --kind K             flock, posix, ofd or windows (default ofd where offered)
  --no-lock            no lock at all: shows the lost updates
  --dir D              where to make the counter's temp dir (default the system temp dir)
  --timeout MS         bound of the whole run (1000-${MAX_TIMER_MS}, default 300000)
  --json               JSON on stdout (with versions, date and filesystem)
exit: 0 exact, 1 lost updates or failure, 2 usage`,
  async run(argv) {
    const args = parseArgs(argv, ['workers', 'iterations', 'kind', 'dir', 'timeout'], ['no-lock', 'json']);
    noPositionals(args);
    const offered = availableKinds();
    const kind = choiceOption(args, 'kind', ALL_KINDS, offered.includes('ofd') ? 'ofd' : (offered[0] ?? 'flock'));
    const dir = args.values.get('dir');
    const info = runInfo(dir ?? tmpdir());
    const r = await runCounter({
      workers: intOption(args, 'workers', 8, 1, MAX_COUNTER_WORKERS),
      iterations: intOption(args, 'iterations', 100, 1, MAX_COUNTER_ITERATIONS),
      kind,
      noLock: args.switches.has('no-lock'),
      ...(dir !== undefined ? { dir } : {}),
      timeoutMs: intOption(args, 'timeout', 300_000, 1000, MAX_TIMER_MS),
    });
    if (args.switches.has('json')) process.stdout.write(JSON.stringify({ ...info, ...r }) + '\n');
    else {
      const paint = painter(useColour(process.stdout));
      const verdict = r.lost === 0 ? paint('green', 'exact') : paint('red', `${r.lost} lost updates`);
      process.stdout.write(
        `counter: ${r.kind === 'none' ? 'no lock' : `kind ${r.kind}`}, ${r.workers} processes × ${r.iterations} increments\n` +
          `final ${r.final}, expected ${r.expected}: ${verdict}\n` +
          `${(r.durationMs / 1000).toFixed(2)} s, ${r.throughput} increments/s\n`,
      );
    }
    return r.lost === 0 ? 0 : 1;
  },
};
