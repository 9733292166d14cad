/**
 * A small argv parser: positionals, `--flag`, `--name value` and `--name=value`.
 * Each subcommand declares which options take values and which are switches, so a
 * typo is an error instead of a silent default.
 * @packageDocumentation
 */

/** Parsed arguments. */
export interface ParsedArgs {
  /** Positional arguments, in order. */
  positionals: string[];
  /** `--name value` options (last one wins). */
  values: Map<string, string>;
  /** `--switch` options that were given. */
  switches: Set<string>;
}

/** A usage error: the CLI prints it with the usage text and exits 2. */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}

/** Parses `argv` given the names of value options and switch options. */
export function parseArgs(
  argv: readonly string[],
  valueNames: readonly string[],
  switchNames: readonly string[],
): ParsedArgs {
  const out: ParsedArgs = { positionals: [], values: new Map(), switches: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.positionals.push(a);
      continue;
    }
    // A single-dash word is never a file name by accident (`try -h`); `--` ends options.
    if (!a.startsWith('--')) throw new UsageError(`unknown option ${a} (a file starting with '-' goes after --)`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (switchNames.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out.switches.add(name);
    } else if (valueNames.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      out.values.set(name, v);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return out;
}

/** True if `argv` asks for help (`--help` or `-h` before any `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/**
 * An integer option in [min, max], or `def`. Only plain decimal digits are accepted
 * (`1e3`, `0x10`, `8.0` are refused), so what is run is what was typed.
 */
export function intOption(args: ParsedArgs, name: string, def: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const v = args.values.get(name);
  if (v === undefined) return def;
  const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} must be a whole number in decimal digits (got '${v}')`);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max} (got ${v})`);
  return n;
}

/** A non-negative number option (may be fractional) up to `max`, or undefined. */
export function numberOption(args: ParsedArgs, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = args.values.get(name);
  if (v === undefined) return undefined;
  const n = /^[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number >= 0 in decimal digits (got '${v}')`);
  if (n > max) throw new UsageError(`--${name} must be at most ${max} (got ${v})`);
  return n;
}

/** The longest timer Node can arm (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** One value of a fixed set, or `def`. */
export function choiceOption<T extends string>(args: ParsedArgs, name: string, choices: readonly T[], def: T): T {
  const v = args.values.get(name);
  if (v === undefined) return def;
  if (!(choices as readonly string[]).includes(v))
    throw new UsageError(`--${name} must be one of ${choices.join(', ')} (got '${v}')`);
  return v as T;
}

/** `START:LENGTH` → a range (both non-negative integers; LENGTH 0 = to EOF). */
export function rangeOption(args: ParsedArgs): { start: number; length: number } | undefined {
  const v = args.values.get('range');
  if (v === undefined) return undefined;
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--range must be START:LENGTH (got '${v}')`);
  return { start: Number(m[1]), length: Number(m[2]) };
}
