// The clusters that hold this REC's admin credentials for Active-Active: every participating cluster keeps
// one RedisEnterpriseRemoteCluster (RERC) per participating REC, with a Secret `redis-enterprise-<RERC>`
// holding that REC's admin username and password (content/operate/kubernetes/active-active/edit-rerc.md,
// prepare-clusters.md). The REC's own cluster has the "local" one.
import { ReccredError, refused, resumable } from '../errors/exit-codes.js';
import { KubeApi, KubeApiError } from '../kube/api-client.js';
import { listReaadbs, listRercs, rercSecretName, type Listed, type Reaadb, type Rerc } from '../kube/active-active-resources.js';
import { Cluster } from '../kube/cluster.js';
import { resolveKubeconfig } from '../kube/kubeconfig.js';
import type { CredentialStore } from '../store/credential-store.js';
import { SecretStore } from '../store/secret-store.js';
import { operatorVaultStore } from '../store/vault-store.js';
import type { Session } from './session.js';

/** What one cluster knows of this REC: the RERCs pointing at it and the REAADBs using them. */
export interface Participation {
  rercs: Rerc[];
  reaadbs: Reaadb[];
  /** The RERC that stands for the cluster's own REC there (status.local), if any: which participant the cluster is. */
  localRerc?: string;
  /** That RERC's REC (spec.recName, spec.recNamespace): the cluster's own REC, whose secret store its RERC secrets share. */
  localRec?: { name: string; namespace: string };
  /** Whether REAADBs were listed in every namespace (they may sit in consumer namespaces, multi-namespace.md). */
  reaadbsEverywhere: boolean;
}

/** How messages name a participating cluster: its context, or the run's own cluster ('' context). */
export const clusterNamed = (context: string): string => (context ? `context ${context}` : "the REC's own cluster");

/** One cluster's copy of the REC's credentials: its RERC, the RERC's Secret, and the REAADBs that use it. */
export interface Participant {
  /** The kubeconfig context; '' for the REC's own cluster (the run's own connection). */
  context: string;
  /** The RERC's namespace. */
  cluster: Cluster;
  rerc: string;
  /** The RERC's secret: a Kubernetes Secret, or a Vault entry where the cluster's REC keeps its secrets in Vault. */
  secret: string;
  store: CredentialStore;
  /** Set for a Vault-backed cluster: the namespace whose operator ConfigMap names the Vault path. */
  vaultNamespace?: string;
  reaadbs: string[];
}

/** The RERCs of a cluster that point at the REC, and the REAADBs using them; empty when the cluster serves no Active-Active resources. */
export async function participationIn(cluster: Cluster, rec: { name: string; namespace: string }): Promise<Participation> {
  let listed: [Listed<Rerc>, Listed<Reaadb>];
  try {
    // Both, always: the Role that allows one allows the other, and a refusal shows in the preflight, not later.
    listed = await Promise.all([listRercs(cluster), listReaadbs(cluster)]);
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 403) {
      throw refused(
        `cannot tell whether REC ${rec.name} takes part in Active-Active: listing redisenterpriseremoteclusters or redisenterpriseactiveactivedatabases is forbidden in namespace ${cluster.namespace}; nothing was changed`,
        'grant "list" on redisenterpriseremoteclusters and redisenterpriseactiveactivedatabases (app.redislabs.com) in that namespace (deploy/cronjob/rbac.yaml has the rule)',
      );
    }
    throw err;
  }
  const rercs = (listed[0].items ?? []).filter((r) => r.spec.recName === rec.name && r.spec.recNamespace === rec.namespace);
  const names = new Set(rercs.map((r) => r.metadata.name));
  const reaadbs = (listed[1].items ?? []).filter((d) => (d.spec.participatingClusters ?? []).some((p) => names.has(p.name)));
  const local = (listed[0].items ?? []).find((r) => r.status?.local === true);
  return {
    rercs,
    reaadbs,
    reaadbsEverywhere: listed[1].everywhere,
    ...(local ? { localRerc: local.metadata.name, localRec: { name: local.spec.recName, namespace: local.spec.recNamespace } } : {}),
  };
}

