// `get` once its flags are read, by yargs (cmd.ts) or without it (direct.ts).
import { sessionOptions, type GlobalFlags } from '../global-flags.js';
import { get } from '../../operations/get.js';
import { printAndExit } from '../outcome.js';

export interface GetFlags extends GlobalFlags {
  rec: string;
  reveal: boolean;
}

export async function runGet(flags: GetFlags): Promise<void> {
  const session = sessionOptions(flags);
  await printAndExit(get({ session, rec: flags.rec, reveal: flags.reveal }), session.output);
}
