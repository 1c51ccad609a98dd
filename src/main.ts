// Entry point. kubectl passes every argument after "reccred" through untouched. Help, version and the
// completion scripts are answered without yargs when they can be (commands/quick-answer.ts, from texts the
// real parser rendered at build time), and so is `get` in its plain forms (commands/plain-argv.ts, from
// get's flag table made at build time); everything else goes to yargs and the commands, loaded only then.
import { helpWidth, quickAnswer } from './commands/quick-answer.js';
import { parsePlainArgv } from './commands/plain-argv.js';
import { BUILT_GET_FLAGS } from './commands/get/built-flags.js';
import type { GetFlags } from './commands/get/run.js';

export async function main(argv: string[]): Promise<void> {
  const width = helpWidth(process.stdout.columns);
  const answer = quickAnswer(argv, width);
  if (answer !== undefined) {
    process.stdout.write(answer);
    return;
  }
  const getFlags = BUILT_GET_FLAGS && parsePlainArgv(argv, BUILT_GET_FLAGS);
  if (getFlags) {
    const { runGetDirect } = await import('./commands/get/direct.js');
    // The fields yargs would give (test/unit/plain-argv.property.test.ts).
    await runGetDirect(getFlags as unknown as GetFlags);
    return;
  }
  const { runCli } = await import('./commands/cli.js');
  await runCli(argv, width);
}

// What yargs' hideBin gives for node and a single executable alike (their argv[1] is the script or the
// executable), without loading yargs for it.
await main(process.argv.slice(2));
