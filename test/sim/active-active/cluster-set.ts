// Several simulated Kubernetes clusters whose RECs share an Active-Active database: one SimCluster per
// participating cluster, one kubeconfig with a context per cluster, and in every cluster the objects
// content/operate/kubernetes/active-active/prepare-clusters.md and create-reaadb.md have the user create (one RERC
// and its Secret per participating REC, and the REAADB), checked by a simulated RERC controller per cluster.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimCluster, type RecSpec, type SimCluster, type SimOptions } from '../cluster.js';
import type { KubeObject, StoreEvent } from '../kube/store.js';
import type { ClusterState } from '../redis/cluster-state.js';
import type { Credentials } from '../redis/operator.js';
import {
  RercController,
  rercSecretName,
  type RemoteEndpoint,
  type ReaadbStatus,
  type RercControllerOptions,
  type RercLoginFailure,
  type RercSecret,
  type RercStatus,
} from './rerc-controller.js';

export interface ClusterSetOptions {
  /** The participating clusters' names, e.g. ['a', 'b', 'c']: cluster `a` runs REC `rec-a`, context `cluster-a`. */
  clusters: string[];
  /** The namespace of every REC, its RERCs and the REAADB (default `default`). */
  namespace?: string;
  /** Pods per REC (default 1). */
  pods?: number;
  /** SimOptions for every cluster (recs and namespaces are the set's). */
  sim?: Omit<SimOptions, 'recs' | 'namespaces' | 'dir'>;
  /** RecSpec fields for every REC, e.g. `{ redis: { lockout: { threshold: 0 } } }` or `{ secretType: 'vault' }`. */
  rec?: Partial<Omit<RecSpec, 'name' | 'namespace'>>;
  /** Per cluster name: SimOptions and RecSpec fields over the ones above. */
  perCluster?: Record<string, { sim?: Omit<SimOptions, 'recs' | 'namespaces' | 'dir'>; rec?: Partial<Omit<RecSpec, 'name' | 'namespace'>> }>;
  /** Create the RERCs, their Secrets and the REAADB in every cluster (default true). */
  seed?: boolean;
  /** The REAADB's name (default `reaadb-1`). */
  reaadbName?: string;
  /** Start the RERC controllers (default true); they exist either way (`controllers[name].start()`). */
  startControllers?: boolean;
  /** Every cluster's RERC controller: intervalMs, reactionMs and the switches (rerc-controller.ts). */
  rerc?: Omit<RercControllerOptions, 'cluster' | 'store' | 'resolve' | 'readSecret'>;
  /** Folder for the kubeconfig (a fresh temp folder by default, removed at stop). */
  dir?: string;
}

/** One participating REC. */
export interface Participant {
  /** The cluster set's name (`a`). */
  cluster: string;
  context: string;
  rec: string;
  namespace: string;
  /** The RERC that stands for this REC in every cluster (`rerc-a`) and its Secret (`redis-enterprise-rerc-a`). */
  rerc: string;
  secretName: string;
  apiFqdnUrl: string;
  apiPort: number;
}

