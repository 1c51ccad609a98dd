// The whole simulated Redis Enterprise on Kubernetes deployment, started by tests and by `npm run sim`:
// API server, REC objects, pod sandboxes, kubelet sync, the REST API per REC, operator components, Vault.
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { AuditLog } from './audit.js';
import { Faults } from './faults.js';
import { KubeStore, type KubeObject } from './kube/store.js';
import { startApiServer, type AddUserOptions, type ApiServer, type PolicyRule } from './kube/apiserver.js';
import { SecretController, type SecretControllerOptions } from './kube/secret-controller.js';
import { makeSelfSignedCert } from './kube/tls.js';
import { Kubelet } from './pods/kubelet.js';
import { PodSandboxes, checkNamespaces, type NamespaceMode, type PodSpec } from './pods/sandbox.js';
import { ClusterState, type ClusterStateOptions } from './redis/cluster-state.js';
import { RestApi } from './redis/rest-api.js';
import { UserController } from './redis/user-controller.js';
import { ACTIVE_ACTIVE_CRDS, RESOURCES } from './kube/discovery.js';
import { eventsRegarding, type EventRegarding, type EventV1 } from './kube/events.js';
import { CredentialSecretInUse, OperatorComponents, type CredentialSecretNaming, type Credentials } from './redis/operator.js';
import { VaultServer } from './vault/server.js';
import { AppsSim, type AppsOptions } from './apps/apps-sim.js';

export type ExecProtocol = 'v5' | 'v4';

export interface RecSpec {
  name: string;
  /** Default: spread over the namespaces. */
  namespace?: string;
  secretType?: 'kubernetes' | 'vault';
  /** spec.clusterCredentialSecretName; default the REC name. */
  secretName?: string;
  /** spec.username, the admin user's email. */
  username?: string;
  /** Initial admin password; random by default. */
  password?: string;
  pods?: number;
  /** Pod names whose image lacks curl (the same as `missingTools: { POD: ['curl'] }`). */
  curlMissingPods?: string[];
  /**
   * Commands absent from a pod's image, by pod name (e.g. `{ 'rec-0': ['sha256sum'] }`), really gone from /usr/bin.
   * Silent: the `.minimal` image "installs fewer operating system packages", not which ones
   * (content/operate/kubernetes/security/minimal-base-image, published page).
   */
  missingTools?: Record<string, string[]>;
  /**
   * Vault RECs: whether the pods see the credentials as files in /opt/redislabs/credentials (default true). Silent
   * (content/operate/kubernetes/security/vault.md never says where Vault-backed pods see them): with false the pods
   * have no files and the operator's components authenticate from its Vault cache only.
   */
  vaultMountedCredentials?: boolean;
  /** How the operator treats spec.clusterCredentialSecretName (see CredentialSecretNaming); default `renamable`. */
  credentialSecretNaming?: CredentialSecretNaming;
  /** `renamable`: how long after the spec names another valid Secret the operator switches to it (silent; default 1000 ms). */
  secretRenameMs?: number;
  /** Per-REC cluster behaviour (lockout, complexity, RBAC, redirects, version). */
  redis?: Partial<Omit<ClusterStateOptions, 'name'>>;
  /**
   * Kubernetes-secret RECs: how late the REC's components see a change of the Secret (default 0): they keep
   * using what it held this long ago. The seed procedure only says "Wait five minutes for all the components to read
   * the new password from the updated secret. If you proceed to the next step too soon, the account could get
   * locked" (content/operate/kubernetes/security/manage-rec-credentials.md); how long a component keeps them is
   * silent. This is what the settle period is for.
   */
  secretLagMs?: number;
}

