// Entry point. kubectl passes every argument after "reccred" through untouched; yargs parses them.
// Command modules load their actions (and the Kubernetes client) only when they run.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode } from './cli/exit-codes.js';
import { withGlobalFlags } from './cli/global-flags.js';
import { abortCommand } from './commands/abort/cmd.js';
import { changeUserCommand } from './commands/change-user/cmd.js';
import { resetCommand } from './commands/reset/cmd.js';
import { userCommand } from './commands/user/cmd.js';
import { finishCommand } from './commands/finish/cmd.js';
import { getCommand } from './commands/get/cmd.js';
import { rotateCommand } from './commands/rotate/cmd.js';
import { statusCommand } from './commands/status/cmd.js';
import { versionCommand } from './commands/version/cmd.js';
import { completeCommand, completionCommand } from './commands/completion/cmd.js';

export async function main(argv: string[]): Promise<void> {
  const parser = withGlobalFlags(yargs(argv))
    .scriptName('kubectl reccred')
    .usage('Rotate Redis Enterprise cluster (REC) credentials on Kubernetes, safely.\n\nUsage: $0 <command> <rec> [flags]')
    .command(getCommand)
    .command(rotateCommand)
    .command(finishCommand)
    .command(abortCommand)
    .command(statusCommand)
    .command(changeUserCommand)
    .command(resetCommand)
    .command(userCommand)
    .command(versionCommand)
    .command(completionCommand)
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
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`error: ${msg}\n  see: kubectl reccred --help\n`);
      process.exit(ExitCode.Usage);
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    // Loaded only on failure: its error classes pull in zod schemas that --help never needs.
    const { explainError } = await import('./cli/explain-error.js');
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
