// Turns any error into what the user reads: a scrubbed message, what to do, and the exit code.
import { JournalHeldError, LeaseHeldError, LeaseLostError } from '../journal/journal.js';
import { KubeApiError } from '../kube/api-client.js';
import { VaultError } from '../vault/vault-client.js';
import { redactor } from '../output/redactor.js';
import { ExecOutcomeUnknownError, ExecRefusedError } from '../pod/exec-session.js';
import { PodCommandError, RestTransportError } from '../pod/pod-transport.js';
import { AuthenticationFailedError, ForbiddenError, PasswordRejectedError, RestApiError, VersionsStraddleError } from '../rest/rest-errors.js';
import { describeLockout, type LockoutPolicy } from '../rest/lockout-policy.js';
import { InterruptedError } from './waits.js';
import { StoreConflictError, StoreMissingError } from '../store/credential-store.js';
import { ExitCode, ReccredError } from '../errors/exit-codes.js';

/** The lockout in the cluster's own figures where the preflight read them, else the documented defaults, said to be so. */
export function lockoutAdvice(policy: LockoutPolicy | undefined): string {
  return `the plugin never retries a refused login: ${describeLockout(policy)}. Check the account in the admin console (Access control > Users) before trying again`;
}

/**
 * Ctrl-C (or SIGTERM) that stopped a run before its journal existed: nothing was changed, so it is a
 * plain failure (exit 1), not a resumable state (3) with nothing to finish or abort.
 */
export function interruptedBeforeChange(what: string): ReccredError {
  return new ReccredError(`interrupted before anything changed: ${what} is as it was, and no journal was written`, ExitCode.Failed);
}

export function explainError(err: unknown): ReccredError {
  const e = classify(err);
  return new ReccredError(redactor.scrub(e.message), e.exitCode, e.hint && redactor.scrub(e.hint));
}

function classify(err: unknown): ReccredError {
  if (err instanceof ReccredError) return err;
  if (err instanceof KubeApiError) {
    if (err.status === 0) return new ReccredError(`cannot reach the Kubernetes API: ${err.apiMessage}`, ExitCode.Failed, 'check the kubeconfig context and your network');
    if (err.status === 401)
      return new ReccredError('the Kubernetes API refused your credentials (401 Unauthorized)', ExitCode.Failed, 'log in again (kubeconfig token or exec plugin)');
    if (err.status === 403) return new ReccredError(`forbidden: ${err.apiMessage}`, ExitCode.Refused, 'ask your cluster admin for the verbs listed in the README (RBAC)');
    if (err.status === 404) return new ReccredError(`not found: ${err.apiMessage}`, ExitCode.Usage);
    if (err.status === 429 || err.status >= 500)
      return new ReccredError(
        `the Kubernetes API failed: ${err.status} ${err.reason}: ${err.apiMessage}`,
        ExitCode.Failed,
        'the API server is overloaded or unhealthy; try again later',
      );
    return new ReccredError(`the Kubernetes API answered ${err.status} ${err.reason}: ${err.apiMessage}`, ExitCode.Failed);
  }
  if (err instanceof ExecRefusedError) {
    if (err.httpStatus === 403) return new ReccredError(`exec into pod ${err.pod} is forbidden`, ExitCode.Refused, 'you need "create" and "get" on pods/exec in the REC namespace');
    return new ReccredError(`exec into pod ${err.pod} failed: ${err.message}`, ExitCode.Failed);
  }
  if (err instanceof ExecOutcomeUnknownError) return new ReccredError(err.message, ExitCode.Resumable);
  if (err instanceof AuthenticationFailedError) return new ReccredError(`${err.message}; ${lockoutAdvice(err.lockout)}`, ExitCode.Failed);
  if (err instanceof VersionsStraddleError) {
    return new ReccredError(`${err.message}; nothing more was sent`, ExitCode.Refused, 'wait until every node runs the same version, then run the command again');
  }
  if (err instanceof PasswordRejectedError) {
    return new ReccredError(
      `the cluster refused the new password: ${err.detail || 'it does not meet the password complexity profile'}`,
      ExitCode.Usage,
      'the profile asks for 8+ characters with upper, lower, digit and special, no character 4 times in a row, not containing the username; omit --password-* to have one generated',
    );
  }
  if (err instanceof ForbiddenError) {
    return new ReccredError(
      `${err.message}: the credentials were accepted, but the call is outside the user's role, or the account is locked or its password expired (what such an account gets is not documented); nothing was retried`,
      ExitCode.Failed,
      "check the user's role and status in the admin console (Access control > Users)",
    );
  }
  if (err instanceof RestApiError) return new ReccredError(err.message, ExitCode.Failed);
  if (err instanceof RestTransportError) {
    return new ReccredError(err.message, ExitCode.Failed, err.curlExit === 7 ? 'the REST API on port 9443 is not listening in that pod: is the cluster healthy?' : undefined);
  }
  if (err instanceof PodCommandError) return new ReccredError(err.message, ExitCode.Failed);
  if (err instanceof LeaseHeldError)
    return new ReccredError(err.message, ExitCode.Refused, 'wait for that run to end; if it was stopped, its lease expires and finish or abort can then take over');
  if (err instanceof JournalHeldError) return new ReccredError(err.message, ExitCode.Refused, 'see it with: kubectl reccred status REC; then finish or abort it');
  if (err instanceof LeaseLostError) return new ReccredError(err.message, ExitCode.Resumable);
  // Reached only once a journal exists: the commands turn an interruption before it into interruptedBeforeChange.
  if (err instanceof InterruptedError) return new ReccredError('interrupted', ExitCode.Resumable);
  if (err instanceof StoreConflictError) return new ReccredError(err.message, ExitCode.Resumable);
  if (err instanceof VaultError) {
    if (err.status === 0) return new ReccredError(err.message, ExitCode.Failed, 'check VAULT_ADDR (or --vault-addr) and VAULT_CACERT');
    if (err.sealed) return new ReccredError(`${err.message}: Vault is sealed`, ExitCode.Failed, 'unseal Vault, then run the command again');
    if (err.status === 403) {
      return new ReccredError(
        `${err.message}: the token is invalid, expired, or lacks a policy for this path`,
        ExitCode.Refused,
        'log in again (vault login) or use a token whose policy allows read and write on this path',
      );
    }
    return new ReccredError(err.message, ExitCode.Failed);
  }
  if (err instanceof StoreMissingError) return new ReccredError(err.message, ExitCode.Failed);
  const message = err instanceof Error ? err.message : String(err);
  return new ReccredError(`unexpected error: ${message}`, ExitCode.Failed);
}
