// Kubernetes RBAC objects (Role, ClusterRole) as the sim's policy rules, so a test can give a user
// exactly the permissions a manifest grants. A Role's rules hold in its own namespace only.
import type { PolicyRule } from './authz.js';

export interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface RbacRole {
  kind: 'Role' | 'ClusterRole';
  metadata: { name: string; namespace?: string };
  rules?: RbacRule[];
}

export function policyRulesFromRole(role: RbacRole): PolicyRule[] {
  if (role.kind === 'Role' && !role.metadata.namespace) throw new Error(`Role ${role.metadata.name} has no namespace`);
  return (role.rules ?? []).map((r) => ({
    verbs: [...r.verbs],
    resources: [...(r.resources ?? [])],
    // RBAC: an absent apiGroups matches nothing; the sim's "absent" means any group, so spell it out.
    apiGroups: [...(r.apiGroups ?? [])],
    ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}),
    ...(role.kind === 'Role' ? { namespaces: [role.metadata.namespace!] } : {}),
  }));
}

/**
 * A user whose access reviews are still answered from `reviewed` while its requests are authorized by
 * `enforced` (fewer grants): an RBAC change that landed right after a client's preflight asked. With
 * `revoke: 'later'` the difference is revoked only when `revoke()` is called (the API server reads a
 * user's rules at every request), to land the change at a chosen moment of a run.
 */
export function revokedAfterReview(reviewed: PolicyRule[], enforced: PolicyRule[], revoke: 'now' | 'later' = 'now'): { rules: PolicyRule[]; revoke: () => void } {
  const revocable = reviewed.map((r): PolicyRule => ({ ...r, revokedAfterReview: revoke === 'now' }));
  return {
    rules: [...enforced, ...revocable],
    revoke: () => {
      for (const r of revocable) r.revokedAfterReview = true;
    },
  };
}