export interface ClusterSet {
  names: string[];
  participants: Participant[];
  participant(cluster: string): Participant;
  sims: Record<string, SimCluster>;
  sim(cluster: string): SimCluster;
  /** The REC of a cluster, as its sim holds it (sim(c).redis(rec)). */
  redis(cluster: string): ClusterState;
  /** One kubeconfig holding every context (admin user of each sim); current-context the first cluster's. */
  kubeconfig: string;
  /** Context name by cluster name (`a` -> `cluster-a`). */
  contexts: Record<string, string>;
  contextNames: string[];
  controllers: Record<string, RercController>;
  reaadbName: string;
  /** An RERC's status in a cluster (`rercStatus('b', 'rerc-a')`). */
  rercStatus(cluster: string, rerc: string): RercStatus | undefined;
  /** The REAADB's status in a cluster (default the seeded one). */
  reaadbStatus(cluster: string, name?: string): ReaadbStatus | undefined;
  /** What an RERC Secret (or its Vault entry) in a cluster holds now, and its version. */
  rercSecret(cluster: string, rerc: string): (RercSecret & Partial<Credentials>) | undefined;
  /** Every refused login by every cluster's RERC controller, oldest first. */
  failures(): RercLoginFailure[];
  /** One round of every controller now. */
  tick(): void;
  /** Every store change in every cluster (e.g. to kill a run at a step taken in another cluster); returns the unsubscribe. */
  onStoreChange(listener: (cluster: string, e: StoreEvent) => void): () => void;
  /** Stops the controllers, then every sim. */
  stop(): Promise<void>;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const q = (s: string) => JSON.stringify(s);

export async function startClusterSet(options: ClusterSetOptions): Promise<ClusterSet> {
  const names = options.clusters;
  if (!names.length || new Set(names).size !== names.length) throw new Error('startClusterSet: give distinct cluster names');
  const namespace = options.namespace ?? 'default';
  const reaadbName = options.reaadbName ?? 'reaadb-1';
  const ownDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'reccred-aa-'));
  const sims: Record<string, SimCluster> = {};
  const controllers: Record<string, RercController> = {};
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of Object.values(controllers)) c.stop();
    await Promise.all(Object.values(sims).map((s) => s.stop()));
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    // prepare-clusters.md, "Example values": API `api-<rec-name>-<rec-namespace>.<subdomain>`, DB suffix `.db-<rec-name>-<rec-namespace>.<subdomain>`.
    const participants: Participant[] = names.map((c) => {
      const rec = `rec-${c}`;
      const rerc = `rerc-${c}`;
      return { cluster: c, context: `cluster-${c}`, rec, namespace, rerc, secretName: rercSecretName(rerc), apiFqdnUrl: `api-${rec}-${namespace}.example.com`, apiPort: 443 };
    });
    const specs = new Map<string, RecSpec>();
    // In parallel: each sim is its own API server, Vault and pods.
    await Promise.all(
      participants.map(async (p) => {
        const per = options.perCluster?.[p.cluster];
        const spec: RecSpec = { pods: options.pods ?? 1, ...options.rec, ...per?.rec, name: p.rec, namespace };
        specs.set(p.cluster, spec);
        sims[p.cluster] = await startSimCluster({ ...options.sim, ...per?.sim, recs: [spec], namespaces: [namespace] });
      }),
    );
    const sim = (c: string) => {
      const s = sims[c];
      if (!s) throw new Error(`no cluster named ${c}`);
      return s;
    };
    const participant = (c: string) => {
      const p = participants.find((x) => x.cluster === c);
      if (!p) throw new Error(`no cluster named ${c}`);
      return p;
    };

    // ---- one kubeconfig, a context per cluster ----
    const kubeconfig = join(dir, 'kubeconfig');
    const contexts = Object.fromEntries(participants.map((p) => [p.cluster, p.context]));
    const admin = (c: string) => {
      const u = sim(c).users.admin;
      if (!u) throw new Error(`cluster ${c} has no admin user`);
      return u;
    };
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        ...participants.flatMap((p) => [
          `- name: ${q(p.context)}`,
          '  cluster:',
          `    server: ${q(sim(p.cluster).apiUrl)}`,
          `    certificate-authority: ${q(sim(p.cluster).caFile)}`,
        ]),
        'users:',
        ...participants.flatMap((p) => [`- name: ${q(`admin-${p.cluster}`)}`, '  user:', `    token: ${q(admin(p.cluster).token)}`]),
        'contexts:',
        ...participants.flatMap((p) => [
          `- name: ${q(p.context)}`,
          '  context:',
          `    cluster: ${q(p.context)}`,
          `    user: ${q(`admin-${p.cluster}`)}`,
          `    namespace: ${q(namespace)}`,
        ]),
        `current-context: ${q(participants[0]!.context)}`,
        'preferences: {}',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );

    // ---- where each RERC Secret lives ----
    // content/operate/kubernetes/security/vault.md, "Redis Enterprise Remote Cluster secrets": "The `secretName` field is
    // supported and should be stored in HashiCorp Vault when the Redis Enterprise cluster uses Vault as a secret source."
    // Stored at <VAULT_SECRET_ROOT>/<VAULT_SECRET_PREFIX>/<secret-name> (vault.md, "Secret path structure").
    const usesVault = (c: string) => specs.get(c)?.secretType === 'vault';
    const vaultPath = (c: string, ns: string, name: string) => {
      const cm = (sim(c).store.get('configmaps', ns, 'operator-environment-config')?.['data'] ?? {}) as Record<string, string>;
      return { mount: cm.VAULT_SECRET_ROOT || 'secret', path: `${cm.VAULT_SECRET_PREFIX || 'redisenterprise'}/${name}`, namespace: cm.VAULT_NAMESPACE ?? '' };
    };
    const readVault = (c: string, ns: string, name: string): RercSecret | undefined => {
      const v = vaultPath(c, ns, name);
      const data = sim(c).vault.server.read(v.mount, v.path, v.namespace);
      if (!data) return undefined;
      const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
      // Silent: what internalObservedSecretResourceVersion holds for a Vault secret; here nothing (no resourceVersion).
      return { username: str(data.username), password: str(data.password) };
    };
    const vaultCacheMs = (c: string) => (options.perCluster?.[c]?.sim?.vaultCacheSeconds ?? options.sim?.vaultCacheSeconds ?? 5) * 1000;
    const vaultReader = (c: string) => {
      // The operator caches what it reads from Vault for VAULT_CACHE_SECRET_EXPIRATION_SECONDS (vault.md), as for the REC's own.
      const cache = new Map<string, { at: number; value: RercSecret | undefined }>();
      return (ns: string, name: string): RercSecret | undefined => {
        const k = `${ns}/${name}`;
        const hit = cache.get(k);
        if (hit && Date.now() - hit.at < vaultCacheMs(c)) return hit.value;
        const value = readVault(c, ns, name);
        cache.set(k, { at: Date.now(), value });
        return value;
      };
    };

    // ---- the objects every cluster holds (prepare-clusters.md, create-reaadb.md) ----
    if (options.seed !== false) {
      for (const here of participants) {
        const s = sim(here.cluster);
        for (const p of participants) {
          // prepare-clusters.md: a Secret `redis-enterprise-<rerc-name>` per participating REC, holding its admin credentials.
          const creds = sim(p.cluster).credentials(p.rec);
          if (!creds) throw new Error(`no credentials for ${p.rec}`);
          let version: string | undefined;
          if (usesVault(here.cluster)) {
            const v = vaultPath(here.cluster, namespace, p.secretName);
            s.vault.server.write(v.mount, v.path, { username: creds.username, password: creds.password }, v.namespace);
          } else {
            const secret = s.store.create('secrets', {
              apiVersion: 'v1',
              kind: 'Secret',
              metadata: { name: p.secretName, namespace },
              type: 'Opaque',
              data: { username: b64(creds.username), password: b64(creds.password) },
            });
            version = secret.metadata.resourceVersion;
          }
          // create-reaadb.md, "Create RERC custom resources" (embeds/k8s/rerc-ohare.md), already checked as the controller would.
          s.store.create('redisenterpriseremoteclusters', {
            apiVersion: 'app.redislabs.com/v1alpha1',
            kind: 'RedisEnterpriseRemoteCluster',
            metadata: { name: p.rerc, namespace, generation: 1 },
            spec: {
              recName: p.rec,
              recNamespace: p.namespace,
              apiFqdnUrl: p.apiFqdnUrl,
              apiPort: p.apiPort,
              dbFqdnSuffix: `.db-${p.rec}-${p.namespace}.example.com`,
              secretName: p.secretName,
            },
            status: {
              status: 'Active',
              specStatus: 'Valid',
              local: p.cluster === here.cluster,
              observedGeneration: 1,
              ...(version !== undefined && options.rerc?.exposeObservedSecretVersion !== false ? { internalObservedSecretResourceVersion: version } : {}),
            },
          });
        }
        // create-reaadb.md, "Create the REAADB" (embeds/k8s/reaadb-boeing.md): participatingClusters lists every RERC.
        s.store.create('redisenterpriseactiveactivedatabases', {
          apiVersion: 'app.redislabs.com/v1alpha1',
          kind: 'RedisEnterpriseActiveActiveDatabase',
          metadata: { name: reaadbName, namespace, generation: 1 },
          spec: {
            redisEnterpriseCluster: { name: here.rec },
            participatingClusters: participants.map((p) => ({ name: p.rerc })),
            globalConfigurations: { memorySize: '200MB', shardCount: 1 },
          },
        });
      }
    }

    // ---- the RERC controllers ----
    const endpoints = new Map(participants.map((p) => [`${p.apiFqdnUrl}:${p.apiPort}`, p]));
    const resolve = (fqdn: string, port: number): RemoteEndpoint | undefined => {
      const p = endpoints.get(`${fqdn}:${port}`);
      return p && { cluster: p.cluster, rec: p.rec, recNamespace: p.namespace, state: sim(p.cluster).redis(p.rec) };
    };
    for (const p of participants) {
      controllers[p.cluster] = new RercController({
        ...options.rerc,
        cluster: p.cluster,
        store: sim(p.cluster).store,
        resolve,
        ...(usesVault(p.cluster) ? { readSecret: vaultReader(p.cluster) } : {}),
      });
    }
    for (const c of Object.values(controllers)) c.reconcileReaadbs();
    if (options.seed !== false) shareDatabaseGuid();
    if (options.startControllers !== false) for (const c of Object.values(controllers)) c.start();

    /**
     * One Active-Active database has one guid in every cluster (the REAADB's status.guid, "GUID of the Active-Active
     * database", reaadb_crd.yaml), and each participating REC's REST API lists it (GET /v1/crdbs, objects/crdb):
     * the controllers drew one each, the first cluster's is kept. Whether GET shows the instances' credentials is
     * silent: shown here, the harsher case for the plugin's output.
     */
    function shareDatabaseGuid(): void {
      const reaadbs = participants.map((p) => sim(p.cluster).store.get('redisenterpriseactiveactivedatabases', namespace, reaadbName));
      const guid = (reaadbs[0]?.['status'] as { guid?: string } | undefined)?.guid;
      if (!guid) throw new Error('startClusterSet: the REAADB got no guid');
      for (const [i, p] of participants.entries()) {
        const o = reaadbs[i];
        if (o) sim(p.cluster).store.update('redisenterpriseactiveactivedatabases', { ...o, status: { ...(o['status'] as object), guid } });
      }
      const instances = participants.map((p, i) => {
        const admin = sim(p.cluster).credentials(p.rec);
        return { id: i + 1, cluster: { name: p.apiFqdnUrl, url: `https://${p.apiFqdnUrl}:${p.apiPort}`, ...(admin ? { credentials: { ...admin } } : {}) } };
      });
      for (const p of participants) sim(p.cluster).redis(p.rec).crdbs.push({ guid, name: reaadbName, instances });
    }

    const rercSecret = (c: string, rerc: string): (RercSecret & Partial<Credentials>) | undefined => {
      const name = rercSecretName(rerc);
      if (usesVault(c)) return readVault(c, namespace, name);
      const o = sim(c).store.get('secrets', namespace, name);
      if (!o) return undefined;
      const data = (o['data'] ?? {}) as Record<string, string>;
      const dec = (v: string | undefined) => (v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8'));
      return { username: dec(data.username), password: dec(data.password), version: o.metadata.resourceVersion };
    };
    const statusOf = (o: KubeObject | undefined) => o?.['status'] as never;

    return {
      names,
      participants,
      participant,
      sims,
      sim,
      redis: (c) => sim(c).redis(participant(c).rec),
      kubeconfig,
      contexts,
      contextNames: participants.map((p) => p.context),
      controllers,
      reaadbName,
      rercStatus: (c, rerc) => statusOf(sim(c).store.get('redisenterpriseremoteclusters', namespace, rerc)),
      reaadbStatus: (c, name) => statusOf(sim(c).store.get('redisenterpriseactiveactivedatabases', namespace, name ?? reaadbName)),
      rercSecret,
      failures: () =>
        Object.values(controllers)
          .flatMap((c) => c.failures())
          .sort((x, y) => x.time - y.time),
      tick: () => Object.values(controllers).forEach((c) => c.reconcileAll()),
      onStoreChange: (listener) => {
        const offs = names.map((c) => sim(c).store.onChange((e) => listener(c, e)));
        return () => offs.forEach((off) => off());
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
