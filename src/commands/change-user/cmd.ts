import type { CommandModule } from 'yargs';
import { sessionOptions, type GlobalFlags } from '../global-flags.js';
import { passwordChoice, withPasswordFlags, type PasswordFlags } from '../password-flags.js';
import { rotationTiming, type TimingFlags } from '../timing-flags.js';

type ChangeUserFlags = GlobalFlags &
  PasswordFlags &
  TimingFlags & {
    rec: string;
    username: string;
    dryRun: boolean;
    allowManagedSecret: boolean;
  };

export const changeUserCommand: CommandModule<object, ChangeUserFlags> = {
  command: 'change-user <rec>',
  describe: 'Move the REC admin account to a new username and password',
  builder: (y) =>
    withPasswordFlags(y)
      .positional('rec', { type: 'string', demandOption: true, describe: 'Name of the RedisEnterpriseCluster' })
      .option('username', { type: 'string', demandOption: true, describe: 'The new admin username (an email address)' })
      .option('settle', { type: 'string', default: '5m', describe: 'Wait after the store update before the old user is deleted' })
      .option('propagation-timeout', { type: 'string', default: '3m', describe: 'How long every pod may take to mount the new secret' })
      .option('wait', { type: 'boolean', default: true, describe: 'Use --no-wait to stop once the store is updated (both users valid); run finish later' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Run the read-only checks and print the plan; change nothing' })
      .option('allow-managed-secret', {
        type: 'boolean',
        default: false,
        describe: 'Proceed although a controller (Argo CD, Flux, External Secrets, ...) writes the credential Secret: hold it off first, see README',
      })
      .example('$0 change-user rec --username ops@example.com', 'create ops@example.com as admin, move the REC and its secret to it, delete the old user')
      .example('$0 change-user rec --username ops@example.com --no-wait && $0 finish rec', 'switch now, delete the old user later') as never,
  handler: async (argv) => {
    const session = sessionOptions(argv);
    const timing = rotationTiming(argv);
    const password = await passwordChoice(argv);
    const [{ changeUser }, { printAndExit }] = await Promise.all([import('../../operations/change-user.js'), import('../outcome.js')]);
    await printAndExit(
      changeUser({ session, rec: argv.rec, username: argv.username, password, timing, dryRun: argv.dryRun, allowManagedSecret: argv.allowManagedSecret }),
      session.output,
    );
  },
};
