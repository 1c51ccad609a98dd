// A command's arguments in their plain forms, read without yargs from a table of its flags that the build
// takes from the same declarations yargs is given (scripts/bundle/flag-table.ts). Every other form (a
// repeated flag, --no-X, -vv, an array or count flag, a value that starts with '-' or, after '=', with a
// quote, an unknown flag, --help, a positional that names help) is left to yargs: the answer is then
// undefined. test/unit/plain-argv.property.test.ts checks that every answer is the one yargs gives.

/** A flag as the command line declares it to yargs (the fields this parser reads). */
export interface FlagSpec {
  type?: 'string' | 'boolean' | 'count';
  alias?: string | string[];
  array?: boolean;
  choices?: readonly string[];
  default?: unknown;
}

/** A command's table: its name, its one positional, and every flag it takes (its own and the global ones). */
export interface FlagTable {
  command: string;
  positional: string;
  flags: Record<string, FlagSpec>;
  /** The help option's names: yargs shows help when the positional is one of them (`get help`). */
  helpNames: readonly string[];
}

const camelCase = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** yargs' value for a flag never given: its default, 0 for a count. */
function absentValue(spec: FlagSpec): unknown {
  if (spec.default !== undefined) return spec.default;
  return spec.type === 'count' ? 0 : undefined;
}

/**
 * `argv` as yargs would parse it for `table.command`, keyed by camelCase names (the positional by its own
 * name), or undefined when it is not in a plain form. Plain: the command, then its one positional and
 * single-valued string or boolean flags in any order, each at most once, as `--name VALUE`, `--name=VALUE`,
 * `-x VALUE` or a bare boolean `--name` / `-x`.
 */
export function parsePlainArgv(argv: readonly string[], table: FlagTable): Record<string, unknown> | undefined {
  if (argv[0] !== table.command) return undefined;
  const byName = new Map<string, string>();
  for (const [name, spec] of Object.entries(table.flags)) {
    byName.set(`--${name}`, name);
    for (const alias of [spec.alias ?? []].flat()) byName.set(alias.length === 1 ? `-${alias}` : `--${alias}`, name);
  }
  const given = new Map<string, unknown>();
  let positional: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (!token.startsWith('-')) {
      if (positional !== undefined || token === '') return undefined;
      positional = token;
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = byName.get(eq < 0 ? token : token.slice(0, eq));
    const spec = name === undefined ? undefined : table.flags[name];
    if (name === undefined || spec === undefined || given.has(name) || spec.array) return undefined;
    if (spec.type === 'boolean') {
      // `--flag true` and `--flag=false` are yargs' own forms.
      const next = argv[i + 1];
      if (eq >= 0 || next === 'true' || next === 'false') return undefined;
      given.set(name, true);
      continue;
    }
    if (spec.type !== 'string' && !spec.choices) return undefined;
    const value = eq >= 0 ? token.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    // yargs takes a pair of quotes off a value after '=' (yargs-parser's stripQuotes), not off one in a word of its own.
    if (eq >= 0 && /^["']/.test(value)) return undefined;
    if (spec.choices && !spec.choices.includes(value)) return undefined;
    given.set(name, value);
  }
  if (positional === undefined || table.helpNames.includes(positional)) return undefined;
  const parsed: Record<string, unknown> = { [table.positional]: positional };
  for (const [name, spec] of Object.entries(table.flags)) {
    const value = given.has(name) ? given.get(name) : absentValue(spec);
    if (value !== undefined) parsed[camelCase(name)] = value;
  }
  return parsed;
}
