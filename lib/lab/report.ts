/**
 * Renders a matrix: a table for people (coloured on a TTY, at most `width` columns),
 * Markdown for docs, JSON for machines.
 * @packageDocumentation
 */
import { describeFs } from './fsinfo.js';
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

/** True if any cell is `error` (the CLI exits 1 then, whatever the output form). */
export function hasErrors(m: MatrixResult): boolean {
  return rows(m).some(([, row]) => Object.values(row).some((c) => c.outcome === 'error'));
}

/** A cell's outcome in words: `n/a (not visible)`, `unsupported (ENOLCK)`, or the token. */
export function outcomeText(c: CellResult): string {
  if (c.outcome === 'not-visible') return 'n/a (not visible)';
  if (c.outcome === 'unsupported') return `unsupported (${c.errno ?? '?'})`;
  return c.outcome;
}

/** Cells whose measured outcome differs from the documented one. */
export function mismatches(m: MatrixResult): { scenario: ScenarioName; kind: LabKind; cell: CellResult }[] {
  const out: { scenario: ScenarioName; kind: LabKind; cell: CellResult }[] = [];
  for (const [scenario, row] of rows(m)) {
    for (const [kind, cell] of Object.entries(row) as [LabKind, CellResult][])
      if (!cell.matches) out.push({ scenario, kind, cell });
  }
  return out;
}

/** Words of `text` in lines of at most `width` columns, each after `indent`. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  // A word longer than a line (an overlay's layer list) is cut into line-sized pieces.
  const room = Math.max(8, width - indent.length);
  const words = text
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((w) => (w.length <= room ? [w] : (w.match(new RegExp(`.{1,${room}}`, 'g')) ?? [w])));
  for (const word of words) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

function headerLines(m: MatrixResult): string[] {
  const out = [
    `syslocks ${m.syslocks}, Node ${m.node}, ${m.platform} ${m.kernel}, ${m.date}`,
    `dir ${m.dir}: ${describeFs(m.fsInfo)}`,
  ];
  if (m.peerDir) out.push(`contender through ${m.peerDir}: ${m.peerFsInfo ? describeFs(m.peerFsInfo) : '?'}`);
  return out;
}

function summary(m: MatrixResult): string {
  const total = rows(m).reduce((n, [, row]) => n + Object.keys(row).length, 0);
  const bad = mismatches(m);
  return `${total - bad.length}/${total} cells match the documented semantics (SEMANTICS.md)${bad.length ? `; ${bad.length} differ` : ''}`;
}

/**
 * The matrix as an aligned text table of at most `width` columns. A cell shows the
 * measured token (✗ where it differs from the documented one; the differences are
 * listed below the table with their details). Where a row's name and cells do not fit
 * on one line, the name gets a line of its own and the cells go on the next, under
 * their column heads: wrapped on purpose, never cut.
 */
export function formatTable(m: MatrixResult, colour: boolean, elapsedMs?: number, width = 80): string {
  const paint = painter(colour);
  const kinds = kindsOf(m);
  const text = (c: CellResult | undefined): [string, string] => {
    if (!c) return ['', ''];
    const t = outcomeText(c);
    if (c.matches) return [t, paint(c.outcome === 'n/a' ? 'dim' : 'green', t)];
    if (c.outcome === 'error') return [`${t} ✗`, paint('yellow', `${t} ✗`)];
    return [`${t} ✗`, paint(c.outcome === 'not-visible' ? 'yellow' : 'red', `${t} ✗`)];
  };
  const cells = rows(m).map(([s, row]) => ({ name: s, parts: kinds.map((k) => text(row[k])) }));
  const cellWidths = kinds.map((k, i) => Math.max(k.length, ...cells.map((r) => r.parts[i]![0].length)));
  const cellsWidth = cellWidths.reduce((a, b) => a + b + 2, 0) - 2;
  const nameWidth = Math.max('scenario'.length, ...cells.map((r) => r.name.length));
  // The first column is as wide as the longest name, or what is left of `width`.
  const col = Math.max(2, Math.min(nameWidth, width - cellsWidth - 2));
  const pad = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - visibleLength(s)));
  const cellLine = (parts: readonly string[]): string =>
    parts
      .map((p, i) => pad(p, cellWidths[i]!))
      .join('  ')
      .trimEnd();
  const out = [
    ...headerLines(m).flatMap((h) => wrap(h, width - 2, '').map((l, i) => paint('bold', i ? `  ${l}` : l))),
    '',
  ];
  out.push(paint('bold', `${pad('scenario', col)}  ${cellLine(kinds)}`));
  for (const { name, parts } of cells) {
    const shown = parts.map((p) => p[1]);
    if (name.length <= col) out.push(`${pad(name, col)}  ${cellLine(shown)}`);
    else out.push(name, `${' '.repeat(col)}  ${cellLine(shown)}`);
  }
  out.push('');
  out.push(...wrap(summary(m) + (elapsedMs !== undefined ? ` in ${(elapsedMs / 1000).toFixed(1)} s` : ''), width));
  for (const { scenario, kind, cell } of mismatches(m)) {
    const head = `${scenario}/${kind}: ${outcomeText(cell)}, expected ${cell.expected ?? '?'}:`;
    out.push(
      ...wrap(`${head} ${cell.detail}`, width, '    ').map((l, i) => paint('red', i ? l : `  ${l.trimStart()}`)),
    );
  }
  for (const note of m.notes) out.push(...wrap(`note: ${note}`, width, '  '));
  return out.join('\n') + '\n';
}

/** The matrix as a Markdown table: measured outcome per cell, ✗ with the expected token where they differ. */
export function formatMarkdown(m: MatrixResult, elapsedMs?: number): string {
  const kinds = kindsOf(m);
  const cell = (c: CellResult | undefined): string =>
    !c ? '' : c.matches ? outcomeText(c) : `**${outcomeText(c)}** ✗ (expected ${c.expected ?? '?'})`;
  const out = [
    `Measured by \`syslocks-lab matrix\`: ${headerLines(m).join('; ')}.`,
    '',
    `| scenario | ${kinds.join(' | ')} |`,
    `| --- | ${kinds.map(() => '---').join(' | ')} |`,
    ...rows(m).map(([s, row]) => `| ${s} | ${kinds.map((k) => cell(row[k])).join(' | ')} |`),
    '',
    summary(m) + (elapsedMs !== undefined ? ` in ${(elapsedMs / 1000).toFixed(1)} s.` : '.'),
    ...m.notes.map((n) => `\nNote: ${n}`),
  ];
  return out.join('\n') + '\n';
}

/** The matrix as JSON (the `--json` shape in docs/LAB.md, "The matrix"). */
export function formatJson(m: MatrixResult): string {
  return JSON.stringify(m, null, 2) + '\n';
}
