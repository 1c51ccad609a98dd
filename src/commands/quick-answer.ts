// Answers that need neither yargs nor any command: a help text, the version line, a completion script.
// The help texts are rendered at bundle time by the real parser (commands/cli.ts, through
// scripts/bundle/help-texts.ts) for the widths in HELP_WIDTHS; a help at any other width, or a help asked
// for in any other form, goes to yargs, as does everything else. test/distribution/help-texts.test.ts
// checks that each text is what yargs prints.
import { builtHelpTexts, type HelpTexts } from './built-help-texts.js';
import { completionScript } from './completion/scripts.js';
import { SHELLS } from './completion/shells.js';
import { versionLine } from './version/cmd.js';

/**
 * The widths rendered: 100, yargs' width when stdout is not a terminal (a pipe, a file, kubectl's
 * completion); 110, every terminal that wide or wider; 80, the usual default terminal.
 */
export const HELP_WIDTHS = [80, 100, 110] as const;

/** The width the help is wrapped to: the terminal's, at most 110; 100 when stdout is not a terminal. */
// `||`: a terminal that reports 0 columns gets the default too.
// eslint-disable-next-line @typescript-eslint/prefer-nullish-coalescing
export const helpWidth = (columns: number | undefined): number => Math.min(110, columns || 100);

/** The command path whose help these arguments ask for, in the forms answered here: `[path...] --help|-h`, or `help` alone. */
export function helpPathOf(argv: readonly string[]): string | undefined {
  if (argv.length === 1 && argv[0] === 'help') return '';
  const last = argv.at(-1);
  if (last !== '--help' && last !== '-h') return undefined;
  const words = argv.slice(0, -1);
  // Only plain command names: anything else (a flag, a value) is yargs' to interpret.
  return words.every((w) => /^[a-z][a-z-]*$/.test(w)) ? words.join(' ') : undefined;
}

export function quickAnswer(argv: readonly string[], width: number, texts: () => HelpTexts | undefined = builtHelpTexts): string | undefined {
  const path = helpPathOf(argv);
  if (path !== undefined) {
    const atWidth = texts()?.[String(width)];
    return atWidth && Object.hasOwn(atWidth, path) ? atWidth[path] : undefined;
  }
  if (argv.length === 1 && argv[0] === 'version') return versionLine();
  const shell = SHELLS.find((s) => s === argv[1]);
  if (argv.length === 2 && argv[0] === 'completion' && shell) return completionScript(shell);
  return undefined;
}
