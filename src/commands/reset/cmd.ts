import type { CommandModule } from 'yargs';
import { parseDuration } from '../../duration/duration.js';
import { sessionOptions, type GlobalFlags } from '../global-flags.js';
import { passwordChoice, type PasswordFlags } from '../password-flags.js';

type ResetFlags = GlobalFlags &
  PasswordFlags & {
    rec: string;
    propagationTimeout: string;
    allowManagedSecret: boolean;
  };

export const resetCommand: CommandModule<object, ResetFlags> = {
  command: 'reset <rec>',
  describe: 'Emergency: replace ALL admin passwords with one new password (PUT)',
  builder: (y) =>
    y
      .positional('rec', { type: 'string', demandOption: true, describe: 'Name of the RedisEnterpriseCluster' })
      .option('password-stdin', { type: 'boolean', describe: 'Read the new password from stdin (one line); needs --yes' })
      .option('password-file', { type: 'string', describe: 'Read the new password from the first line of a file' })
      .option('length', { type: 'number', default: 32, describe: 'Length of the generated password' })
      .option('propagation-timeout', { type: 'string', default: '3m', describe: 'How long every pod may take to mount the new secret' })
      .option('allow-managed-secret', {
        type: 'boolean',
        default: false,
        describe: 'Proceed although a controller (Argo CD, Flux, External Secrets, ...) writes the credential Secret: hold it off first, see README',
      })
      .epilogue(
        'Use it when a password may be compromised. Every other password of the admin user stops working at once: the\n' +
          'operator and the pods authenticate with the old one until they reload the secret (kubelet: 60-90 s), and those\n' +
          'failures count towards the lockout. For a planned change use rotate, which has no such window.',
      )
      .example('$0 reset rec --yes', 'replace every admin password with a generated one, update the secret') as never,
  handler: async (argv) => {
    const session = sessionOptions(argv);
    const propagationTimeoutMs = parseDuration(argv.propagationTimeout, '--propagation-timeout');
    const password = await passwordChoice(argv);
    const [{ reset }, { printAndExit }] = await Promise.all([import('../../operations/reset.js'), import('../outcome.js')]);
    await printAndExit(reset({ session, rec: argv.rec, password, propagationTimeoutMs, yes: argv.yes, allowManagedSecret: argv.allowManagedSecret }), session.output);
  },
};
