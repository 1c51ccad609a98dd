import type { CommandModule } from 'yargs';

/** Cobra's protocol, which kubectl speaks to kubectl_complete-reccred: the words typed, the last one partial. */
export const completeCommand: CommandModule = {
  command: '__complete',
  describe: false,
  builder: (y) => y.strict(false).help(false),
  handler: async () => {
    const { complete, wordsAfter } = await import('./complete.js');
    process.stdout.write(await complete(wordsAfter(process.argv)));
  },
};
