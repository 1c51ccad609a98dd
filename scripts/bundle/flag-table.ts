// get's flag table (src/commands/plain-argv.ts), read at bundle time from the declarations yargs is given:
// withGlobalFlags and get's builder run against a recorder that keeps each .option() and .positional().
// Anything the table could not carry fails the build: another call (a check, conflicts, implies, coerce, a
// middleware), an option setting other than those below, a coerce other than the last-value one, another
// parser setting. test/unit/plain-argv.property.test.ts checks the parser and this table against yargs itself.
import type { Argv, CommandModule } from 'yargs';
import { HELP_OPTION } from '../../src/commands/cli.js';
import { lastValue, withGlobalFlags } from '../../src/commands/global-flags.js';
import { getCommand } from '../../src/commands/get/cmd.js';
import type { FlagSpec, FlagTable } from '../../src/commands/plain-argv.js';

/** Option settings the table carries (the first five) or that change no parsed value. */
const OPTION_KEYS = new Set(['type', 'alias', 'array', 'choices', 'default', 'coerce', 'description', 'describe', 'global', 'hidden']);
const POSITIONAL_KEYS = new Set(['type', 'demandOption', 'describe', 'description']);

function refuse(what: string): never {
  throw new Error(`${what}, which the plain parser's table cannot carry (scripts/bundle/flag-table.ts)`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function recordFlagTable(command: CommandModule<any, any>, withGlobal: (y: Argv) => Argv = withGlobalFlags): FlagTable {
  const flags: Record<string, FlagSpec> = {};
  const positionals: string[] = [];
  const recorder: Argv = new Proxy({} as Argv, {
    get: (_target, method) => {
      if (method === 'option')
        return (name: string, spec: FlagSpec & Record<string, unknown>) => {
          const other = Object.keys(spec).filter((k) => !OPTION_KEYS.has(k));
          if (other.length) refuse(`--${name} sets ${other.join(', ')}`);
          if (spec.coerce !== undefined && spec.coerce !== lastValue) refuse(`--${name} has a coerce of its own`);
          if (spec.type !== undefined && spec.type !== 'string' && spec.type !== 'boolean' && spec.type !== 'count') refuse(`--${name} is of type ${spec.type}`);
          const { type, alias, array, choices, default: fallback } = spec;
          flags[name] = { type, alias, array, choices, default: fallback };
          return recorder;
        };
      if (method === 'positional')
        return (name: string, spec: Record<string, unknown>) => {
          const other = Object.keys(spec).filter((k) => !POSITIONAL_KEYS.has(k));
          if (other.length || spec.type !== 'string') refuse(`the positional <${name}> is not a plain string (${other.join(', ') || String(spec.type)})`);
          positionals.push(name);
          return recorder;
        };
      if (method === 'parserConfiguration')
        return (config: Record<string, unknown>) => {
          if (JSON.stringify(config) !== JSON.stringify({ 'greedy-arrays': false })) refuse(`a builder sets the parser configuration ${JSON.stringify(config)}`);
          return recorder;
        };
      // Layout only.
      if (method === 'group' || method === 'example') return () => recorder;
      return refuse(`a builder calls .${String(method)}()`);
    },
  });
  withGlobal(recorder);
  if (typeof command.builder !== 'function') throw new Error(`${String(command.command)}: a builder function is needed`);
  command.builder(recorder);
  const [name, ...words] = String(command.command).split(' ');
  if (positionals.length !== 1 || words.length !== 1) throw new Error(`${String(command.command)}: the plain parser reads commands of one positional`);
  return { command: name!, positional: positionals[0]!, flags: JSON.parse(JSON.stringify(flags)) as Record<string, FlagSpec>, helpNames: [...HELP_OPTION] };
}

export const getFlagTable = (): FlagTable => recordFlagTable(getCommand);
