// Other writers of the credential Secret (issue 12, SPEC 3.3): GitOps and secret-sync controllers put
// their own value back into a Secret they own or apply, on a period or as soon as it drifts, and the
// operator then reads that value. They are known from what the API server records about the Secret:
// ownerReferences, managedFields (who set its data), and the labels and annotations Argo CD, Flux,
// Helm and External Secrets put on what they manage.
import { refused } from '../errors/exit-codes.js';
import type { ManagedFieldsEntry, Secret } from '../kube/resources.js';
import type { Progress } from '../output/progress.js';
import type { RecTarget } from '../rec/rec-target.js';

export interface SecretWriter {
  /** e.g. "External Secrets Operator". */
  controller: string;
  /** What shows it, e.g. "ownerReference ExternalSecret rec-credentials". */
  evidence: string[];
  /** Where its value comes from and how to hold it off: how to rotate in that setup. */
  advice: string;
}

interface Family {
  controller: string;
  advice: (name?: string, namespace?: string) => string;
}

const ESO: Family = {
  controller: 'External Secrets Operator',
  advice: () => 'its source of truth is the provider the ExternalSecret reads (remoteRef): change the password there; hold the sync off while rotating (e.g. refreshInterval: 0)',
};
const ARGO: Family = {
  controller: 'Argo CD',
  advice: () =>
    "its source of truth is the Secret's manifest in Git (or what renders it: SOPS, a Helm value): change it there; turn off automated sync and self-heal of its Application while rotating",
};
const FLUX_KS: Family = {
  controller: 'Flux (Kustomization)',
  advice: (name = 'NAME', ns = 'NAMESPACE') =>
    `its source of truth is the manifest in Git: change it there; hold it off while rotating: flux suspend kustomization ${name} -n ${ns} (flux resume ... afterwards)`,
};
const FLUX_HR: Family = {
  controller: 'Flux (HelmRelease)',
  advice: (name = 'NAME', ns = 'NAMESPACE') =>
    `its source of truth is the HelmRelease's values: change them; hold it off while rotating: flux suspend helmrelease ${name} -n ${ns} (flux resume ... afterwards)`,
};
const HELM: Family = {
  controller: 'Helm',
  advice: (name = 'RELEASE') => `its source of truth is the values of release ${name}: change them, or the next helm upgrade puts the old password back`,
};
const SEALED: Family = {
  controller: 'Sealed Secrets',
  advice: () => 'its source of truth is the SealedSecret: seal the new credentials with kubeseal and apply it (the controller rewrites this Secret from it)',
};
const VSO: Family = {
  controller: 'Vault Secrets Operator',
  advice: () => 'its source of truth is the Vault path the VaultStaticSecret syncs: write the new password there',
};
const other = (who: string): Family => ({ controller: who, advice: () => 'change the password where it takes it from, or pause it while rotating' });

/**
 * Writers of the data that are not a controller with a source of its own: this plugin, people with
 * kubectl (kubectl-create, kubectl-edit, kubectl-patch, kubectl-client-side-apply, kubectl), the Redis
 * operator that creates the Secret (its container runs `operator-root operator`, and client-go's
 * default User-Agent starts with the binary's name: RedisLabs/redis-enterprise-k8s-docs
 * helm/redis-enterprise-operator/templates/operator.yaml), and server-side apply's placeholder for
 * fields set before the first apply.
 */
export function isBenignManager(manager: string): boolean {
  return manager.startsWith('kubectl') || manager === 'redis-enterprise-operator' || manager === 'operator-root' || manager === 'before-first-apply';
}

function familyOfManager(manager: string): Family {
  if (manager.startsWith('argocd')) return ARGO; // argocd-controller (server-side apply), argocd-application-controller
  if (manager === 'kustomize-controller') return FLUX_KS;
  if (manager === 'helm-controller') return FLUX_HR;
  if (manager.startsWith('external-secrets')) return ESO;
  if (manager.toLowerCase() === 'helm') return HELM;
  if (manager.includes('sealed-secrets')) return SEALED;
  if (manager.includes('vault-secrets-operator')) return VSO;
  return other(`a controller writing as "${manager}"`);
}

