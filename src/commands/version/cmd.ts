import type { CommandModule } from 'yargs';
import { VERSION } from '../../version.js';

export const versionCommand: CommandModule = {
  command: 'version',
  describe: 'Print the plugin version',
  handler: () => {
    process.stdout.write(`kubectl-reccred ${VERSION} (node ${process.version}, ${process.platform}/${process.arch})\n`);
  },
};
