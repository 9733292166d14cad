/**
 * Renders a matrix: a table for people (coloured on a TTY), Markdown for docs, JSON
 * for machines.
 * @packageDocumentation
 */
import { painter, visibleLength } from './term.js';
import type { CellResult, LabKind, MatrixResult, ScenarioName } from './types.js';

function kindsOf(m: MatrixResult): LabKind[] {
  const kinds: LabKind[] = [];
  for (const row of Object.values(m.results))
    for (const k of Object.keys(row ?? {}) as LabKind[]) if (!kinds.includes(k)) kinds.push(k);
  return kinds;
}

function rows(m: MatrixResult): [ScenarioName, Partial<Record<LabKind, CellResult>>][] {
  return Object.entries(m.results) as [ScenarioName, Partial<Record<LabKind, CellResult>>][];
}

/** Cells whose measured outcome differs from the documented one. */
export function mismatches(m: MatrixResult): { scenario: ScenarioName; kind: LabKind; cell: CellResult }[] {
  const out: { scenario: ScenarioName; kind: LabKind; cell: CellResult }[] = [];
  for (const [scenario, row] of rows(m)) {
    for (const [kind, cell] of Object.entries(row) as [LabKind, CellResult][])
      if (!cell.matches && cell.outcome !== 'skipped') out.push({ scenario, kind, cell });
  }
  return out;
}

/** `skipped (no python3)`: a cell whose tool is not installed (not a mismatch). */
function skippedText(c: CellResult): string {
  return `skipped (${c.detail.replace(/ \[expected .*$/, '')})`;
}

function header(m: MatrixResult): string {
  return `${m.platform} ${m.kernel}, ${m.fs} at ${m.dir}${m.peerDir ? `, contender through ${m.peerDir}` : ''}`;
}

function summary(m: MatrixResult): string {
  const total = rows(m).reduce((n, [, row]) => n + Object.keys(row).length, 0);
  const bad = mismatches(m);
  return `${total - bad.length}/${total} cells match the documented semantics (SEMANTICS.md)${bad.length ? `; ${bad.length} differ` : ''}`;
}

/** The matrix as an aligned text table; `colour` paints matches green, differences red. */
export function formatTable(m: MatrixResult, colour: boolean, elapsedMs?: number): string {
  const paint = painter(colour);
  const kinds = kindsOf(m);
  const text = (c: CellResult | undefined): string => {
    if (!c) return '';
    if (c.outcome === 'skipped') return paint('dim', skippedText(c));
    if (c.matches) return paint(c.outcome === 'n/a' ? 'dim' : 'green', c.outcome);
    if (c.outcome === 'error') return paint('yellow', `error (exp ${c.expected ?? '?'})`);
    return paint('red', `${c.outcome} ≠ ${c.expected ?? '?'}`);
  };
  const table = [['scenario', ...kinds], ...rows(m).map(([s, row]) => [s, ...kinds.map((k) => text(row[k]))])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => visibleLength(r[i]!))));
  const line = (r: string[]): string =>
    r
      .map((c, i) => c + ' '.repeat(widths[i]! - visibleLength(c)))
      .join('  ')
      .trimEnd();
  const out = [paint('bold', header(m)), '', paint('bold', line(table[0]!)), ...table.slice(1).map(line), ''];
  out.push(summary(m) + (elapsedMs !== undefined ? ` in ${(elapsedMs / 1000).toFixed(1)} s` : ''));
  for (const { scenario, kind, cell } of mismatches(m))
    out.push(paint('red', `  ${scenario}/${kind}: ${cell.outcome}, expected ${cell.expected ?? '?'}: ${cell.detail}`));
  return out.join('\n') + '\n';
}

/** The matrix as a Markdown table: measured outcome per cell, ✗ with the expected token where they differ. */
export function formatMarkdown(m: MatrixResult, elapsedMs?: number): string {
  const kinds = kindsOf(m);
  const cell = (c: CellResult | undefined): string =>
    !c
      ? ''
      : c.outcome === 'skipped'
        ? skippedText(c)
        : c.matches
          ? c.outcome
          : `**${c.outcome}** ✗ (expected ${c.expected ?? '?'})`;
  const out = [
    `Measured by \`syslocks-lab matrix\` on ${header(m)}.`,
    '',
    `| scenario | ${kinds.join(' | ')} |`,
    `| --- | ${kinds.map(() => '---').join(' | ')} |`,
    ...rows(m).map(([s, row]) => `| ${s} | ${kinds.map((k) => cell(row[k])).join(' | ')} |`),
    '',
    summary(m) + (elapsedMs !== undefined ? ` in ${(elapsedMs / 1000).toFixed(1)} s.` : '.'),
  ];
  return out.join('\n') + '\n';
}

/** The matrix as JSON (the `--json` shape of issue 6). */
export function formatJson(m: MatrixResult): string {
  return JSON.stringify(m, null, 2) + '\n';
}
