/**
 * `syslocks-lab matrix` (also the default command): argument parsing, live progress,
 * and the outputs; the experiments are in matrix.ts and scenarios/.
 * @packageDocumentation
 */
import { renameSync, writeFileSync } from 'node:fs';
import { MAX_TIMER_MS, intOption, parseArgs, UsageError } from '../args.js';
import { kindList, noPositionals, type Subcommand } from '../command.js';
import { runMatrix } from '../matrix.js';
import { formatJson, formatMarkdown, formatTable, hasErrors } from '../report.js';
import { LiveLine, painter, useColour } from '../term.js';
import { SCENARIO_NAMES, type MatrixResult, type ScenarioName } from '../types.js';

/** Writes `text` to `file` through a temp file and rename, so a reader never sees half a JSON. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** `matrix`. */
export const matrixCommand: Subcommand = {
  name: 'matrix',
  synopsis:
    '[--kinds K,K] [--scenarios S,S] [--dir D] [--peer-dir D2] [--copy-up] [--json FILE|-] [--md] [--jobs N] [--cell-timeout MS]',
  summary: 'every scenario for every kind, measured now; a table, Markdown or JSON',
  help: `  --kinds K,K          columns: flock, posix, ofd, windows (default: every kind here)
  --scenarios S,S      rows (default all; see \`syslocks-lab scenarios\`)
  --dir D              run in a new subdirectory of D (default: a temp dir); the
                       filesystem of D is the one measured
  --peer-dir D2        a second mount of D's filesystem: the contender opens through it
  --copy-up            add the overlayfs rows: D must be on an overlay mount whose
                       lower layer the lab may write (files are made there, then locked)
  --json FILE|-        JSON to FILE (rewritten as each cell finishes) or to stdout
  --md                 Markdown instead of the table
  --jobs N             cells at once (1-16, default 2)
  --cell-timeout MS    bound of one cell (1000-${MAX_TIMER_MS}, default 15000)
exit: 0 no cell failed, 1 a cell is 'error', 2 usage; the same for table, Markdown and JSON`,
  async run(argv) {
    const args = parseArgs(
      argv,
      ['kinds', 'scenarios', 'dir', 'peer-dir', 'json', 'jobs', 'cell-timeout'],
      ['md', 'copy-up'],
    );
    noPositionals(args);
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
    const save = (m: MatrixResult): void => {
      if (jsonTarget !== undefined && jsonTarget !== '-') writeAtomic(jsonTarget, formatJson(m));
    };
    const result = await runMatrix({
      kinds,
      ...(scenarios ? { scenarios } : {}),
      ...(args.values.has('dir') ? { dir: args.values.get('dir')! } : {}),
      peerDir: args.values.get('peer-dir') ?? null,
      copyUp: args.switches.has('copy-up'),
      jobs: intOption(args, 'jobs', 2, 1, 16),
      cellTimeoutMs: intOption(args, 'cell-timeout', 15_000, 1000, MAX_TIMER_MS),
      onUpdate: save,
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
    save(result);
    const elapsed = performance.now() - started;
    if (jsonTarget === '-') process.stdout.write(formatJson(result));
    else
      process.stdout.write(
        args.switches.has('md')
          ? formatMarkdown(result, elapsed)
          : formatTable(result, useColour(process.stdout), elapsed, process.stdout.columns || 80),
      );
    for (const note of result.notes) process.stderr.write(`syslocks-lab: note: ${note}\n`);
    return hasErrors(result) ? 1 : 0;
  },
};
