/**
 * A {@link Subcommand} from a command whose usage text starts with
 * `usage: syslocks-lab NAME SYNOPSIS` (controller, locker, occ): the synopsis is read
 * from that line, the rest is its help, so the text is written once.
 * @packageDocumentation
 */
import type { Subcommand } from '../command.js';

/** Options of {@link fromUsage}. */
export interface UsageCommand {
  /** The word that selects it. */
  name: string;
  /** What it does, in one line. */
  summary: string;
  /** Its full usage text, starting `usage: syslocks-lab NAME ...`. */
  usage: string;
  /** True if the command handles SIGINT/SIGTERM itself. */
  ownsSignals?: boolean | undefined;
  /** Runs it; resolves with the exit code. */
  run(argv: string[]): Promise<number>;
}

/** Builds the table entry of a command described by its usage text. */
export function fromUsage(c: UsageCommand): Subcommand {
  const prefix = `usage: syslocks-lab ${c.name}`;
  const [first = '', ...rest] = c.usage.split('\n');
  const synopsis = first.startsWith(prefix) ? first.slice(prefix.length).trim() : '';
  // Continuation lines of the synopsis are indented to line up under it.
  let i = 0;
  const more: string[] = [];
  while (i < rest.length && /^\s{8,}\S/.test(rest[i]!) && !rest[i]!.trimStart().startsWith('--')) {
    more.push(rest[i]!.trim());
    i++;
  }
  return {
    name: c.name,
    synopsis: [synopsis, ...more].join(' '),
    summary: c.summary,
    help: rest.slice(i).join('\n').replace(/^\n+/, ''),
    ...(c.ownsSignals ? { ownsSignals: true } : {}),
    run: c.run,
  };
}
