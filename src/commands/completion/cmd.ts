import type { CommandModule } from 'yargs';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export const completionCommand: CommandModule<object, { shell: Shell }> = {
  command: 'completion <shell>',
  describe: 'Print a shell completion script for kubectl-reccred (kubectl 1.26+ completes `kubectl reccred` itself through kubectl_complete-reccred)',
  builder: (y) =>
    y
      .positional('shell', { choices: SHELLS, demandOption: true, describe: 'Shell to write the script for' })
      .example('source <($0 completion bash)', 'completion in the current bash session') as never,
  handler: async (argv) => {
    const { completionScript } = await import('./scripts.js');
    process.stdout.write(completionScript(argv.shell));
  },
};

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