function familyOfOwner(apiVersion: string, kind: string): Family | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  if (group === 'app.redislabs.com') return undefined; // the REC: the operator's own Secret
  if (group === 'external-secrets.io' || kind === 'ExternalSecret' || kind === 'ClusterExternalSecret') return ESO;
  if (group === 'bitnami.com' || kind === 'SealedSecret') return SEALED;
  if (group === 'secrets.hashicorp.com' || /^Vault\w*Secret$/.test(kind)) return VSO;
  return other(`the controller of ${kind}`);
}

const has = (fields: unknown, path: string[]): boolean => {
  let node = fields;
  for (const k of path) {
    if (!node || typeof node !== 'object' || !(k in node)) return false;
    node = (node as Record<string, unknown>)[k];
  }
  return true;
};
const setsData = (e: ManagedFieldsEntry) => has(e.fieldsV1, ['f:data']) || has(e.fieldsV1, ['f:stringData']);

/** Every controller the Secret's metadata shows writing it, grouped by controller; and weaker hints, as notes. */
export function secretWriters(secret: Secret): { writers: SecretWriter[]; notes: string[] } {
  const md = secret.metadata;
  const labels = md.labels ?? {};
  const annotations = md.annotations ?? {};
  const found = new Map<string, { family: Family; evidence: string[]; name?: string; namespace?: string }>();
  const add = (family: Family, evidence: string, name?: string, namespace?: string) => {
    const f = found.get(family.controller) ?? { family, evidence: [] };
    f.evidence.push(evidence);
    f.name ??= name;
    f.namespace ??= namespace;
    found.set(family.controller, f);
  };

  for (const o of md.ownerReferences ?? []) {
    const family = familyOfOwner(o.apiVersion ?? '', o.kind ?? '');
    if (family) add(family, `ownerReference ${String(o.kind)} ${String(o.name)}`, o.name, md.namespace);
  }
  for (const e of md.managedFields ?? []) {
    const manager = e.manager ?? '';
    if (!manager || isBenignManager(manager) || !setsData(e)) continue;
    add(familyOfManager(manager), `managedFields: "${manager}" (${e.operation ?? 'Update'}${e.time ? ` at ${e.time}` : ''}) set its data`);
  }
  // Argo CD's tracking annotation (the default method since Argo CD 3.0), and the label commonly configured instead.
  if (annotations['argocd.argoproj.io/tracking-id']) add(ARGO, `annotation argocd.argoproj.io/tracking-id=${annotations['argocd.argoproj.io/tracking-id']}`);
  if (labels['argocd.argoproj.io/instance']) add(ARGO, `label argocd.argoproj.io/instance=${labels['argocd.argoproj.io/instance']}`);
  // Flux's kustomize- and helm-controller label what they apply with the applying object's name and namespace.
  if (labels['kustomize.toolkit.fluxcd.io/name']) {
    add(
      FLUX_KS,
      `label kustomize.toolkit.fluxcd.io/name=${labels['kustomize.toolkit.fluxcd.io/name']}`,
      labels['kustomize.toolkit.fluxcd.io/name'],
      labels['kustomize.toolkit.fluxcd.io/namespace'],
    );
  }
  if (labels['helm.toolkit.fluxcd.io/name']) {
    add(FLUX_HR, `label helm.toolkit.fluxcd.io/name=${labels['helm.toolkit.fluxcd.io/name']}`, labels['helm.toolkit.fluxcd.io/name'], labels['helm.toolkit.fluxcd.io/namespace']);
  }
  // ESO labels every Secret it manages (apis/externalsecrets: LabelManaged).
  if (labels['reconcile.external-secrets.io/managed'] === 'true') add(ESO, 'label reconcile.external-secrets.io/managed=true');
  // Helm's release annotations; a Flux HelmRelease sets them too, and is then the one to name.
  const release = annotations['meta.helm.sh/release-name'];
  if (release) add(found.has(FLUX_HR.controller) ? FLUX_HR : HELM, `annotation meta.helm.sh/release-name=${release}`, release, annotations['meta.helm.sh/release-namespace']);

  const notes: string[] = [];
  const instance = labels['app.kubernetes.io/instance'];
  // Argo CD's default tracking label before 3.0, but Helm charts and many manifests set it too: alone it
  // is a hint, not a refusal (Argo CD's writes show in managedFields anyway).
  if (instance && !found.has(ARGO.controller)) {
    notes.push(
      `note: the Secret's label app.kubernetes.io/instance=${instance} is also Argo CD's default tracking label (before Argo CD 3.0); if an Argo CD Application applies this Secret, turn off its self-heal while rotating`,
    );
  }
  const writers = [...found.values()].map((f) => ({ controller: f.family.controller, evidence: f.evidence, advice: f.family.advice(f.name, f.namespace) }));
  return { writers, notes };
}