export interface SimOptions {
  /** Count (default 2: `rec` with a Kubernetes secret, `rec-vault` with Vault) or explicit specs. */
  recs?: number | RecSpec[];
  /** Count (default 1: `default`; more add `team-1`, `team-2`...) or names. */
  namespaces?: number | string[];
  /** Pods per REC (default 3). */
  pods?: number;
  /** Kubelet secret-volume sync delay (default 2000 ms; real clusters: 60-90 s). */
  syncDelayMs?: number;
  /** Latency added to every Kubernetes API response and exec start. */
  latencyMs?: number;
  execProtocols?: ExecProtocol[];
  /** Operator components' re-read/authenticate period (default 1000 ms). */
  operatorIntervalMs?: number;
  /**
   * The RedisEnterpriseUser CRD and its controller (operator 8.2.0-12+, test/sim/redis/user-controller.ts).
   * false: an older operator, whose API server does not serve the resource (404). Default true.
   */
  redisEnterpriseUsers?: boolean;
  /** The RedisEnterpriseUser controller's resync period (default 1000 ms); it also acts on changes. */
  userControllerIntervalMs?: number;
  /**
   * The Active-Active CRDs, RedisEnterpriseRemoteCluster and RedisEnterpriseActiveActiveDatabase (operator 6.4.2-6+,
   * content/operate/kubernetes/active-active/edit-rerc.md). false: an older operator, whose API server does not serve
   * them (404). Default true. Their controller and objects come from test/sim/active-active/cluster-set.ts.
   */
  activeActiveCrds?: boolean;
  /** Redis Software version of every REC (ClusterStateOptions.softwareVersion; a RecSpec's `redis` wins). */
  redisVersion?: string;
  /** Cluster behaviour for every REC (a RecSpec's `redis` wins). */
  redis?: Partial<Omit<ClusterStateOptions, 'name'>>;
  /** VAULT_CACHE_SECRET_EXPIRATION_SECONDS in the operator ConfigMap, and the operator's Vault cache (default 5). */
  vaultCacheSeconds?: number;
  /** Work folder (kubeconfigs, certificates, pod folders); a fresh temp folder by default, removed at stop. */
  dir?: string;
  /**
   * Fleet mode, for many RECs: light pod sandboxes (no node forwarder; about 1 MB and 20 ms a pod instead
   * of 40 MB and 170 ms), started a few at a time in parallel. Use with `pods: 1` for 100 RECs.
   */
  fleet?: boolean;
  /**
   * Record every process exec'd in a pod by tracing each exec with strace (PodSandboxes traceExecs). Default: on
   * where strace is installed, except in fleet mode; off, only the argv of curl, sh and bash is recorded.
   */
  tracePodExecs?: boolean;
  /**
   * How pods get their namespaces: `user` (a user namespace, as a plain user can), `root`, or by default whatever
   * works here, root first (RECCRED_SIM_USERNS=1 makes the default `user`).
   */
  podNamespaces?: NamespaceMode;
  /**
   * Application workloads (apps/v1 Deployments, StatefulSets, DaemonSets), their rollout controllers and the
   * simulated applications in their pods, which log in to a REC (test/sim/apps/apps-sim.ts). Seed workloads here or
   * with `sim.apps.create`.
   */
  apps?: AppsOptions;
}

export interface SimRec {
  name: string;
  namespace: string;
  secretType: 'kubernetes' | 'vault';
  secretName: string;
  username: string;
  pods: string[];
  /** Vault RECs: KV v2 mount and path of the entry (HTTP path `<mount>/data/<path>`). */
  vault?: { mount: string; path: string };
}

