// Every command a user can name, in the order --help lists them (the hidden __complete is added by main).
import type { CommandModule } from 'yargs';
import { abortCommand } from './abort/cmd.js';
import { changeUserCommand } from './change-user/cmd.js';
import { completionCommand } from './completion/cmd.js';
import { finishCommand } from './finish/cmd.js';
import { getCommand } from './get/cmd.js';
import { resetCommand } from './reset/cmd.js';
import { rotateCommand } from './rotate/cmd.js';
import { statusCommand } from './status/cmd.js';
import { USER_COMMANDS, userCommand } from './user/cmd.js';
import { versionCommand } from './version/cmd.js';

// yargs types each module by its own flags; a list of them can only say "any".
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const COMMANDS: CommandModule<any, any>[] = [
  getCommand,
  rotateCommand,
  finishCommand,
  abortCommand,
  statusCommand,
  changeUserCommand,
  resetCommand,
  userCommand,
  versionCommand,
  completionCommand,
];

/** Commands with commands of their own (`user rotate`): completion descends into them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SUBCOMMANDS: Record<string, CommandModule<any, any>[]> = { user: USER_COMMANDS };
