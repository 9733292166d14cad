#!/usr/bin/env node
/**
 * `syslocks-lab`: measures what each OS lock kind really does, here and now.
 *
 * The CLI is a table of subcommands ({@link COMMANDS}); each brings its own usage and
 * help, so `syslocks-lab <command> --help` works for all of them. Around every
 * command this file sets up what a careful Unix tool does: a closed stdout (`| head`)
 * ends the run quietly; SIGINT, SIGTERM and SIGHUP kill the lab's child processes and
 * remove its temp dirs before exiting 128+signal (cleanup.ts also covers SIGKILL).
 * @packageDocumentation
 */
import { UsageError, wantsHelp } from './args.js';
import { cleanupAll } from './cleanup.js';
import { commandHelp, type Subcommand } from './command.js';
import { counterCommand } from './commands/counter.js';
import { holdCommand } from './commands/hold.js';
import { matrixCommand } from './commands/matrix.js';
import { raceCommand } from './commands/race.js';
import { scenariosCommand } from './commands/scenarios.js';
import { tryCommand } from './commands/try.js';

/** Every subcommand, in the order the overview lists them. A new command is one line here. */
export const COMMANDS: readonly Subcommand[] = [
  matrixCommand,
  holdCommand,
  tryCommand,
  raceCommand,
  counterCommand,
  scenariosCommand,
];

/** The overview: one synopsis and summary per command. */
export function usage(): string {
  const lines = ['usage: syslocks-lab [command] [options]', '', '  (no command)   the matrix, in a temp dir'];
  for (const c of COMMANDS) lines.push(`  ${c.name} ${c.synopsis}`.trimEnd(), `      ${c.summary}`);
  lines.push('', 'kinds: flock, posix, ofd, windows (hold/try also: auto)');
  lines.push("`syslocks-lab COMMAND --help` explains a command's options.", '');
  return lines.join('\n');
}

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
/** `| head` closed our stdout: end as a process killed by SIGPIPE would (128 + 13). */
const EPIPE_EXIT = 141;

let ending = false;
/** Kills children, removes temp dirs (bounded), exits with `code`. A second call exits at once. */
async function endNow(code: number): Promise<never> {
  if (ending) process.exit(code);
  ending = true;
  const notes = await cleanupAll(5_000).catch(() => []);
  for (const n of notes) process.stderr.write(`syslocks-lab: ${n}\n`);
  process.exit(code);
}

function onStreamError(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') void endNow(EPIPE_EXIT);
  else throw err;
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    if (first === undefined) return main(['matrix']);
    process.stdout.write(usage());
    return 0;
  }
  const named = COMMANDS.find((c) => c.name === first);
  // Options without a command are the matrix's (`syslocks-lab --kinds ofd`).
  const command = named ?? (first.startsWith('--') ? matrixCommand : undefined);
  const args = named ? rest : argv;
  try {
    if (!command) throw new UsageError(`unknown command '${first}'`);
    if (wantsHelp(args)) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    if (!command.ownsSignals) {
      for (const sig of Object.keys(SIGNAL_EXIT) as NodeJS.Signals[])
        process.on(sig, () => void endNow(SIGNAL_EXIT[sig]!));
    }
    return await command.run(args);
  } catch (err) {
    // Ending on a signal: the killed children make the command fail; that is no news.
    if (ending) return new Promise<never>(() => undefined);
    if (err instanceof UsageError) {
      process.stderr.write(`syslocks-lab: ${err.message}\n\n${command ? commandHelp(command) : usage()}`);
      return 2;
    }
    process.stderr.write(`syslocks-lab: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await cleanupAll().catch(() => undefined);
  }
}

if (require.main === module) {
  process.stdout.on('error', onStreamError);
  process.stderr.on('error', onStreamError);
  main(process.argv.slice(2)).then(
    (code) => {
      if (ending) return; // endNow exits once cleanup is done
      process.exitCode = code;
      // Let stdout drain (a pipe may still hold the output), then end even if a
      // stray handle would keep the loop alive.
      process.stdout.write('', () => process.exit(code));
    },
    (err: unknown) => {
      process.stderr.write(`syslocks-lab: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
