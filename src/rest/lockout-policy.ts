// The cluster's login lockout settings, as GET /v1/cluster/policy gives them, and how the plugin words them.
import { z } from 'zod';
import { formatDuration } from '../duration/duration.js';

export interface LockoutPolicy {
  /** login_lockout_threshold: failed logins that lock the account; 0: lockout is off. */
  threshold: number;
  /** login_lockout_duration in seconds; 0: locked until an admin sets a new password. */
  durationSeconds: number;
  /** login_lockout_counter_reset_after: seconds without a failure after which the count starts again. */
  counterResetAfterSeconds: number;
  /** The cluster's own settings could not be read: these are the documented defaults. */
  documentedDefaults: boolean;
}

/** "By default, after 5 failed login attempts within 15 minutes, the user account is locked for 30 minutes" (rs/security/access-control/manage-users/login-lockout.md). */
export const DOCUMENTED_LOCKOUT: LockoutPolicy = { threshold: 5, durationSeconds: 1800, counterResetAfterSeconds: 900, documentedDefaults: true };

// cluster_settings.md types them as integers; rladmin shows a disabled threshold as `disabled` and an
// admin-only release as `admin-release` (login-lockout.md), so either may come back.
const Seconds = (word: string) => z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number), z.literal(word).transform(() => 0)]);
const PolicySchema = z
  .object({
    login_lockout_threshold: Seconds('disabled'),
    login_lockout_duration: Seconds('admin-release'),
    login_lockout_counter_reset_after: Seconds('disabled'),
  })
  .loose();

/** The lockout settings of a cluster settings object; the documented defaults where they are missing or unreadable. */
export function lockoutFromPolicy(body: unknown): LockoutPolicy {
  const p = PolicySchema.safeParse(body);
  if (!p.success) return DOCUMENTED_LOCKOUT;
  return {
    threshold: p.data.login_lockout_threshold,
    durationSeconds: p.data.login_lockout_duration,
    counterResetAfterSeconds: p.data.login_lockout_counter_reset_after,
    documentedDefaults: false,
  };
}

const seconds = (s: number) => formatDuration(s * 1000);

/** What locks an account on this cluster, in a sentence, saying whether the figures are the cluster's or the defaults. */
export function describeLockout(policy: LockoutPolicy | undefined): string {
  const p = policy ?? DOCUMENTED_LOCKOUT;
  const whose = p.documentedDefaults
    ? "by the documented defaults (this cluster's own login_lockout settings could not be read)"
    : "by this cluster's settings (GET /v1/cluster/policy)";
  if (p.threshold === 0) return `lockout is disabled ${whose}: login_lockout_threshold is 0`;
  const lock = p.durationSeconds === 0 ? 'lock the account until an admin resets the password' : `lock the account for ${seconds(p.durationSeconds)}`;
  return `${whose}, ${p.threshold} failed logins, each less than ${seconds(p.counterResetAfterSeconds)} after the previous one, ${lock}`;
}

/** How a locked account comes back, in the cluster's own terms (login-lockout.md). */
export function lockedRecovery(policy: LockoutPolicy | undefined, adminSetsPassword: string): string {
  const p = policy ?? DOCUMENTED_LOCKOUT;
  const defaults = p.documentedDefaults ? ' (the documented default; this cluster may differ)' : '';
  if (p.durationSeconds === 0 && !p.documentedDefaults) return `it stays locked until an admin resets the password (login_lockout_duration is 0): ${adminSetsPassword}`;
  return `wait ${seconds(p.durationSeconds)}${defaults} for the lock to end, or have an admin set a new password: ${adminSetsPassword}`;
}
