// The help texts the bundle answers without yargs (src/commands/quick-answer.ts): rendered here, at bundle
// time, by the same parser the command line runs (src/commands/cli.ts), for every command path and each
// of HELP_WIDTHS.
import type { CommandModule } from 'yargs';
import { cliParser } from '../../src/commands/cli.js';
import type { HelpTexts } from '../../src/commands/built-help-texts.js';
import { HELP_WIDTHS } from '../../src/commands/quick-answer.js';
import { COMMANDS, SUBCOMMANDS } from '../../src/commands/registry.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const nameOf = (c: CommandModule<any, any>) => String(c.command).split(' ')[0]!;

/** Every command path --help describes: the root, each command, each command's own commands (`user rotate`). */
export function commandPaths(): string[][] {
  return [
    [],
    ...COMMANDS.flatMap((c) => {
      const name = nameOf(c);
      return [[name], ...(SUBCOMMANDS[name] ?? []).map((s) => [name, nameOf(s)])];
    }),
  ];
}

/**
 * What yargs prints on stdout for `argv` at `width`: its output through console.log, so with a final newline.
 * English as the executable's yargs always is: it finds no locale files beside itself, and falls back to
 * its built-in strings, which its en.json repeats.
 */
export async function renderHelp(argv: string[], width: number): Promise<string> {
  const parser = cliParser(argv, width).locale('en');
  const output = await new Promise<string>((resolve, reject) => {
    // A parse callback keeps yargs from printing and from exiting.
    void parser.parse(argv, {}, (err, _parsed, out) => (err ? reject(err) : resolve(out)));
  });
  return `${output}\n`;
}

export async function renderHelpTexts(widths: readonly number[] = HELP_WIDTHS): Promise<HelpTexts> {
  const texts: HelpTexts = {};
  for (const width of widths) {
    const atWidth: Record<string, string> = {};
    for (const path of commandPaths()) atWidth[path.join(' ')] = await renderHelp([...path, '--help'], width);
    texts[String(width)] = atWidth;
  }
  return texts;
}
