/**
 * `syslocks-lab hold FILE`: argument parsing; the command itself is in hold.ts.
 * @packageDocumentation
 */
import type { LockKind } from '../../index.js';
import { choiceOption, numberOption, parseArgs, rangeOption } from '../args.js';
import { fileArg, modeOption, type Subcommand } from '../command.js';
import { hold } from '../hold.js';
import { ALL_KINDS } from '../types.js';

/** `hold --for` bound: 100 years is "forever" for a lab, and keeps ms exact in a double. */
export const MAX_HOLD_SECONDS = 100 * 365 * 24 * 3600;

/** `hold`. */
export const holdCommand: Subcommand = {
  name: 'hold',
  synopsis: 'FILE [--kind K] [--mode shared|exclusive] [--range START:LENGTH] [--for SECONDS]',
  summary: 'take a lock and keep it until Enter, Ctrl-C, SIGTERM or --for elapses',
  help: `  FILE                 the file to lock (created if missing; a name starting with '-' goes after --)
  --kind K             flock, posix, ofd, windows or auto (default auto)
  --mode M             shared or exclusive (also read/write; default exclusive)
  --range START:LENGTH byte range (LENGTH 0 = to end of file); default whole file
  --for SECONDS        release after SECONDS (fractions allowed, at most ${MAX_HOLD_SECONDS})
exit: 0 released, 130 gave up waiting (Ctrl-C), 1 error, 2 usage`,
  ownsSignals: true,
  run(argv) {
    const args = parseArgs(argv, ['kind', 'mode', 'range', 'for'], []);
    const file = fileArg(args, 'hold');
    const range = rangeOption(args);
    const forSeconds = numberOption(args, 'for', MAX_HOLD_SECONDS);
    return hold({
      file,
      kind: choiceOption(args, 'kind', [...ALL_KINDS, 'auto'] as const, 'auto') as LockKind | 'auto',
      mode: modeOption(args),
      ...(range ? { range } : {}),
      ...(forSeconds !== undefined ? { forSeconds } : {}),
    });
  },
};
