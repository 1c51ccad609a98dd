// Finding a REC: the resource, and where its credentials are kept (the credential Secret, or Vault's
// secret of that name). All a read of the credentials needs; rec-target.ts adds what a procedure works with.
import { z } from 'zod';
import { KubeApiError } from '../kube/api-client.js';
import type { Rec } from '../kube/resources.js';
import { refused, usageError } from '../errors/exit-codes.js';
import type { Session } from './session.js';
import type { CredentialStore } from '../store/credential-store.js';
import { SecretStore } from '../store/secret-store.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function validateRecName(name: string): void {
  if (!DNS_LABEL.test(name)) throw usageError(`"${name.slice(0, 80)}" is not a valid REC name (lower-case letters, digits and "-", at most 63)`);
}

/** The REC and where its credentials are kept: all a read of them needs. */
export interface FoundRec {
  name: string;
  rec: Rec;
  /** The credential Secret (or Vault secret name) the cluster uses: see credentialSecretName. */
  secretName: string;
  storeType: 'kubernetes' | 'vault';
  store: CredentialStore;
}

/** The REC `name` in the session's namespace and its credential store; a usage error names the RECs there when it is not found. */
export async function findRec(session: Session, name: string): Promise<FoundRec> {
  validateRecName(name);
  if (!DNS_LABEL.test(session.namespace)) throw usageError(`"${session.namespace.slice(0, 80)}" is not a valid namespace name`);
  let rec: Rec;
  try {
    rec = await session.cluster.getRec(name);
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) {
      if (!(await session.cluster.namespaceExists())) throw usageError(`namespace "${session.namespace}" does not exist`, 'check the name, or pass -n NAMESPACE');
      const others = await session.cluster.listRecs().catch(() => []);
      throw usageError(
        `RedisEnterpriseCluster "${name}" not found in namespace "${session.namespace}"`,
        others.length ? `RECs in this namespace: ${others.map((r) => r.metadata.name).join(', ')}` : 'list them with: kubectl get rec -A',
      );
    }
    throw err;
  }
  const secretName = credentialSecretName(rec, name, session.namespace);
  const storeType = rec.spec.clusterCredentialSecretType ?? 'kubernetes';
  const store =
    storeType === 'vault'
      ? // Loaded only for a Vault-backed REC.
        await (await import('../store/vault-store.js')).operatorVaultStore(session.cluster, session.options.vault, session.timeoutMs, secretName)
      : new SecretStore(session.cluster, secretName);
  return { name, rec, secretName, storeType, store };
}

const CredentialStatus = z.object({ clusterCredentialSecretName: z.string().optional() }).loose();

/**
 * The Secret the cluster uses. Since operator 8.0.18-11 spec.clusterCredentialSecretName "can be changed to point to
 * a different existing secret" on a running cluster, and status.clusterCredentialSecretName names the one "currently
 * in use by the cluster" (RedisLabs/redis-enterprise-k8s-docs crds/rec_crd.yaml from v8.0.18-11). No other sign of a
 * switch under way is documented: while the two differ, which Secret the operator and the pods read is unknown, so
 * every command refuses. Earlier operators either have no status field (the spec names it) or keep the name set at
 * creation there and never switch (crds/rec_crd.yaml v8.0.10-21 to v8.0.16-25).
 */
function credentialSecretName(rec: Rec, name: string, namespace: string): string {
  // `||`, not `??`: an empty clusterCredentialSecretName means the default, the REC's name (as for the operator).
  // eslint-disable-next-line @typescript-eslint/prefer-nullish-coalescing
  const wanted = rec.spec.clusterCredentialSecretName || name;
  const inUse = CredentialStatus.safeParse(rec.status ?? {}).data?.clusterCredentialSecretName;
  if (!inUse) return wanted;
  if (inUse !== wanted) {
    throw refused(
      `the credential Secret of REC ${name} is being switched: spec.clusterCredentialSecretName names "${wanted}", but the cluster still uses "${inUse}" (status.clusterCredentialSecretName); nothing was changed`,
      `wait until "kubectl get rec ${name} -n ${namespace} -o jsonpath={.status.clusterCredentialSecretName}" shows ${wanted}, then run this again. Operators before 8.0.18-11 never switch: there, set spec.clusterCredentialSecretName back to ${inUse}`,
    );
  }
  return inUse;
}
