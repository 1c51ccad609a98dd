// Confirmation of a destructive command: --yes, or the REC name typed on a terminal.
import readline from 'node:readline';
import { usageError } from '../errors/exit-codes.js';

export async function confirmDestructive(what: string, typed: string, yes: boolean, stdinBusy: boolean): Promise<void> {
  if (yes) return;
  if (stdinBusy || !process.stdin.isTTY) throw usageError(`${what}: this cannot be undone, so it needs a confirmation`, 'pass --yes (-y)');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(`${what}.\nThis cannot be undone. Type the REC name (${typed}) to go on: `, resolve));
    if (answer.trim() !== typed) throw usageError('not confirmed; nothing was changed');
  } finally {
    rl.close();
  }
}