/** Where a cluster's RERC secrets are: with its REC's secrets (vault.md, "Redis Enterprise Remote Cluster secrets"). */
async function rercStore(session: Session, api: KubeApi, namespace: string, secret: string, vaultNamespace: string | undefined, where: string): Promise<CredentialStore> {
  if (vaultNamespace === undefined) return new SecretStore(new Cluster(api, namespace), secret);
  return operatorVaultStore(new Cluster(api, vaultNamespace), session.options.vault, session.timeoutMs, secret, `${where}: `);
}

/** The namespace of a context's own REC when that REC keeps its secrets in Vault; undefined when in Kubernetes. */
async function vaultNamespaceOf(api: KubeApi, context: string, there: Participation): Promise<string | undefined> {
  const rec = there.localRec;
  if (!rec) {
    throw refused(
      `context ${context} has no local RedisEnterpriseRemoteCluster (status.local), so where its RERC secrets are kept (Kubernetes or Vault) cannot be told; nothing was changed`,
      'check that the context is a participating cluster and its RERCs are Active (kubectl get rerc -A there)',
    );
  }
  let found;
  try {
    found = await new Cluster(api, rec.namespace).getRec(rec.name);
  } catch (err) {
    if (err instanceof KubeApiError && (err.status === 403 || err.status === 404)) {
      throw refused(
        `context ${context}: REC ${rec.namespace}/${rec.name} (of its local RERC ${there.localRerc ?? ''}) cannot be read (${err.status}), so where its RERC secrets are kept (Kubernetes or Vault) cannot be told; nothing was changed`,
        `grant "get redisenterpriseclusters" in namespace ${rec.namespace} there`,
      );
    }
    throw err;
  }
  return found.spec.clusterCredentialSecretType === 'vault' ? rec.namespace : undefined;
}

/** A participant of the run's own cluster or of another context, from the RERC found there. */
async function participantOf(
  session: Session,
  context: string,
  api: KubeApi,
  participation: Participation,
  rec: { name: string; namespace: string },
  vaultNamespace: string | undefined,
): Promise<Participant> {
  const [rerc, ...more] = participation.rercs;
  const where = clusterNamed(context);
  if (!rerc) {
    throw refused(
      `${where} has no RedisEnterpriseRemoteCluster pointing at REC ${rec.namespace}/${rec.name} (spec.recName, spec.recNamespace); nothing was changed`,
      "check the --participant-context values: each must be a cluster that takes part in the REC's Active-Active databases",
    );
  }
  if (more.length) {
    throw refused(
      `${where} has ${participation.rercs.length} RedisEnterpriseRemoteClusters pointing at REC ${rec.namespace}/${rec.name} (${participation.rercs.map((r) => r.metadata.name).join(', ')}); which one the databases use is ambiguous; nothing was changed`,
    );
  }
  const namespace = rerc.metadata.namespace ?? '';
  const secret = rercSecretName(rerc);
  return {
    context,
    cluster: new Cluster(api, namespace),
    rerc: rerc.metadata.name,
    secret,
    store: await rercStore(session, api, namespace, secret, vaultNamespace, where),
    ...(vaultNamespace !== undefined ? { vaultNamespace } : {}),
    reaadbs: participation.reaadbs.map((d) => d.metadata.name),
  };
}

/** The connection to another participating cluster, and its namespace: its kubeconfig context, resolved as kubectl resolves `--context`. */
export async function connectContext(session: Session, context: string): Promise<{ api: KubeApi; namespace: string }> {
  const resolved = resolveKubeconfig({ kubeconfig: session.options.connection.kubeconfig, context });
  session.trace(1, `participant context ${context}: cluster ${resolved.cluster.name}, user ${resolved.user.name}`);
  return { api: await KubeApi.connect(resolved, session.options.requestTimeoutMs, (l) => session.trace(2, l)), namespace: resolved.namespace };
}

/**
 * Every cluster holding this REC's credentials, the REC's own first: in the order their Secrets are
 * updated (edit-rerc.md: "On the local cluster, update the secret ... Repeat the above steps on all other
 * participating clusters").
 */
