import type { CommandModule } from 'yargs';
import { VERSION } from '../../version.js';

/** What `version` prints (also answered without yargs, commands/quick-answer.ts). */
export const versionLine = () => `kubectl-reccred ${VERSION} (node ${process.version}, ${process.platform}/${process.arch})\n`;

export const versionCommand: CommandModule = {
  command: 'version',
  describe: 'Print the plugin version',
  handler: () => {
    process.stdout.write(versionLine());
  },
};