export interface SimCluster {
  dir: string;
  apiUrl: string;
  caFile: string;
  /** The admin user's kubeconfig path. */
  kubeconfig: string;
  users: Record<string, { token: string; kubeconfig: string }>;
  store: KubeStore;
  audit: AuditLog;
  faults: Faults;
  recs: SimRec[];
  redis(rec: string): ClusterState;
  operator: OperatorComponents;
  /** The operator's RedisEnterpriseUser controller (inert when the CRD is not served). */
  userController: UserController;
  /** Application workloads, their pods and the applications' logins; the rollout-failure switch (test/sim/apps/apps-sim.ts). */
  apps: AppsSim;
  kubelet: Kubelet;
  sandboxes: PodSandboxes;
  /** How the pods got their namespaces. */
  podNamespaces: NamespaceMode;
  vault: { addr: string; token: string; caFile: string; server: VaultServer };
  /** The REC's credentials as the store (Secret or Vault) holds them now. */
  credentials(rec: string): Credentials | undefined;
  /**
   * The Kubernetes Events regarding an object (e.g. `{ namespace, name: 'rec', kind: 'RedisEnterpriseCluster' }`;
   * absent fields match any), in the events.k8s.io/v1 shape, oldest first (test/sim/kube/events.ts).
   */
  events(regarding: EventRegarding): EventV1[];
  /** The pod's mounted credentials (host side of /opt/redislabs/credentials). */
  podCredentials(namespace: string, pod: string): Credentials | undefined;
  podCredentialsDir(namespace: string, pod: string): string;
  setPodReady(namespace: string, pod: string, ready: boolean): void;
  restartPod(namespace: string, pod: string): Promise<void>;
  waitForSync(timeoutMs?: number): Promise<void>;
  /** Moves argv recorded inside the pods into the audit log. */
  collectArgv(): void;
  setExecProtocols(protocols: ExecProtocol[]): void;
  /** A user whose permissions are the given RBAC rules (e.g. a Role's, with `namespaces` set to the Role's). */
  addUser(name: string, rules: PolicyRule[], opts?: AddUserOptions): { token: string; kubeconfig: string };
  /** The API server itself: groups, expiring tokens, client certificates, exec-plugin kubeconfigs (test/sim/kube/apiserver.ts). */
  apiServer: ApiServer;
  /**
   * Starts a controller that keeps writing its own value into a Secret through the API (External
   * Secrets' refresh, Argo CD's self-heal), as field manager `manager`; stopped with the sim at the latest.
   */
  startSecretController(o: Omit<SecretControllerOptions, 'apiUrl' | 'caFile' | 'token'>): SecretController;
  stop(): Promise<void>;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : undefined);

/** A random password that satisfies the strictest complexity profile. */
export function randomPassword(length = 16): string {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '-_.!#%+='];
  const all = sets.join('');
  for (;;) {
    const chars = sets.map((s) => s[randomInt(s.length)]!);
    while (chars.length < length) chars.push(all[randomInt(all.length)]!);
    for (let i = chars.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [chars[i], chars[j]] = [chars[j]!, chars[i]!];
    }
    const p = chars.join('');
    if (!/(.)\1\1\1/.test(p)) return p;
  }
}

function recSpecs(o: SimOptions, namespaces: string[]): (RecSpec & { namespace: string })[] {
  const given: RecSpec[] = Array.isArray(o.recs)
    ? o.recs
    : Array.from({ length: o.recs ?? 2 }, (_, i): RecSpec => (i === 0 ? { name: 'rec' } : i === 1 ? { name: 'rec-vault', secretType: 'vault' } : { name: `rec-${i}` }));
  return given.map((r, i) => ({ ...r, namespace: r.namespace ?? namespaces[i % namespaces.length]! }));
}

