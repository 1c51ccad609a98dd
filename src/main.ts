// Entry point. kubectl passes every argument after "reccred" through untouched. Help, version and the
// completion scripts are answered without yargs when they can be (commands/quick-answer.ts, from texts the
// real parser rendered at build time); everything else goes to yargs and the commands, loaded only then.
import { helpWidth, quickAnswer } from './commands/quick-answer.js';

export async function main(argv: string[]): Promise<void> {
  const width = helpWidth(process.stdout.columns);
  const answer = quickAnswer(argv, width);
  if (answer !== undefined) {
    process.stdout.write(answer);
    return;
  }
  const { runCli } = await import('./commands/cli.js');
  await runCli(argv, width);
}

// What yargs' hideBin gives for node and a single executable alike (their argv[1] is the script or the
// executable), without loading yargs for it.
await main(process.argv.slice(2));