export const describeWriters = (writers: SecretWriter[]): string[] => writers.map((w) => `${w.controller} (${w.evidence.join('; ')})`);

export interface LastWrite {
  manager: string;
  operation: string;
  time: string;
  /** The entry owns one of the keys asked about (else it is only the latest write of anything). */
  ownsKeys: boolean;
}

/**
 * The last writer of the given data keys as managedFields tell it: an update moves the fields it
 * changed to its manager, so the owner of a key is who last changed it. Without an owner, the latest
 * entry. Times have whole seconds: on a tie, a manager other than this plugin is the likelier answer.
 */
export function lastWriteOf(secret: Secret, keys: string[], self: string): LastWrite | undefined {
  const entries = secret.metadata.managedFields ?? [];
  const owners = entries.filter((e) => keys.some((k) => has(e.fieldsV1, ['f:data', `f:${k}`])));
  const pool = owners.length ? owners : entries;
  const when = (e: ManagedFieldsEntry) => Date.parse(e.time ?? '') || 0;
  const best = [...pool].sort((a, b) => when(b) - when(a) || Number(a.manager === self) - Number(b.manager === self))[0];
  return best && { manager: best.manager ?? '?', operation: best.operation ?? 'Update', time: best.time ?? '', ownsKeys: owners.length > 0 };
}

/** Preflight: refuses a Secret a controller writes, unless allowed; returns what was allowed past, for the journal and the result. */
export async function checkManagedSecret(target: RecTarget, allow: boolean, progress: Progress): Promise<string[] | undefined> {
  if (target.storeType !== 'kubernetes') return undefined;
  const secret = await target.cluster.getSecret(target.secretName);
  if (!secret) return undefined; // reading the store says so
  const location = target.store.location;
  if (secret.immutable === true) {
    throw refused(
      `${location} is immutable (immutable: true): Kubernetes refuses any change to its data, so its credentials cannot be rotated in place`,
      `create a new Secret with the same keys and point the REC's spec.clusterCredentialSecretName at it (operator 8.0.18-11 and later), or recreate this Secret without immutable; --allow-managed-secret does not change this`,
    );
  }
  const { writers, notes } = secretWriters(secret);
  for (const n of notes) progress.note(n);
  if (!writers.length) return undefined;
  const described = describeWriters(writers);
  const how = `To rotate here anyway: hold it off, run with --allow-managed-secret --no-wait, put the new password into its source of truth (kubectl reccred get ${target.name} -n ${target.namespace} --reveal), let it sync, then run finish`;
  if (!allow) {
    throw refused(
      `${location} is written by ${described.join(' and by ')}: it would put its own value back while the rotation waits, and removing the old password then would lock out the operator and the pods`,
      `${writers.map((w) => `${w.controller}: ${w.advice}`).join('. ')}. ${how}`,
    );
  }
  progress.note(
    `--allow-managed-secret: ${location} is written by ${described.join(' and by ')}; make sure it is held off or its source will hold the new password (the old password is removed only if the store and every pod still hold the new credentials at that moment)`,
  );
  return described;
}