export async function startSimCluster(options: SimOptions = {}): Promise<SimCluster> {
  const podNamespaces = checkNamespaces(options.podNamespaces);
  const ownDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'reccred-sim-'));
  mkdirSync(dir, { recursive: true });
  // Unix socket paths are limited to 108 bytes: keep them short whatever the work folder is.
  const sockDir = join(dir, 's').length < 80 ? join(dir, 's') : mkdtempSync('/tmp/rs-');
  mkdirSync(sockDir, { recursive: true });

  const namespaces = Array.isArray(options.namespaces)
    ? options.namespaces
    : Array.from({ length: Math.max(1, options.namespaces ?? 1) }, (_, i) => (i === 0 ? 'default' : `team-${i}`));
  const specs = recSpecs(options, namespaces);
  const store = new KubeStore();
  const audit = new AuditLog();
  const faults = new Faults();
  faults.apiLatencyMs = options.latencyMs ?? 0;
  faults.execLatencyMs = options.latencyMs ?? 0;
  const vaultCacheSeconds = options.vaultCacheSeconds ?? 5;
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch {
        /* keep cleaning */
      }
    }
  };

  try {
    const certPaths = await makeSelfSignedCert(join(dir, 'certs'), 'localhost');
    const tls = { key: readFileSync(certPaths.keyFile, 'utf8'), cert: readFileSync(certPaths.certFile, 'utf8') };

    const vault = new VaultServer({ audit, faults, tls });
    await vault.listen();
    cleanups.push(() => vault.close());

    // ---- Kubernetes objects ----
    // A REC given an explicit namespace gets that namespace (and its operator ConfigMap) too.
    for (const ns of new Set([...namespaces, ...specs.map((s) => s.namespace)])) {
      store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns }, status: { phase: 'Active' } });
      store.create('configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'operator-environment-config', namespace: ns },
        data: {
          CLUSTER_CREDENTIAL_SECRET_TYPE: 'kubernetes',
          VAULT_SERVER_FQDN: vault.addr.replace(/^https:\/\//, '').replace(/:\d+$/, ''),
          VAULT_SERVICE_PORT_HTTPS: vault.addr.replace(/^.*:/, ''),
          VAULT_SECRET_ROOT: 'secret',
          VAULT_SECRET_PREFIX: 'redisenterprise',
          VAULT_AUTH_MOUNT_POINT: 'kubernetes',
          VAULT_ROLE: 'redis-enterprise-operator',
          VAULT_CACHE_SECRET_EXPIRATION_SECONDS: String(vaultCacheSeconds),
        },
      });
    }

    // The Secret (or Vault entry) each REC's operator uses: a rename in the spec is applied by the operator, later.
    const secretsInUse = new Map<string, CredentialSecretInUse>();
    /** The credentials the REC's operator reads (or, with `name`, what that Secret or Vault entry holds). */
    // When each Secret last changed, so that components seeing it late (secretLagMs) lag from the change itself.
    const secretChangedAt = new Map<string, number>();
    store.onChange((e) => {
      if (e.resource === 'secrets') secretChangedAt.set(`${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}`, Date.now());
    });
    const readCreds = (ns: string, recName: string, name?: string): Record<string, string> | undefined => {
      const rec = store.peek('redisenterpriseclusters', ns, recName);
      if (!rec) return undefined;
      const spec = (rec.spec ?? {}) as Record<string, unknown>;
      const secretName = name ?? secretsInUse.get(`${ns}/${recName}`)?.current ?? ((spec.clusterCredentialSecretName as string | undefined) || recName);
      if (spec.clusterCredentialSecretType === 'vault') {
        const cm = (store.peek('configmaps', ns, 'operator-environment-config')?.data ?? {}) as Record<string, string>;
        const data = vault.read(cm.VAULT_SECRET_ROOT || 'secret', `${cm.VAULT_SECRET_PREFIX || 'redisenterprise'}/${secretName}`, cm.VAULT_NAMESPACE ?? '');
        if (!data) return undefined;
        return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, String(v)]));
      }
      const secret = store.peek('secrets', ns, secretName);
      if (!secret) return undefined;
      const data = (secret.data ?? {}) as Record<string, string>;
      return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, unb64(v) ?? '']));
    };
    const asCreds = (c: Record<string, string> | undefined): Credentials | undefined =>
      c && c.username !== undefined && c.password !== undefined ? { username: c.username, password: c.password } : undefined;

    const kubelet = new Kubelet({ faults, source: readCreds, delayMs: options.syncDelayMs ?? 2000 });
    const sandboxes = new PodSandboxes({
      dir: join(dir, 'pods'),
      audit,
      beforeStart: (spec) => kubelet.syncNow(spec.namespace, spec.name),
      light: options.fleet === true,
      mode: podNamespaces,
      ...(options.tracePodExecs === undefined ? {} : { traceExecs: options.tracePodExecs }),
    });
    const pendingStarts: PodSpec[] = [];
    cleanups.push(() => sandboxes.stopAll());
    const operator = new OperatorComponents(options.operatorIntervalMs ?? 1000);
    const states = new Map<string, ClusterState>();
    const rests: RestApi[] = [];
    cleanups.push(async () => {
      for (const r of rests) await r.close();
    });
    const recs: SimRec[] = [];
    const podDirs = new Map<string, string>();
    let sockIndex = 0;

    for (const [ri, spec] of specs.entries()) {
      const ns = spec.namespace;
      const secretType = spec.secretType ?? 'kubernetes';
      const secretName = spec.secretName ?? spec.name;
      const username = spec.username ?? 'demo@redis.com';
      const podCount = spec.pods ?? options.pods ?? 3;
      const password = spec.password ?? randomPassword();
      const podNames = Array.from({ length: podCount }, (_, i) => `${spec.name}-${i}`);
      const naming = spec.credentialSecretNaming ?? 'renamable';
      const mountsCredentials = secretType !== 'vault' || spec.vaultMountedCredentials !== false;

      store.create('redisenterpriseclusters', {
        apiVersion: 'app.redislabs.com/v1',
        kind: 'RedisEnterpriseCluster',
        metadata: { name: spec.name, namespace: ns, labels: { app: 'redis-enterprise' } },
        spec: {
          nodes: podCount,
          username,
          clusterCredentialSecretName: secretName,
          clusterCredentialSecretType: secretType,
          ...(secretType === 'vault' ? { clusterCredentialSecretRole: 'redis-enterprise-rec' } : {}),
        },
        status: {
          state: 'Running',
          specStatus: 'Valid',
          licenseStatus: { licenseState: 'Valid' },
          ...(naming === 'no-status' ? {} : { clusterCredentialSecretName: secretName }),
        },
      });
      let vaultRef: SimRec['vault'];
      if (secretType === 'vault') {
        vaultRef = { mount: 'secret', path: `redisenterprise/${secretName}` };
        vault.write(vaultRef.mount, vaultRef.path, { username, password });
      } else {
        store.create('secrets', {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: secretName, namespace: ns, labels: { app: 'redis-enterprise', 'redis.io/cluster': spec.name } },
          type: 'Opaque',
          data: { username: b64(username), password: b64(password) },
        });
      }

      const state = new ClusterState({
        name: spec.name,
        ...(options.redisVersion ? { softwareVersion: options.redisVersion } : {}),
        ...options.redis,
        ...spec.redis,
      });
      state.createUser({ email: username, name: username, password, role: 'admin', role_uids: state.rbac ? [1] : [] });
      state.masterPod = podNames[0]!;
      states.set(spec.name, state);
      states.set(`${ns}/${spec.name}`, state);

      const podIPs = new Map(podNames.map((p, i) => [p, `10.244.${ri + 1}.${i + 10}`]));
      const rest = new RestApi({
        rec: spec.name,
        namespace: ns,
        state,
        audit,
        faults,
        tls,
        podIP: (pod) => {
          const o = store.get('pods', ns, pod);
          return (o?.status as { podIP?: string } | undefined)?.podIP ?? podIPs.get(pod);
        },
      });
      rests.push(rest);

      for (const [i, pod] of podNames.entries()) {
        store.create('pods', podObject(spec.name, ns, pod, i, podIPs.get(pod)!, mountsCredentials ? secretName : undefined, state.nodeVersion(i)));
        const podDir = join(dir, 'pods', ns, pod);
        podDirs.set(`${ns}/${pod}`, join(podDir, 'credentials'));
        const socketPath = join(sockDir, `${sockIndex++}.sock`);
        await rest.listen(pod, socketPath);
        // Without mounted credentials the folder stays empty: no kubelet sync for it.
        if (mountsCredentials) kubelet.addPod({ namespace: ns, name: pod, rec: spec.name, credentialsDir: join(podDir, 'credentials') });
        const podSpec: PodSpec = {
          namespace: ns,
          name: pod,
          credentialsDir: join(podDir, 'credentials'),
          socketPath,
          argvLog: join(podDir, 'argv.log'),
          missingTools: [...(spec.missingTools?.[pod] ?? []), ...(spec.curlMissingPods?.includes(pod) ? ['curl'] : [])],
        };
        if (options.fleet) pendingStarts.push(podSpec);
        else await sandboxes.start(podSpec);
      }

      const inUse = new CredentialSecretInUse(
        {
          naming,
          renameMs: spec.secretRenameMs ?? 1000,
          wanted: () =>
            (store.get('redisenterpriseclusters', ns, spec.name)?.spec as { clusterCredentialSecretName?: string } | undefined)?.clusterCredentialSecretName || spec.name,
          valid: (name) => {
            const c = asCreds(readCreds(ns, spec.name, name));
            return c !== undefined && state.accepts(c.username, c.password);
          },
          publish: (name) => {
            const o = store.mustGet('redisenterpriseclusters', ns, spec.name);
            store.update('redisenterpriseclusters', {
              ...o,
              metadata: { ...o.metadata, resourceVersion: undefined },
              status: { ...(o.status as object), clusterCredentialSecretName: name },
            });
          },
        },
        secretName,
      );
      secretsInUse.set(`${ns}/${spec.name}`, inUse);
      operator.add({
        reconcile: () => inUse.reconcile(),
        rec: spec.name,
        namespace: ns,
        state,
        readStore: () => asCreds(readCreds(ns, spec.name)),
        storeChangedAt: () => secretChangedAt.get(`${ns}/${secretsInUse.get(`${ns}/${spec.name}`)?.current ?? secretName}`),
        credentialsDir: join(dir, 'pods', ns, podNames[podNames.length - 1]!, 'credentials'),
        cacheMs: secretType === 'vault' ? vaultCacheSeconds * 1000 : 0,
        lagMs: secretType === 'vault' ? 0 : (spec.secretLagMs ?? 0),
      });
      recs.push({ name: spec.name, namespace: ns, secretType, secretName, username, pods: podNames, vault: vaultRef });
    }

    // Fleet mode: a few sandboxes at a time (each is a handful of short-lived processes).
    await Promise.all(
      Array.from({ length: Math.min(8, pendingStarts.length) }, async () => {
        for (let spec = pendingStarts.shift(); spec; spec = pendingStarts.shift()) await sandboxes.start(spec);
      }),
    );

    kubelet.start();
    cleanups.push(() => kubelet.stop());
    operator.start();
    cleanups.push(() => operator.stop());
    const userController = new UserController({
      store,
      // The REC of an operator namespace (one per namespace, content/operate/kubernetes/architecture/deployment-options.md).
      recOf: (ns) => {
        const inNamespace = recs.filter((r) => r.namespace === ns);
        const only = inNamespace.length === 1 ? inNamespace[0]! : undefined;
        return only && { rec: only.name, state: states.get(`${ns}/${only.name}`)! };
      },
      intervalMs: options.userControllerIntervalMs,
    });
    if (options.redisEnterpriseUsers !== false) {
      userController.start();
      cleanups.push(() => userController.stop());
    }
    const apps = new AppsSim({
      store,
      ...(options.apps ? { options: options.apps } : {}),
      // Application pods' secret volumes lag as the REC pods' do (SimOptions.syncDelayMs), unless the apps set their own.
      kubeletSyncDelayMs: () => kubelet.delayMs,
      frozen: (key) => faults.frozenPods.has(key),
      // AppBinding.rec, else the only REC of the application's namespace, else the first REC.
      rec: (ns, rec) => {
        const inNamespace = recs.filter((r) => r.namespace === ns);
        const r = rec ? recs.find((x) => `${x.namespace}/${x.name}` === rec || x.name === rec) : inNamespace.length === 1 ? inNamespace[0] : recs[0];
        return r && { name: r.name, state: states.get(`${r.namespace}/${r.name}`)! };
      },
    });
    apps.start();
    cleanups.push(() => apps.stop());

    const api = await startApiServer({
      store,
      executor: sandboxes,
      audit,
      faults,
      dir: join(dir, 'kube'),
      execProtocols: options.execProtocols ?? ['v5', 'v4'],
      resources: RESOURCES.filter(
        (r) => !(options.redisEnterpriseUsers === false && r.name === 'redisenterpriseusers') && !(options.activeActiveCrds === false && ACTIVE_ACTIVE_CRDS.includes(r.name)),
      ),
    });
    cleanups.push(() => api.close());
    const admin = api.users.admin ?? Object.values(api.users)[0];
    if (!admin) throw new Error('the API server reported no users');

    const redis = (rec: string) => {
      const s = states.get(rec);
      if (!s) throw new Error(`no REC named ${rec}`);
      return s;
    };
    const recByName = (rec: string) => {
      const r = recs.find((x) => x.name === rec || `${x.namespace}/${x.name}` === rec);
      if (!r) throw new Error(`no REC named ${rec}`);
      return r;
    };

    let stopped = false;
    return {
      dir,
      apiUrl: api.url,
      caFile: api.caFile,
      kubeconfig: admin.kubeconfig,
      users: api.users,
      store,
      audit,
      faults,
      recs,
      redis,
      operator,
      userController,
      apps,
      kubelet,
      sandboxes,
      podNamespaces,
      vault: { addr: vault.addr, token: vault.rootToken, caFile: certPaths.certFile, server: vault },
      credentials: (rec) => {
        const r = recByName(rec);
        return asCreds(readCreds(r.namespace, r.name));
      },
      events: (regarding) => eventsRegarding(store, regarding),
      podCredentials: (ns, pod) => {
        const d = podDirs.get(`${ns}/${pod}`);
        if (!d) return undefined;
        try {
          return { username: readFileSync(join(d, 'username'), 'utf8'), password: readFileSync(join(d, 'password'), 'utf8') };
        } catch {
          return undefined;
        }
      },
      podCredentialsDir: (ns, pod) => {
        const d = podDirs.get(`${ns}/${pod}`);
        if (!d) throw new Error(`no pod ${ns}/${pod}`);
        return d;
      },
      setPodReady: (ns, pod, ready) => setPodReady(store, ns, pod, ready),
      restartPod: async (ns, pod) => {
        setPodReady(store, ns, pod, false);
        await sandboxes.restartPod(ns, pod);
        const o = store.mustGet('pods', ns, pod);
        const status = o.status as PodStatus;
        for (const c of status.containerStatuses) {
          c.restartCount += 1;
          c.state = { running: { startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } };
        }
        store.update('pods', { ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
        setPodReady(store, ns, pod, true);
      },
      waitForSync: (timeoutMs) => kubelet.waitForSync(timeoutMs),
      collectArgv: () => sandboxes.collectArgv(),
      setExecProtocols: (p) => api.setExecProtocols(p),
      addUser: (name, rules, opts) => api.addUser(name, rules, opts),
      apiServer: api,
      startSecretController: (o) => {
        const c = new SecretController({ ...o, apiUrl: api.url, caFile: api.caFile, token: admin.token });
        cleanups.push(() => c.stop());
        return c.start();
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await cleanup();
        if (sockDir !== join(dir, 's')) rmSync(sockDir, { recursive: true, force: true });
        if (ownDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await cleanup();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

interface PodStatus {
  conditions: { type: string; status: string; lastTransitionTime: string }[];
  containerStatuses: { name: string; ready: boolean; started: boolean; restartCount: number; state: unknown }[];
}

function setPodReady(store: KubeStore, ns: string, pod: string, ready: boolean): void {
  const o = store.mustGet('pods', ns, pod);
  const status = o.status as PodStatus;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const c of status.conditions) {
    if ((c.type === 'Ready' || c.type === 'ContainersReady') && c.status !== String(ready === true ? 'True' : 'False')) {
      c.status = ready ? 'True' : 'False';
      c.lastTransitionTime = now;
    }
  }
  for (const c of status.containerStatuses) c.ready = ready;
  store.update('pods', { ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
}

/** `secretName` undefined: a pod that mounts no credentials (a Vault REC with vaultMountedCredentials false). */
function podObject(rec: string, ns: string, name: string, ordinal: number, podIP: string, secretName: string | undefined, version: string): KubeObject {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const containers = ['redis-enterprise-node', 'bootstrapper'];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: {
        app: 'redis-enterprise',
        'redis.io/cluster': rec,
        'redis.io/role': 'node',
        'controller-revision-hash': `${rec}-${randomBytes(5).toString('hex')}`,
        'statefulset.kubernetes.io/pod-name': name,
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: rec, uid: `sts-${rec}`, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      hostname: name,
      subdomain: rec,
      nodeName: `sim-node-${ordinal % 3}`,
      containers: [
        {
          name: 'redis-enterprise-node',
          // The image tag is the Redis Software version the node runs.
          image: `redislabs/redis:${version}`,
          ports: [{ containerPort: 9443, name: 'api', protocol: 'TCP' }],
          volumeMounts: secretName ? [{ name: 'credentials', mountPath: '/opt/redislabs/credentials', readOnly: true }] : [],
        },
        { name: 'bootstrapper', image: 'redislabs/operator:7.22.0-7' },
      ],
      volumes: secretName ? [{ name: 'credentials', secret: { secretName, defaultMode: 420 } }] : [],
    },
    status: {
      phase: 'Running',
      podIP,
      podIPs: [{ ip: podIP }],
      hostIP: `192.168.0.${10 + (ordinal % 3)}`,
      startTime: now,
      qosClass: 'Guaranteed',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: now,
      })),
      containerStatuses: containers.map((c) => ({
        name: c,
        ready: true,
        started: true,
        restartCount: 0,
        image: c === 'bootstrapper' ? 'redislabs/operator:7.22.0-7' : `redislabs/redis:${version}`,
        state: { running: { startedAt: now } },
      })),
    },
  };
}
