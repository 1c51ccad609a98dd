// Where a new password comes from: stdin, a file, or the generator. There is deliberately no flag that
// takes the password itself: argv is visible to every process on the machine and lands in shell history.
import fs from 'node:fs';
import { usageError } from '../errors/exit-codes.js';
import { redactor } from '../output/redactor.js';
import { MAX_LENGTH, generatePassword } from './generate.js';

// fatal: input that is not UTF-8 is refused, never set with U+FFFD in its place; ignoreBOM keeps a
// leading U+FEFF as part of the text, as it was given.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeInput(bytes: Buffer, origin: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw usageError(
      `${origin}: the input is not valid UTF-8 text; nothing was changed`,
      'the REST API takes passwords as UTF-8 text: give the password as UTF-8, or omit --password-stdin/--password-file to have one generated',
    );
  }
}

/** Where a password given by the user is read from (--password-stdin, --password-file, or their --current-* twins). */
export interface PasswordInput {
  stdin: boolean;
  file?: string;
}

/** The new password: the one supplied, else one generated with this many characters. */
export interface PasswordChoice {
  supplied?: string;
  /** It came on stdin, which is then no longer free for a confirmation prompt. */
  fromStdin?: boolean;
  length: number;
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

export async function readStdinLine(stream: NodeJS.ReadableStream = process.stdin, flag = '--password-stdin'): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    chunks.push(b);
    size += b.length;
    if (size > 64 * 1024) throw usageError(`${flag}: more than 64 KiB on stdin; expected one line`);
    if (b.includes(10)) break;
  }
  const text = decodeInput(Buffer.concat(chunks), flag);
  const nl = text.indexOf('\n');
  if (nl >= 0 && text.slice(nl + 1).trim() !== '') throw usageError(`${flag}: expected one line, got several`);
  return firstLine(nl >= 0 ? text.slice(0, nl + 1) : text);
}

/**
 * The password given on stdin or in a file, read and checked at once: a command reads it before its
 * first login, so bad input (not UTF-8, several lines) is refused with nothing sent to the cluster.
 */
export async function suppliedPassword(input: PasswordInput, names = { stdin: '--password-stdin', file: '--password-file' }): Promise<string | undefined> {
  if (input.stdin && input.file) throw usageError(`${names.stdin} and ${names.file} cannot be used together`);
  if (input.stdin) {
    if (process.stdin.isTTY)
      throw usageError(`${names.stdin} reads from a pipe; stdin is a terminal`, 'example: vault kv get -field=pw secret/x | kubectl reccred rotate REC --password-stdin');
    // Registered the moment it is known to be a password: nothing after this can print it.
    const password = validateSupplied(await readStdinLine(process.stdin, names.stdin), 'stdin');
    redactor.add(password);
    return password;
  }
  if (input.file) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(input.file);
    } catch (err) {
      throw usageError(`cannot read ${names.file} ${input.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const password = validateSupplied(firstLine(decodeInput(bytes, `${names.file} ${input.file}`)), input.file);
    redactor.add(password);
    return password;
  }
  return undefined;
}

/** The new password: the supplied one (read earlier by suppliedPassword), else one generated for this username. */
export function newPassword(choice: PasswordChoice, username?: string): { password: string; generated: boolean } {
  if (choice.supplied !== undefined) return { password: choice.supplied, generated: false };
  const { length } = choice;
  if (!Number.isInteger(length) || length < 12 || length > MAX_LENGTH) throw usageError(`--length must be a whole number from 12 to ${MAX_LENGTH}`);
  const password = generatePassword(length, username);
  redactor.add(password);
  return { password, generated: true };
}
