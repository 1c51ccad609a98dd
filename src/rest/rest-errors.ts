// How the cluster REST API says no, as the procedures need to tell the cases apart.
import { redactor } from '../output/redactor.js';

/** 401: wrong credentials or a locked account. Never retried: every failure counts towards the lockout. */
export class AuthenticationFailedError extends Error {
  constructor(readonly username: string) {
    super(`the cluster REST API refused the credentials of ${username} (401)`);
    this.name = 'AuthenticationFailedError';
  }
}

export class RestApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string | undefined,
    readonly detail: string,
    readonly call: string,
  ) {
    super(`${call}: the cluster REST API answered ${status}${errorCode ? ` ${errorCode}` : ''}${detail ? `: ${detail}` : ''}`);
    this.name = 'RestApiError';
  }
}

/** The REST API's complexity profile refused the new password; nothing was changed by that call. */
export class PasswordRejectedError extends RestApiError {}

export function restErrorFrom(status: number, body: unknown, call: string): RestApiError {
  const b = (body && typeof body === 'object' ? body : {}) as { error_code?: unknown; message?: unknown; description?: unknown };
  const code = typeof b.error_code === 'string' ? b.error_code : undefined;
  const text = typeof b.message === 'string' ? b.message : typeof b.description === 'string' ? b.description : typeof body === 'string' ? body : '';
  const detail = redactor.excerpt(text, 300);
  return code === 'password_not_complex' ? new PasswordRejectedError(status, code, detail, call) : new RestApiError(status, code, detail, call);
}
