// A small, strict flag parser: flags come before the module path, everything after it belongs to the
// guest. Mistakes are reported with the offending token quoted.

export class UsageError extends Error {}

export type Arity = 'none' | 'required' | 'optional';

export interface FlagSpec {
  arity: Arity;
  help: string;
  /** Placeholder for the value in help text. */
  value?: string;
}

export interface ParsedFlag {
  name: string;
  value: string | undefined;
}

export interface Parsed {
  flags: ParsedFlag[];
  positional: string[];
}

/** Parses `argv` up to the first positional argument (the module); the rest is passed through. */
export function parseArgs(argv: readonly string[], specs: Readonly<Record<string, FlagSpec>>): Parsed {
  const flags: ParsedFlag[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') { i++; break; }
    if (!tok.startsWith('-') || tok === '-') break;
    const eq = tok.indexOf('=');
    const name = eq >= 0 ? tok.slice(0, eq) : tok;
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag "${name}"`);
    let value: string | undefined = eq >= 0 ? tok.slice(eq + 1) : undefined;
    if (spec.arity === 'none' && value !== undefined) throw new UsageError(`flag "${name}" takes no value (got "${tok}")`);
    if (spec.arity === 'required' && value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`flag "${name}" needs a value: ${name} ${spec.value ?? 'VALUE'}`);
    }
    if (spec.arity !== 'none' && value === '') throw new UsageError(`flag "${name}" has an empty value`);
    flags.push({ name, value });
  }
  return { flags, positional: argv.slice(i) };
}

/** Parses a whole number flag value in [min, max]. */
export function intValue(flag: ParsedFlag, min: number, max: number): number {
  const v = flag.value ?? '';
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`invalid value "${v}" for ${flag.name}: expected a whole number from ${min} to ${max}`);
  }
  return Number(v);
}

/** A duration in seconds (decimals allowed), from 0 to `max`. */
export function secondsValue(flag: ParsedFlag, max: number): number {
  const v = flag.value ?? '';
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) > max) {
    throw new UsageError(`invalid value "${v}" for ${flag.name}: expected seconds from 0 to ${max} (decimals allowed)`);
  }
  return Number(v);
}

export function helpText(specs: Readonly<Record<string, FlagSpec>>): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = s.arity === 'none' ? name : s.arity === 'optional' ? `${name}[=${s.value ?? 'VALUE'}]` : `${name} ${s.value ?? 'VALUE'}`;
    return [left, s.help] as const;
  });
  const w = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, h]) => `  ${l.padEnd(w)}  ${h}`).join('\n');
}
