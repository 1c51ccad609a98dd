// The new password's flags, read at once into a typed choice: the supplied password is read (and
// checked) before anything connects, so bad input is refused with nothing sent to any cluster.
import type { Argv } from 'yargs';
import { usageError } from '../errors/exit-codes.js';
import type { PasswordChoice } from '../password/password-source.js';

export interface PasswordFlags {
  passwordStdin?: boolean;
  passwordFile?: string;
  length: number;
}

export function withPasswordFlags<T>(y: Argv<T>) {
  return y
    .option('password-stdin', { type: 'boolean', describe: 'Read the new password from stdin (one line)' })
    .option('password-file', { type: 'string', describe: 'Read the new password from the first line of a file' })
    .option('length', { type: 'number', default: 32, describe: 'Length of the generated password' });
}

export async function passwordChoice(flags: PasswordFlags): Promise<PasswordChoice> {
  // Loaded when a command runs: --help needs neither.
  const [{ suppliedPassword }, { MAX_LENGTH }] = await Promise.all([import('../password/password-source.js'), import('../password/generate.js')]);
  const supplied = await suppliedPassword({ stdin: flags.passwordStdin === true, file: flags.passwordFile });
  if (supplied === undefined && (!Number.isInteger(flags.length) || flags.length < 12 || flags.length > MAX_LENGTH)) {
    throw usageError(`--length must be a whole number from 12 to ${MAX_LENGTH}`);
  }
  return { supplied, fromStdin: flags.passwordStdin === true, length: flags.length };
}
