// New passwords from the OS CSPRNG that pass the strictest Redis Enterprise complexity profile:
// upper, lower, digit and special characters, no character more than 3 times in a row, not containing
// the email or its reverse.
import { randomInt } from 'node:crypto';

const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const DIGIT = '23456789';
// No quotes, backslash, $ or whitespace: the password stays easy to paste into any shell or YAML.
const SPECIAL = '!#%+,-.:=?@^_~';
const ALL = UPPER + LOWER + DIGIT + SPECIAL;

export const MIN_LENGTH = 8;
export const MAX_LENGTH = 256;

export function complexityProblem(password: string, email?: string): string | undefined {
  if (password.length < MIN_LENGTH) return `it is shorter than ${MIN_LENGTH} characters`;
  if (!/[A-Z]/.test(password)) return 'it has no upper-case letter';
  if (!/[a-z]/.test(password)) return 'it has no lower-case letter';
  if (!/[0-9]/.test(password)) return 'it has no digit';
  if (!/[^A-Za-z0-9]/.test(password)) return 'it has no special character';
  if (/(.)\1\1\1/s.test(password)) return 'it repeats a character more than 3 times in a row';
  if (email) {
    const lower = password.toLowerCase();
    if (lower.includes(email.toLowerCase()) || lower.includes(Array.from(email.toLowerCase()).reverse().join(''))) {
      return 'it contains the username or its reverse';
    }
  }
  return undefined;
}

export function generatePassword(length: number, email?: string): string {
  for (;;) {
    const chars = Array.from({ length }, () => ALL.charAt(randomInt(ALL.length)));
    const candidate = chars.join('');
    if (!complexityProblem(candidate, email)) return candidate;
  }
}
