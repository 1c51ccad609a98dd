import type { Argv, CommandModule } from 'yargs';
import type { UserFlags } from './user.js';

const userFlags = (y: Argv, verb: string) =>
  y
    .positional('rec', { type: 'string', demandOption: true, describe: 'Name of the RedisEnterpriseCluster' })
    .option('user', { type: 'string', demandOption: true, describe: `The user whose passwords to ${verb} (email or name)` })
    .option('to-secret', { type: 'string', describe: 'NAMESPACE/NAME[:KEY] (key default "password"): where clients read the password; the current one is read there and the new one written there' });

const newPasswordFlags = (y: Argv) =>
  y
    .option('password-stdin', { type: 'boolean', describe: 'Read the new password from stdin (one line)' })
    .option('password-file', { type: 'string', describe: 'Read the new password from the first line of a file' })
    .option('length', { type: 'number', default: 32, describe: 'Length of the generated password' });

const rotate: CommandModule<object, UserFlags> = {
  command: 'rotate <rec>',
  describe: "Add a new password for the user; both work until 'user finish'",
  builder: (y) =>
    newPasswordFlags(userFlags(y, 'rotate'))
      .option('current-password-file', { type: 'string', describe: "File whose first line is the user's current password (when no --to-secret holds it)" })
      .option('current-password-stdin', { type: 'boolean', describe: "Read the user's current password from stdin (one line)" })
      .example('$0 user rotate rec --user app@example.com --to-secret apps/cache:password', 'new password into the Secret the app reads; the old one still works')
      .example('$0 user rotate rec --user app@example.com --current-password-file cur.txt', 'print the new password once on stdout') as never,
  handler: async (argv) => {
    const { userRotate } = await import('./user.js');
    process.exitCode = await userRotate(argv);
  },
};

const finish: CommandModule<object, UserFlags> = {
  command: 'finish <rec>',
  describe: 'Delete the old password once every client uses the new one',
  builder: (y) => userFlags(y, 'finish').example('$0 user finish rec --user app@example.com', 'only the new password works afterwards') as never,
  handler: async (argv) => {
    const { userFinish } = await import('./user.js');
    process.exitCode = await userFinish(argv);
  },
};

const reset: CommandModule<object, UserFlags> = {
  command: 'reset <rec>',
  describe: 'Emergency: replace ALL passwords of the user with one (as the admin)',
  builder: (y) =>
    newPasswordFlags(userFlags(y, 'reset')).example('$0 user reset rec --user app@example.com --to-secret apps/cache --yes', 'every old password stops working now') as never,
  handler: async (argv) => {
    const { userReset } = await import('./user.js');
    process.exitCode = await userReset(argv);
  },
};

export const userCommand: CommandModule = {
  command: 'user <command>',
  describe: 'Rotate the passwords of other cluster and database users (rotate, finish, reset)',
  builder: (y) => y.command(rotate).command(finish).command(reset).demandCommand(1, 'name a user command: rotate, finish or reset'),
  handler: () => undefined,
};
