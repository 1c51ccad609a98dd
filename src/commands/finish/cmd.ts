import type { CommandModule } from 'yargs';
import { parseDuration } from '../../duration/duration.js';
import { sessionOptions, type GlobalFlags } from '../global-flags.js';

interface ResumeFlags extends GlobalFlags {
  rec: string;
  settle?: string;
  propagationTimeout: string;
  force: boolean;
}

export const finishCommand: CommandModule<object, ResumeFlags> = {
  command: 'finish <rec>',
  describe: 'Complete a deferred (--no-wait) or interrupted rotate, change-user or reset',
  builder: (y) =>
    y
      .positional('rec', { type: 'string', demandOption: true, describe: 'Name of the RedisEnterpriseCluster' })
      .option('settle', { type: 'string', describe: 'Settle period (default: the one the rotation was started with)' })
      .option('propagation-timeout', { type: 'string', default: '3m', describe: 'How long every pod may take to mount the secret' })
      .option('force', { type: 'boolean', default: false, describe: 'Take the journal over without watching its lease first (a live holder stops at its next step)' })
      .example('$0 finish rec -n redis', 'resume from the journal and complete the rotation') as never,
  handler: async (argv) => {
    const session = sessionOptions(argv);
    const settleMs = argv.settle === undefined ? undefined : parseDuration(argv.settle, '--settle');
    const propagationTimeoutMs = parseDuration(argv.propagationTimeout, '--propagation-timeout');
    const [{ resumeOperation }, { printAndExit }] = await Promise.all([import('../../operations/resume.js'), import('../outcome.js')]);
    await printAndExit(resumeOperation({ session, rec: argv.rec, direction: 'finish', settleMs, propagationTimeoutMs, force: argv.force }), session.output);
  },
};
