import type { CommandModule } from 'yargs';
import { SHELLS, type Shell } from './shells.js';

export const completionCommand: CommandModule<object, { shell: Shell }> = {
  command: 'completion <shell>',
  describe: 'Print a shell completion script for kubectl-reccred (kubectl 1.26+ completes `kubectl reccred` itself through kubectl_complete-reccred)',
  builder: (y) =>
    y
      .positional('shell', { choices: SHELLS, demandOption: true, describe: 'Shell to write the script for' })
      .example('source <($0 completion bash)', 'completion in the current bash session'),
  handler: async (argv) => {
    const { completionScript } = await import('./scripts.js');
    process.stdout.write(completionScript(argv.shell));
  },
};