export async function openParticipants(
  session: Session,
  rec: { name: string; namespace: string; storeType: 'kubernetes' | 'vault' },
  own: Participation,
  contexts: string[],
): Promise<Participant[]> {
  const participants = [await participantOf(session, '', session.api, own, rec, rec.storeType === 'vault' ? rec.namespace : undefined)];
  const covered = new Map<string, string>();
  for (const context of contexts) {
    const { api, namespace } = await connectContext(session, context);
    const there = await participationIn(new Cluster(api, namespace), rec);
    participants.push(await participantOf(session, context, api, there, rec, await vaultNamespaceOf(api, context, there)));
    if (there.localRerc !== undefined) {
      const seen = covered.get(there.localRerc);
      if (seen !== undefined) throw refused(`contexts ${seen} and ${context} are the same participating cluster (RERC ${there.localRerc} is local in both); nothing was changed`);
      covered.set(there.localRerc, context);
    }
  }
  // Which clusters take part is read from the REAADBs: when none is found, or they could be listed in one namespace
  // only, a cluster left out would go unnoticed (and its RERC would lock the account out after the removal).
  if (!own.reaadbs.length || !own.reaadbsEverywhere) {
    throw refused(
      `cannot tell which clusters take part in the Active-Active databases of REC ${rec.name}: ${own.reaadbs.length ? `REAADBs could be listed only in namespace ${rec.namespace}` : 'no REAADB uses its RERC'}; nothing was changed`,
      'grant "list redisenterpriseactiveactivedatabases" in every namespace (a ClusterRole) to whoever runs this, or update the RERC Secrets by hand (content/operate/kubernetes/active-active/edit-rerc.md)',
    );
  }
  // Every other participant of the REC's databases must be given: its RERC Secret holds this REC's password too.
  const ownRercs = new Set(own.rercs.map((r) => r.metadata.name));
  const expected = new Set(own.reaadbs.flatMap((d) => (d.spec.participatingClusters ?? []).map((p) => p.name)).filter((n) => !ownRercs.has(n)));
  const missing = [...expected].filter((n) => !covered.has(n));
  if (missing.length) {
    throw refused(
      `the Active-Active databases of REC ${rec.name} (${own.reaadbs.map((d) => d.metadata.name).join(', ')}) also take part on the clusters of RERC ${missing.join(', ')}, which no --participant-context names; their RERC Secrets hold this REC's password too; nothing was changed`,
      'add --participant-context for each of them (the kubeconfig context of the cluster whose local RERC that is)',
    );
  }
  return participants;
}

interface RecordedParticipant {
  context: string;
  namespace: string;
  rerc: string;
  secret: string;
  vaultNamespace?: string | undefined;
  reaadbs: string[];
}

/** The participants a journal names, connected again (finish, abort). */
export async function reopenParticipants(session: Session, recorded: RecordedParticipant[]): Promise<Participant[]> {
  const out: Participant[] = [];
  for (const p of recorded) {
    const where = clusterNamed(p.context);
    try {
      const api = p.context ? (await connectContext(session, p.context)).api : session.api;
      out.push({
        context: p.context,
        cluster: new Cluster(api, p.namespace),
        rerc: p.rerc,
        secret: p.secret,
        store: await rercStore(session, api, p.namespace, p.secret, p.vaultNamespace, where),
        ...(p.vaultNamespace !== undefined ? { vaultNamespace: p.vaultNamespace } : {}),
        reaadbs: p.reaadbs,
      });
    } catch (err) {
      if (!p.context) throw err;
      // With a journal left, a context that cannot be used (gone from the kubeconfig: a usage error elsewhere) is a
      // resumable state, and the message must say which of the clusters it is.
      const why = err instanceof Error ? err.message : String(err);
      throw resumable(
        `${where}, which the journal names (RERC ${p.rerc}, Secret ${p.namespace}/${p.secret}), cannot be used: ${why}`,
        `${err instanceof ReccredError && err.hint ? `${err.hint}; ` : ''}the run must reach that cluster: make context ${p.context} usable (--kubeconfig or KUBECONFIG), then run finish or abort again`,
      );
    }
  }
  return out;
}
