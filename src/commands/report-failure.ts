// How a command that threw ends: the error explained on stderr (its raw stack only at -vv, scrubbed) and the
// exit code it calls for. Shared by the yargs command line and `get` without yargs.
export async function reportFailure(err: unknown, argv: readonly string[]): Promise<void> {
  // Loaded only on failure: its error classes pull in zod schemas that --help never needs.
  const { explainError } = await import('../procedures/explain-error.js');
  const e = explainError(err);
  process.stderr.write(`error: ${e.message}\n${e.hint ? `  ${e.hint}\n` : ''}`);
  if (argv.includes('-vv') || argv.includes('-vvv')) {
    // A stack carries the error's raw message: scrubbed like every other text.
    const { redactor } = await import('../output/redactor.js');
    process.stderr.write(`${redactor.stack(err)}\n`);
  }
  process.exitCode = e.exitCode;
}
