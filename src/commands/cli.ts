// The yargs root: every command and flag. main.ts loads it only for what quick-answer.ts cannot answer
// from texts made at build time; scripts/bundle/help-texts.ts renders those texts from this same parser.
import './zod-config.js';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { ExitCode } from '../errors/exit-codes.js';
import { withGlobalFlags } from './global-flags.js';
import { completeCommand } from './complete/cmd.js';
import { COMMANDS } from './registry.js';
import { reportFailure } from './report-failure.js';

/** The help option and its alias. yargs also takes a last positional of either name as asking for help. */
export const HELP_OPTION = ['help', 'h'] as const;

/** The parser for `argv`, its help wrapped at `width` columns (helpWidth); `commands` for tests only. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function cliParser(argv: string[], width: number, commands: CommandModule<any, any>[] = COMMANDS): Argv {
  return (
    withGlobalFlags(yargs(argv))
      .scriptName('kubectl reccred')
      .usage('Rotate Redis Enterprise cluster (REC) credentials on Kubernetes, safely.\n\nUsage: $0 <command> <rec> [flags]')
      // The registry's list is CommandModule<any, any>[]: yargs types each module by its own flags (see registry.ts).
      // eslint-disable-next-line @typescript-eslint/no-unsafe-argument
      .command(commands)
      .command(completeCommand)
      .demandCommand(1, 'name a command; see --help')
      .strict()
      .version(false)
      .help(HELP_OPTION[0])
      .alias(...HELP_OPTION)
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
    await reportFailure(err, process.argv);
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
