// get's flag table (src/commands/plain-argv.ts), read at bundle time from the declarations yargs is given:
// withGlobalFlags and get's builder run against a recorder that keeps each .option() and .positional().
// Any other call (a check, conflicts, implies, coerce, a middleware) fails the build: the table could not
// carry it. test/unit/plain-argv.property.test.ts checks the parser and this table against yargs itself.
import type { Argv, CommandModule } from 'yargs';
import { withGlobalFlags } from '../../src/commands/global-flags.js';
import { getCommand } from '../../src/commands/get/cmd.js';
import type { FlagSpec, FlagTable } from '../../src/commands/plain-argv.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function recordFlagTable(command: CommandModule<any, any>, withGlobal: (y: Argv) => Argv = withGlobalFlags): FlagTable {
  const flags: Record<string, FlagSpec> = {};
  const positionals: string[] = [];
  const recorder: Argv = new Proxy({} as Argv, {
    get: (_target, method) => {
      if (method === 'option')
        return (name: string, spec: FlagSpec) => {
          const { type, alias, array, choices, default: fallback } = spec;
          flags[name] = { type, alias, array, choices, default: fallback };
          return recorder;
        };
      if (method === 'positional')
        return (name: string) => {
          positionals.push(name);
          return recorder;
        };
      // Layout only, and the array setting (no array flag is read without yargs).
      if (method === 'group' || method === 'example' || method === 'parserConfiguration') return () => recorder;
      throw new Error(`a builder calls .${String(method)}(), which the plain parser's table cannot carry`);
    },
  });
  withGlobal(recorder);
  if (typeof command.builder !== 'function') throw new Error(`${String(command.command)}: a builder function is needed`);
  command.builder(recorder);
  const [name, ...words] = String(command.command).split(' ');
  if (positionals.length !== 1 || words.length !== 1) throw new Error(`${String(command.command)}: the plain parser reads commands of one positional`);
  return { command: name!, positional: positionals[0]!, flags: JSON.parse(JSON.stringify(flags)) as Record<string, FlagSpec> };
}

export const getFlagTable = (): FlagTable => recordFlagTable(getCommand);
