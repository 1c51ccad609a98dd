import type { Argv, CommandModule } from 'yargs';
import { usageError } from '../../errors/exit-codes.js';
import type { Result } from '../../output/result.js';
import { sessionOptions, type GlobalFlags } from '../global-flags.js';
import { passwordChoice, withPasswordFlags, type PasswordFlags } from '../password-flags.js';

type UserFlags = GlobalFlags &
  PasswordFlags & {
    rec: string;
    user: string;
    toSecret?: string;
    currentPasswordFile?: string;
    currentPasswordStdin?: boolean;
  };

const userFlags = (y: Argv, verb: string) =>
  y
    .positional('rec', { type: 'string', demandOption: true, describe: 'Name of the RedisEnterpriseCluster' })
    .option('user', { type: 'string', demandOption: true, describe: `The user whose passwords to ${verb} (email or name)` })
    .option('to-secret', {
      type: 'string',
      describe: 'NAMESPACE/NAME[:KEY] (key default "password"): where clients read the password; the current one is read there and the new one written there',
    });

/** What every user command is given: the session, the REC and user, and how a password handed over on stdout is shown. */
async function userRequest(argv: UserFlags) {
  const session = sessionOptions(argv, { kubeconfigUser: false });
  const { printResult } = await import('../../output/result.js');
  // On stdout only, like get --reveal; the message goes to stderr.
  const present = (result: Result) => printResult(result, session.output, () => `${result.password ?? ''}\n`, true);
  return { session, rec: argv.rec, user: argv.user, toSecret: argv.toSecret, present };
}

const rotate: CommandModule<object, UserFlags> = {
  command: 'rotate <rec>',
  describe: "Add a new password for the user; both work until 'user finish'",
  builder: (y) =>
    withPasswordFlags(userFlags(y, 'rotate'))
      .option('current-password-file', { type: 'string', describe: "File whose first line is the user's current password (when no --to-secret holds it)" })
      .option('current-password-stdin', { type: 'boolean', describe: "Read the user's current password from stdin (one line)" })
      .example('$0 user rotate rec --user app@example.com --to-secret apps/cache:password', 'new password into the Secret the app reads; the old one still works')
      .example('$0 user rotate rec --user app@example.com --current-password-file cur.txt', 'print the new password once on stdout') as never,
  handler: async (argv) => {
    if (argv.currentPasswordStdin && argv.passwordStdin) throw usageError('--current-password-stdin and --password-stdin both want stdin; give one of them as a file');
    // Both read before the first login: input that is not a password is refused with nothing sent.
    const password = await passwordChoice(argv);
    const { suppliedPassword } = await import('../../password/password-source.js');
    const currentPassword = await suppliedPassword(
      { stdin: argv.currentPasswordStdin === true, file: argv.currentPasswordFile },
      { stdin: '--current-password-stdin', file: '--current-password-file' },
    );
    const request = { ...(await userRequest(argv)), password, currentPassword };
    const [{ userRotate }, { printAndExit }] = await Promise.all([import('../../operations/user.js'), import('../outcome.js')]);
    await printAndExit(userRotate(request), request.session.output);
  },
};

const finish: CommandModule<object, UserFlags> = {
  command: 'finish <rec>',
  describe: 'Delete the old password once every client uses the new one',
  builder: (y) => userFlags(y, 'finish').example('$0 user finish rec --user app@example.com', 'only the new password works afterwards') as never,
  handler: async (argv) => {
    const request = await userRequest(argv);
    const [{ userFinish }, { printAndExit }] = await Promise.all([import('../../operations/user.js'), import('../outcome.js')]);
    await printAndExit(userFinish(request), request.session.output);
  },
};

const reset: CommandModule<object, UserFlags> = {
  command: 'reset <rec>',
  describe: 'Emergency: replace ALL passwords of the user with one (as the admin)',
  builder: (y) =>
    withPasswordFlags(userFlags(y, 'reset')).example('$0 user reset rec --user app@example.com --to-secret apps/cache --yes', 'every old password stops working now') as never,
  handler: async (argv) => {
    const password = await passwordChoice(argv);
    const request = { ...(await userRequest(argv)), password, yes: argv.yes };
    const [{ userReset }, { printAndExit }] = await Promise.all([import('../../operations/user.js'), import('../outcome.js')]);
    await printAndExit(userReset(request), request.session.output);
  },
};

export const userCommand: CommandModule = {
  command: 'user <command>',
  describe: 'Rotate the passwords of other cluster and database users (rotate, finish, reset)',
  builder: (y) => y.command(rotate).command(finish).command(reset).demandCommand(1, 'name a user command: rotate, finish or reset'),
  handler: () => undefined,
};
