/**
 * The shape of a `syslocks-lab` subcommand, and the option helpers several of them
 * share. The CLI (cli.ts) keeps a table of subcommands; each one brings its own usage
 * and help text, so `<command> --help` works for every command without extra code.
 * @packageDocumentation
 */
import { capabilities, type LockMode } from '../index.js';
import { choiceOption, UsageError, type ParsedArgs } from './args.js';
import { ALL_KINDS, type LabKind } from './types.js';

/** One subcommand of `syslocks-lab`. */
export interface Subcommand {
  /** The word that selects it (`matrix`, `hold`, ...). */
  readonly name: string;
  /** Its arguments after the name, e.g. `FILE [--kind K] [--for SECONDS]`. */
  readonly synopsis: string;
  /** What it does, in one line (the overview lists it). */
  readonly summary: string;
  /** The options explained, one per line (shown by `<command> --help`). */
  readonly help: string;
  /**
   * True if the command handles SIGINT/SIGTERM itself (to release a lock and say so);
   * otherwise the CLI's handler cleans up children and temp dirs and exits 130/143.
   */
  readonly ownsSignals?: boolean;
  /** Runs it with the arguments after its name; resolves with the exit code. */
  run(argv: string[]): Promise<number>;
}

/** The usage block of one command: synopsis, summary and options. */
export function commandHelp(c: Subcommand): string {
  return `usage: syslocks-lab ${c.name} ${c.synopsis}\n\n${c.summary}\n\n${c.help.replace(/\s+$/, '')}\n`;
}

/** The kinds the platform offers, in column order. */
export function availableKinds(): LabKind[] {
  const caps = capabilities();
  return ALL_KINDS.filter((k) => caps[k]);
}

/** `--NAME a,b`: a list of lab kinds (default or `all`: every kind offered here). */
export function kindList(v: string | undefined, name: string): LabKind[] {
  if (v === undefined || v === 'all') return availableKinds();
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const k of list)
    if (!(ALL_KINDS as readonly string[]).includes(k)) throw new UsageError(`--${name}: unknown kind '${k}'`);
  return list as LabKind[];
}

/** `--mode shared|exclusive` (also `read`/`write`), default exclusive. */
export function modeOption(args: ParsedArgs): LockMode {
  const m = choiceOption(args, 'mode', ['shared', 'exclusive', 'read', 'write'] as const, 'exclusive');
  return m === 'read' ? 'shared' : m === 'write' ? 'exclusive' : m;
}

/** The one FILE positional of `cmd`. */
export function fileArg(args: ParsedArgs, cmd: string): string {
  const [file, extra] = args.positionals;
  if (!file) throw new UsageError(`${cmd} needs a FILE`);
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  return file;
}

/** No positional arguments allowed. */
export function noPositionals(args: ParsedArgs): void {
  if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
}
