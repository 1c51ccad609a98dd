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
    consumers?: string;
    restart?: boolean;
    finish?: boolean;
    dryRun?: boolean;
    settle?: string;
    rolloutTimeout?: string;
  };

const withRolloutTimeout = (y: Argv) =>
  y.option('rollout-timeout', {
    type: 'string',
    default: '10m',
    describe: 'How long the restarted workloads may take to roll out, in all; past it the run stops resumable (exit 3), both passwords valid',
  });

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
    withRolloutTimeout(withPasswordFlags(userFlags(y, 'rotate')))
      .option('current-password-file', { type: 'string', describe: "File whose first line is the user's current password (when no --to-secret holds it)" })
      .option('current-password-stdin', { type: 'boolean', describe: "Read the user's current password from stdin (one line)" })
      .option('consumers', {
        type: 'string',
        describe: 'TYPE/NAME,... (deployment, statefulset, daemonset): restart these instead of the workloads found reading --to-secret',
      })
      .option('restart', {
        type: 'boolean',
        default: true,
        describe: 'Restart the workloads that read --to-secret (as kubectl rollout restart) and wait for their rollouts; --no-restart leaves that to you',
      })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Run the read-only checks and print the plan, with the workloads it would restart; change nothing' })
      .option('finish', { type: 'boolean', default: false, describe: 'Delete the old password in this run, once the rollouts completed and --settle passed' })
      .option('settle', {
        type: 'string',
        default: '5m',
        describe: 'With --finish: how long after the Secret update before the old password goes (clients that read it through a volume and never restart)',
      })
      .example(
        '$0 user rotate rec --user app@example.com --to-secret apps/cache:password --finish',
        'new password into the Secret, every workload reading it restarted and rolled out, then the old password deleted',
      )
      .example(
        '$0 user rotate rec --user app@example.com --to-secret apps/cache:password',
        'new password into the Secret the app reads, its workloads restarted; the old one still works',
      )
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
    const { parseDuration } = await import('../../duration/duration.js');
    const request = {
      ...(await userRequest(argv)),
      password,
      currentPassword,
      consumers: argv.consumers,
      restart: argv.restart !== false,
      finish: argv.finish === true,
      dryRun: argv.dryRun === true,
      settleMs: parseDuration(argv.settle ?? '5m', '--settle'),
      rolloutTimeoutMs: parseDuration(argv.rolloutTimeout ?? '10m', '--rollout-timeout'),
    };
    const [{ userRotate }, { printAndExit }] = await Promise.all([import('../../operations/user.js'), import('../outcome.js')]);
    await printAndExit(userRotate(request), request.session.output);
  },
};

const finish: CommandModule<object, UserFlags> = {
  command: 'finish <rec>',
  describe: 'Delete the old password once every client uses the new one',
  builder: (y) => withRolloutTimeout(userFlags(y, 'finish')).example('$0 user finish rec --user app@example.com', 'only the new password works afterwards') as never,
  handler: async (argv) => {
    const { parseDuration } = await import('../../duration/duration.js');
    const request = { ...(await userRequest(argv)), rolloutTimeoutMs: parseDuration(argv.rolloutTimeout ?? '10m', '--rollout-timeout') };
    const [{ userFinish }, { printAndExit }] = await Promise.all([import('../../operations/user.js'), import('../outcome.js')]);
    await printAndExit(userFinish(request), request.session.output);
  },
};

const abort: CommandModule<object, UserFlags> = {
  command: 'abort <rec>',
  describe: 'Undo an unfinished rotate: the old password back in the Secret and its workloads, the new one deleted',
  builder: (y) =>
    withRolloutTimeout(userFlags(y, 'abort'))
      .option('settle', {
        type: 'string',
        default: '5m',
        describe: 'How long after the Secret gets the old password back before the new one goes (clients that read it through a volume)',
      })
      .example('$0 user abort rec --user app@example.com', 'only the old password works afterwards') as never,
  handler: async (argv) => {
    const { parseDuration } = await import('../../duration/duration.js');
    const request = {
      ...(await userRequest(argv)),
      rolloutTimeoutMs: parseDuration(argv.rolloutTimeout ?? '10m', '--rollout-timeout'),
      settleMs: parseDuration(argv.settle ?? '5m', '--settle'),
    };
    const [{ userAbort }, { printAndExit }] = await Promise.all([import('../../operations/user.js'), import('../outcome.js')]);
    await printAndExit(userAbort(request), request.session.output);
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

/** user's own commands, in the order --help lists them (completion offers them from here too). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const USER_COMMANDS: CommandModule<any, any>[] = [rotate, finish, abort, reset];

export const userCommand: CommandModule = {
  command: 'user <command>',
  describe: 'Rotate the passwords of other cluster and database users (rotate, finish, abort, reset)',
  builder: (y) => USER_COMMANDS.reduce((b, c) => b.command(c as CommandModule), y).demandCommand(1, 'name a user command: rotate, finish, abort or reset'),
  handler: () => undefined,
};
