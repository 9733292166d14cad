#!/usr/bin/env node
/**
 * `syslocks-lab`: measures what each OS lock kind really does, here and now.
 *
 * ```text
 * syslocks-lab                      the matrix, in a temp dir
 * syslocks-lab matrix [--kinds flock,posix,ofd] [--dir D] [--peer-dir D2] [--json FILE] [--md]
 * syslocks-lab hold FILE [--kind K] [--mode M] [--range S:L] [--for SECONDS]
 * syslocks-lab try  FILE [--kind K] [--mode M] [--range S:L] [--wait] [--timeout MS]
 * syslocks-lab race [--workers N] [--kind K[,K]] [--worker-type thread|process[,...]] [--period MS]
 * syslocks-lab counter [--workers N] [--iterations M] [--kind K] [--no-lock]
 * ```
 * @packageDocumentation
 */
import { writeFileSync } from 'node:fs';
import type { LockKind, LockMode } from '../index.js';
import { choiceOption, intOption, numberOption, parseArgs, rangeOption, UsageError, type ParsedArgs } from './args.js';
import { runCounter } from './counter.js';
import { hold } from './hold.js';
import { availableKinds, runMatrix } from './matrix.js';
import { raceCommand } from './race-cli.js';
import { formatJson, formatMarkdown, formatTable } from './report.js';
import { SCENARIOS } from './scenarios/index.js';
import { LiveLine, painter, useColour } from './term.js';
import { tryCommand } from './try.js';
import { ALL_KINDS, SCENARIO_NAMES, type LabKind, type ScenarioName } from './types.js';
import type { LockerType } from './controller.js';
import { controllerCommand } from './controller-cli.js';
import { counterTerminalCommand, isCounterTerminal } from './counter-terminal.js';
import { lockerCommand } from './remote-locker.js';
import { occCommand } from './occ.js';

const USAGE = `usage: syslocks-lab [command] [options]

  (no command)   run the matrix in a temp dir
  matrix [--kinds flock,posix,ofd] [--scenarios a,b] [--dir D] [--peer-dir D2] [--json FILE|-] [--md] [--jobs N]
                 every scenario for every kind, measured now; table, Markdown or JSON
  hold FILE [--kind K] [--mode shared|exclusive] [--range START:LENGTH] [--for SECONDS]
                 take a lock and keep it until Enter or Ctrl-C
  try FILE [--kind K] [--mode M] [--range START:LENGTH] [--wait] [--timeout MS]
                 is it free? if not, who holds it (pid + command); --wait waits for it
  race [--lock none|mutex|flock|posix|ofd[,..]] [--worker-type thread|process[,..]] [--all]
       [--workers N] [--period MS] [--rounds R] [--force-write] [--json]
                 write/re-read under the lock on an overlapped schedule; counts races
  counter [--workers N] [--iterations M] [--kind K] [--no-lock] [--dir D] [--json]
                 N processes increment one file M times each under the lock
  counter init|worker|verify --dir D [--id N --iterations M] [--lock-timeout MS]
                 the same counter for workers started separately (one per terminal)
  occ [--writers N] [--commits M] [--work MS] [--kind K] [--mode occ|lock|both] [--json]
                 optimistic commits (version check + jittered retry) vs the same under a lock
  controller SCHEDULE [--json]
                 drive local and remote lockers by a timed schedule; timeline + holds
  locker --listen [HOST:]PORT [--token-file F]
                 a locker a remote controller drives over TCP (token required)
  scenarios      list the scenarios and what each measures

kinds: flock, posix, ofd, windows (hold/try also: auto)
`;

const KIND_CHOICES = [...ALL_KINDS, 'auto'] as const;

function kindList(v: string | undefined, name: string): LabKind[] {
  if (v === undefined || v === 'all') return availableKinds();
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const k of list)
    if (!(ALL_KINDS as readonly string[]).includes(k)) throw new UsageError(`--${name}: unknown kind '${k}'`);
  return list as LabKind[];
}

function modeOption(args: ParsedArgs): LockMode {
  const m = choiceOption(args, 'mode', ['shared', 'exclusive', 'read', 'write'] as const, 'exclusive');
  return m === 'read' ? 'shared' : m === 'write' ? 'exclusive' : m;
}

function fileArg(args: ParsedArgs, cmd: string): string {
  const [file, extra] = args.positionals;
  if (!file) throw new UsageError(`${cmd} needs a FILE`);
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  return file;
}

