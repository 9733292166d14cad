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
    if (!a.startsWith('--') || a === '-') {
      out.positionals.push(a);
      continue;
    }
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

/** A positive integer option, or `def`. */
export function intOption(args: ParsedArgs, name: string, def: number, min = 1): number {
  const v = args.values.get(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min} (got '${v}')`);
  return n;
}

/** A non-negative number option (may be fractional), or undefined. */
export function numberOption(args: ParsedArgs, name: string): number | undefined {
  const v = args.values.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number >= 0 (got '${v}')`);
  return n;
}

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
