/**
 * `syslocks-lab try FILE`: argument parsing; the command itself is in try.ts.
 * @packageDocumentation
 */
import type { LockKind } from '../../index.js';
import { choiceOption, MAX_TIMER_MS, numberOption, parseArgs, rangeOption, UsageError } from '../args.js';
import { fileArg, modeOption, type Subcommand } from '../command.js';
import { tryCommand as runTry, TRY_EXIT } from '../try.js';
import { ALL_KINDS } from '../types.js';

/** `try`. */
export const tryCommand: Subcommand = {
  name: 'try',
  synopsis: 'FILE [--kind K] [--mode M] [--range START:LENGTH] [--wait] [--timeout MS]',
  summary: 'is the lock free? if not, who holds it (pid + command); --wait waits for it. Never creates FILE',
  help: `  FILE                 an existing file (a name starting with '-' goes after --)
  --kind K             flock, posix, ofd, windows or auto (default auto)
  --mode M             shared or exclusive (also read/write; default exclusive)
  --range START:LENGTH byte range (LENGTH 0 = to end of file); default whole file
  --wait               wait until granted (Ctrl-C gives up)
  --timeout MS         with --wait: give up after MS milliseconds (at most ${MAX_TIMER_MS})
exit: ${TRY_EXIT.granted} free, ${TRY_EXIT.busy} busy, ${TRY_EXIT.timedOut} timed out, ${TRY_EXIT.aborted} Ctrl-C, ${TRY_EXIT.missing} no such file, 2 usage`,
  ownsSignals: true,
  run(argv) {
    const args = parseArgs(argv, ['kind', 'mode', 'range', 'timeout'], ['wait']);
    const file = fileArg(args, 'try');
    const range = rangeOption(args);
    const timeoutMs = numberOption(args, 'timeout', MAX_TIMER_MS);
    if (timeoutMs !== undefined && !args.switches.has('wait')) throw new UsageError('--timeout needs --wait');
    return runTry({
      file,
      kind: choiceOption(args, 'kind', [...ALL_KINDS, 'auto'] as const, 'auto') as LockKind | 'auto',
      mode: modeOption(args),
      wait: args.switches.has('wait'),
      ...(range ? { range } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
  },
};
