// Entry point. kubectl passes every argument after "reccred" through untouched; yargs parses them.
// Command modules load their actions (and the Kubernetes client) only when they run.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode } from './errors/exit-codes.js';
import { withGlobalFlags } from './commands/global-flags.js';
import { completeCommand } from './commands/complete/cmd.js';
import { COMMANDS } from './commands/registry.js';

export async function main(argv: string[]): Promise<void> {
  const parser = withGlobalFlags(yargs(argv))
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
    .wrap(Math.min(110, process.stdout.columns || 100))
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
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    // Loaded only on failure: its error classes pull in zod schemas that --help never needs.
    const { explainError } = await import('./procedures/explain-error.js');
    const e = explainError(err);
    process.stderr.write(`error: ${e.message}\n${e.hint ? `  ${e.hint}\n` : ''}`);
    if (process.argv.includes('-vv') || process.argv.includes('-vvv')) {
      // A stack carries the error's raw message: scrubbed like every other text.
      const { redactor } = await import('./output/redactor.js');
      process.stderr.write(`${redactor.stack(err)}\n`);
    }
    process.exitCode = e.exitCode;
  }
}

await main(hideBin(process.argv));
