// How the cluster REST API says no, as the procedures need to tell the cases apart.
import { redactor } from '../output/redactor.js';
import type { LockoutPolicy } from './lockout-policy.js';

/** 401: wrong credentials or a locked account. Never retried: every failure counts towards the lockout. */
export class AuthenticationFailedError extends Error {
  constructor(
    readonly username: string,
    /** The cluster's lockout settings where the preflight read them, for the advice. */
    readonly lockout?: LockoutPolicy,
  ) {
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

/**
 * 403: the credentials were accepted but the call is outside the user's role (rest-api/_index.md), or,
 * as some clusters may answer (undocumented), the account is locked or its password expired. Which one
 * only the user's record (read by the admin) tells.
 */
export class ForbiddenError extends RestApiError {}

/** The nodes run versions on both sides of 7.8.2, where /v1/users/password changed shape: an upgrade is in progress. */
export class VersionsStraddleError extends Error {
  constructor(readonly versions: string[]) {
    super(`the cluster's nodes run ${versions.join(', ')}: versions on both sides of 7.8.2, where /v1/users/password changed, so an upgrade is in progress`);
    this.name = 'VersionsStraddleError';
  }
}

/** Whether a reply body is a Redis error object (a JSON object with an error_code), not a proxy's page or an unrouted path's text. */
export function isRedisErrorObject(body: unknown): boolean {
  return !!body && typeof body === 'object' && typeof (body as { error_code?: unknown }).error_code === 'string';
}

export function restErrorFrom(status: number, body: unknown, call: string): RestApiError {
  const b = (body && typeof body === 'object' ? body : {}) as { error_code?: unknown; message?: unknown; description?: unknown };
  const code = typeof b.error_code === 'string' ? b.error_code : undefined;
  const text = typeof b.message === 'string' ? b.message : typeof b.description === 'string' ? b.description : typeof body === 'string' ? body : '';
  const detail = redactor.excerpt(text, 300);
  if (code === 'password_not_complex') return new PasswordRejectedError(status, code, detail, call);
  return status === 403 ? new ForbiddenError(status, code, detail, call) : new RestApiError(status, code, detail, call);
}
