// The yargs root: every command and flag. main.ts loads it only for what quick-answer.ts cannot answer
// from texts made at build time; scripts/bundle/help-texts.ts renders those texts from this same parser.
import yargs, { type Argv } from 'yargs';
import { z } from 'zod';
import { ExitCode } from '../errors/exit-codes.js';
import { withGlobalFlags } from './global-flags.js';
import { completeCommand } from './complete/cmd.js';
import { COMMANDS } from './registry.js';

// zod compiles a parser for each object schema with new Function() on its first use (its "JIT"), which no
// code cache can hold: a run like `get` spent a tenth of its time there. Interpreted, the same checks give
// the same results (zod's `jitless`, meant for hosts that forbid eval). Set before any schema is made: the
// modules that make them load after this one.
z.config({ jitless: true });

/** The parser for `argv`, its help wrapped at `width` columns (helpWidth). */
export function cliParser(argv: string[], width: number): Argv {
  return (
    withGlobalFlags(yargs(argv))
      .scriptName('kubectl reccred')
      .usage('Rotate Redis Enterprise cluster (REC) credentials on Kubernetes, safely.\n\nUsage: $0 <command> <rec> [flags]')
      // The registry's list is CommandModule<any, any>[]: yargs types each module by its own flags (see registry.ts).
      // eslint-disable-next-line @typescript-eslint/no-unsafe-argument
      .command(COMMANDS)
      .command(completeCommand)
      .demandCommand(1, 'name a command; see --help')
      .strict()
      .version(false)
      .help('help')
      .alias('help', 'h')
      .wrap(width)
      .epilogue(
        'Exit codes: 0 done; 1 failed, nothing left changed (or rolled back); 2 usage or bad input;\n' +
          '3 stopped in a resumable state (run finish or abort); 4 preflight refused.\n' +
          'Passwords are never taken as arguments: use --password-stdin or --password-file, or let one be generated.',
      )
      // @types/yargs says err is always an Error; a validation failure (unknown flag, missing argument) has none.
      .fail((msg, err: Error | undefined) => {
        if (err) throw err;
        process.stderr.write(`error: ${msg}\n  see: kubectl reccred --help\n`);
        process.exit(ExitCode.Usage);
      })
  );
}

export async function runCli(argv: string[], width: number): Promise<void> {
  const parser = cliParser(argv, width);
  skipHelpForFailures(parser);
  try {
    await parser.parseAsync();
  } catch (err) {
    // Loaded only on failure: its error classes pull in zod schemas that --help never needs.
    const { explainError } = await import('../procedures/explain-error.js');
    const e = explainError(err);
    process.stderr.write(`error: ${e.message}\n${e.hint ? `  ${e.hint}\n` : ''}`);
    if (process.argv.includes('-vv') || process.argv.includes('-vvv')) {
      // A stack carries the error's raw message: scrubbed like every other text.
      const { redactor } = await import('../output/redactor.js');
      process.stderr.write(`${redactor.stack(err)}\n`);
    }
    process.exitCode = e.exitCode;
  }
}

/**
 * Before running a command's handler yargs renders that command's whole help (usage.cacheHelpMessage, yargs
 * lib/command.ts), to print it should the handler fail. The fail handler above never prints help, so the
 * text is never read: skipping it saves its rendering on every run (a third of `get`'s own time). Reached
 * through getInternalMethods(), public in yargs but absent from @types/yargs; a yargs without it renders
 * as before.
 */
function skipHelpForFailures(parser: Argv): void {
  const internal = parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = internal.getInternalMethods?.().getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}
