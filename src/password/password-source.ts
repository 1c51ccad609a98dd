// Where a new password comes from: stdin, a file, or the generator. There is deliberately no flag that
// takes the password itself: argv is visible to every process on the machine and lands in shell history.
import fs from 'node:fs';
import { usageError } from '../cli/exit-codes.js';
import { MAX_LENGTH, generatePassword } from './generate.js';

export interface PasswordFlags {
  passwordStdin?: boolean;
  passwordFile?: string;
  length?: number;
}

export function validateSupplied(password: string, origin: string): string {
  if (password.length === 0) throw usageError(`the password from ${origin} is empty`);
  if (/[\r\n\0]/.test(password)) throw usageError(`the password from ${origin} contains a line break or NUL byte`);
  if (password.length > MAX_LENGTH) throw usageError(`the password from ${origin} is longer than ${MAX_LENGTH} characters`);
  return password;
}

function firstLine(text: string): string {
  return text.replace(/\r?\n$/, '');
}

export async function readStdinLine(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(b);
    size += b.length;
    if (size > 64 * 1024) throw usageError('--password-stdin: more than 64 KiB on stdin; expected one line');
    if (b.includes(10)) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const nl = text.indexOf('\n');
  if (nl >= 0 && text.slice(nl + 1).trim() !== '') throw usageError('--password-stdin: expected one line, got several');
  return firstLine(nl >= 0 ? text.slice(0, nl + 1) : text);
}

export async function newPassword(flags: PasswordFlags, username?: string): Promise<{ password: string; generated: boolean }> {
  if (flags.passwordStdin && flags.passwordFile) throw usageError('--password-stdin and --password-file cannot be used together');
  if (flags.passwordStdin) {
    if (process.stdin.isTTY) throw usageError('--password-stdin reads from a pipe; stdin is a terminal', 'example: vault kv get -field=pw secret/x | kubectl reccred rotate REC --password-stdin');
    return { password: validateSupplied(await readStdinLine(), 'stdin'), generated: false };
  }
  if (flags.passwordFile) {
    let text: string;
    try {
      text = fs.readFileSync(flags.passwordFile, 'utf8');
    } catch (err) {
      throw usageError(`cannot read --password-file ${flags.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    return { password: validateSupplied(firstLine(text), flags.passwordFile), generated: false };
  }
  const length = flags.length ?? 32;
  if (!Number.isInteger(length) || length < 12 || length > MAX_LENGTH) throw usageError(`--length must be a whole number from 12 to ${MAX_LENGTH}`);
  return { password: generatePassword(length, username), generated: true };
}