async function matrixCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['kinds', 'scenarios', 'dir', 'peer-dir', 'json', 'jobs', 'cell-timeout'], ['md']);
  if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const kinds = kindList(args.values.get('kinds'), 'kinds');
  let scenarios: ScenarioName[] | undefined;
  const s = args.values.get('scenarios');
  if (s !== undefined) {
    scenarios = s.split(',').map((x) => x.trim()) as ScenarioName[];
    for (const n of scenarios) if (!SCENARIO_NAMES.includes(n)) throw new UsageError(`unknown scenario '${n}'`);
  }
  const jsonTarget = args.values.get('json');
  const live = new LiveLine(process.stderr);
  const paint = painter(useColour(process.stderr));
  const started = performance.now();
  const result = await runMatrix({
    kinds,
    ...(scenarios ? { scenarios } : {}),
    ...(args.values.has('dir') ? { dir: args.values.get('dir')! } : {}),
    peerDir: args.values.get('peer-dir') ?? null,
    jobs: intOption(args, 'jobs', 2),
    cellTimeoutMs: intOption(args, 'cell-timeout', 15_000),
    onProgress: (p) => {
      const mark = p.cell.matches
        ? paint('green', p.cell.outcome)
        : paint('red', `${p.cell.outcome} (expected ${p.cell.expected ?? '?'})`);
      live.update(
        `[${p.done}/${p.total}] ${((performance.now() - started) / 1000).toFixed(1)} s  ${p.scenario}/${p.kind}: ${mark}`,
      );
    },
  });
  live.clear();
  const elapsed = performance.now() - started;
  if (jsonTarget === '-') process.stdout.write(formatJson(result));
  else {
    if (jsonTarget !== undefined) writeFileSync(jsonTarget, formatJson(result));
    process.stdout.write(
      args.switches.has('md')
        ? formatMarkdown(result, elapsed)
        : formatTable(result, useColour(process.stdout), elapsed),
    );
  }
  const errors = Object.values(result.results).some((row) =>
    Object.values(row ?? {}).some((c) => c.outcome === 'error'),
  );
  return errors ? 1 : 0;
}

async function holdCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['kind', 'mode', 'range', 'for'], []);
  const file = fileArg(args, 'hold');
  const range = rangeOption(args);
  const forSeconds = numberOption(args, 'for');
  return hold({
    file,
    kind: choiceOption(args, 'kind', KIND_CHOICES, 'auto') as LockKind | 'auto',
    mode: modeOption(args),
    ...(range ? { range } : {}),
    ...(forSeconds !== undefined ? { forSeconds } : {}),
  });
}

async function tryCmd(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['kind', 'mode', 'range', 'timeout'], ['wait']);
  const file = fileArg(args, 'try');
  const range = rangeOption(args);
  const timeoutMs = numberOption(args, 'timeout');
  if (timeoutMs !== undefined && !args.switches.has('wait')) throw new UsageError('--timeout needs --wait');
  return tryCommand({
    file,
    kind: choiceOption(args, 'kind', KIND_CHOICES, 'auto') as LockKind | 'auto',
    mode: modeOption(args),
    wait: args.switches.has('wait'),
    ...(range ? { range } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
}

async function counterCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['workers', 'iterations', 'kind', 'dir', 'timeout'], ['no-lock', 'json']);
  const kind = choiceOption(
    args,
    'kind',
    ALL_KINDS,
    availableKinds().includes('ofd') ? 'ofd' : (availableKinds()[0] ?? 'flock'),
  );
  const r = await runCounter({
    workers: intOption(args, 'workers', 8),
    iterations: intOption(args, 'iterations', 100),
    kind,
    noLock: args.switches.has('no-lock'),
    ...(args.values.has('dir') ? { dir: args.values.get('dir')! } : {}),
    timeoutMs: intOption(args, 'timeout', 300_000),
  });
  if (args.switches.has('json')) process.stdout.write(JSON.stringify(r) + '\n');
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
}

function scenariosCommand(): number {
  for (const s of SCENARIOS) process.stdout.write(`${s.name}\n  ${s.summary}\n`);
  return 0;
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
        return await matrixCommand([]);
      case 'matrix':
        return await matrixCommand(rest);
      case 'hold':
        return await holdCommand(rest);
      case 'try':
        return await tryCmd(rest);
      case 'race':
        return await raceCommand(rest);
      case 'counter':
        return isCounterTerminal(rest) ? await counterTerminalCommand(rest) : await counterCommand(rest);
      case 'scenarios':
        return scenariosCommand();
      case 'controller':
        return await controllerCommand(rest);
      case 'locker':
        return await lockerCommand(rest);
      case 'occ':
        return await occCommand(rest);
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      default:
        if (cmd.startsWith('--')) return await matrixCommand(argv);
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`syslocks-lab: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`syslocks-lab: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`syslocks-lab: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
