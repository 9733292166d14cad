/**
 * `syslocks-lab controller SCHEDULE [--json] [--reply-timeout MS] [--max-wait MS]`:
 * runs a schedule file (format: schedule.ts, docs/LAB.md) against local and remote
 * lockers and prints the timeline (every command's result with its pid and time), the
 * holds (who held what when) and a per-locker summary; `--json` prints the same data.
 * @packageDocumentation
 */
import { intOption, parseArgs, UsageError } from './args.js';
import { runSchedule, type ScheduleResult } from './run-schedule.js';
import { readSchedule } from './schedule.js';

/** Usage of `controller` (for `--help`). */
export const CONTROLLER_USAGE = `usage: syslocks-lab controller SCHEDULE [--json] [--reply-timeout MS] [--max-wait MS]

Runs SCHEDULE: starts its local lockers, connects to its remote ones (each a
'syslocks-lab locker --listen HOST:PORT' with the same token), plays every locker's
timed commands and prints the timeline, the holds (who held what when) and a
summary per locker. The schedule format is in docs/LAB.md ("Controller and lockers").

  --json              print the results as JSON instead of tables
  --reply-timeout MS  how long a report may take after its command's scheduled
                      time (default 5000)
  --max-wait MS       bound of a 'lock ... wait' without timeout= (default 60000)

Exit status: 0 if every command got a report, 1 if a locker was lost.
`;

const ms = (x: number | null): string => (x === null ? '-' : (x / 1000).toFixed(3));

/** The timeline, holds and summary as text tables. */
export function formatSchedule(r: ScheduleResult): string {
  const out: string[] = [`time zero ${r.timeZero}; times are seconds after it`, '', 'timeline'];
  const nameW = Math.max(6, ...r.lockers.map((l) => l.name.length));
  out.push(
    `  ${'t'.padStart(8)}  ${'sched'.padStart(7)}  ${'locker'.padEnd(nameW)}  ${'pid'.padStart(7)}  command -> result`,
  );
  for (const e of r.events) {
    const extra = e.code && e.result !== 'conflict' ? ` ${e.code}` : '';
    out.push(
      `  ${ms(e.t).padStart(8)}  ${ms(e.scheduled).padStart(7)}  ${e.locker.padEnd(nameW)}  ${String(e.pid).padStart(7)}  ${e.command} -> ${e.result}${extra}`,
    );
  }
  out.push('', 'holds (who held what when)');
  if (!r.holds.length) out.push('  (no lock was granted)');
  for (const h of r.holds)
    out.push(
      `  ${h.locker.padEnd(nameW)}  pid ${String(h.pid).padStart(7)}  ${h.kind.padEnd(5)} ${h.mode.padEnd(5)}  ${ms(h.from).padStart(8)} .. ${(h.to === null ? 'end' : ms(h.to)).padStart(8)}  ${h.end}`,
    );
  out.push('', 'per locker');
  out.push(
    `  ${'locker'.padEnd(nameW)}  ${'where'.padEnd(21)}  ${'pid'.padStart(7)}  kind   granted conflict timeout  other`,
  );
  for (const l of r.lockers) {
    const mine = r.events.filter((e) => e.locker === l.name);
    const n = (res: string): number => mine.filter((e) => e.command.startsWith('lock') && e.result === res).length;
    const other = mine.filter((e) => ['error', 'lost'].includes(e.result)).length;
    out.push(
      `  ${l.name.padEnd(nameW)}  ${l.where.padEnd(21)}  ${String(l.pid).padStart(7)}  ${l.kind.padEnd(5)}  ${String(n('granted')).padStart(7)} ${String(n('conflict')).padStart(8)} ${String(n('timeout')).padStart(7)}  ${String(other).padStart(5)}`,
    );
  }
  for (const e of r.errors) out.push(`error: ${e}`);
  return out.join('\n') + '\n';
}

/** Runs `controller`; resolves with the exit code. */
export async function controllerCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['reply-timeout', 'max-wait'], ['json']);
  const [file, extra] = args.positionals;
  if (!file) throw new UsageError('controller needs a SCHEDULE file');
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  const schedule = readSchedule(file);
  const r = await runSchedule(schedule, {
    replyMs: intOption(args, 'reply-timeout', 5000),
    maxWaitMs: intOption(args, 'max-wait', 60_000),
  });
  process.stdout.write(args.switches.has('json') ? JSON.stringify(r, null, 2) + '\n' : formatSchedule(r));
  return r.errors.length ? 1 : 0;
}
