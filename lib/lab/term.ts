/**
 * Terminal helpers: ANSI colour only when the stream is a TTY (and `NO_COLOR` is
 * unset), and a live status line that rewrites itself in place.
 * @packageDocumentation
 */

/** Colour names the lab uses. */
export type Colour = 'green' | 'red' | 'yellow' | 'dim' | 'bold' | 'cyan';

const CODES: Record<Colour, [number, number]> = {
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

/** Whether to colour output written to `stream`. */
export function useColour(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb';
}

/** Returns a painter: `paint('red', s)` wraps s in ANSI codes when `enabled`. */
export function painter(enabled: boolean): (c: Colour, s: string) => string {
  return (c, s) => (enabled ? `\x1b[${CODES[c][0]}m${s}\x1b[${CODES[c][1]}m` : s);
}

/** Visible width of a string (ANSI codes removed). */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/**
 * A status line on a TTY (`\r` + clear to end of line); on anything else it writes
 * nothing, so pipes and logs stay clean.
 */
export class LiveLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #live: boolean;
  #shown = false;

  /** @param stream - where the line goes (default stderr); on a non-TTY nothing is written. */
  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#live = stream.isTTY === true;
  }

  /** Replaces the line. */
  update(text: string): void {
    if (!this.#live) return;
    const width = this.#stream.columns || 100;
    this.#stream.write(`\r\x1b[2K${text.length > width - 1 ? text.slice(0, width - 1) : text}`);
    this.#shown = true;
  }

  /** Clears it. */
  clear(): void {
    if (!this.#live || !this.#shown) return;
    this.#stream.write('\r\x1b[2K');
    this.#shown = false;
  }
}
