// The simulated applications: every running application pod reads its database user's password the way its pod
// template hands it over (an env var from `valueFrom.secretKeyRef`, the Secret's keys through `envFrom`, a file of a
// `secret` or `projected` volume) and logs in to its REC with it, again and again, as a connection pool reconnects.
// A login goes through the REC's ClusterState.authenticate, as the RERC controllers' do
// (test/sim/active-active/rerc-controller.ts), so a failed one counts towards the user's lockout like any client's
// (content/operate/rs/security/access-control/manage-users/login-lockout.md). An env var is fixed when the container
// starts (kubernetes/website content/en/docs/tasks/inject-data-application/distribute-credentials-secure.md: "If a
// container already consumes a Secret in an environment variable, a Secret update will not be seen by the container
// unless it is restarted"); a volume's files follow the Secret after the kubelet's sync delay
// (content/en/docs/concepts/configuration/secret.md, "Mounted Secrets are updated automatically"), and the
// application reads the file at each login.
import type { ClusterState } from '../redis/cluster-state.js';
import type { AppKubelet, AppProcess } from './app-kubelet.js';
import { get, matchesWorkload, parseWorkload, workloadKey, workloadName, type Obj, type WorkloadRef } from './workloads.js';

/** How a pod template hands the Secret to the application. */
export type SecretSource = 'env' | 'envFrom' | 'volume' | 'projected';

/** What a workload's application does; every field has a default. */
export interface AppBinding {
  /** The REC it logs in to (name or namespace/name); default the only REC of its namespace, else the first REC. */
  rec?: string;
  /** The login; default the `usernameKey` of the Secret as the pod sees it. */
  username?: string;
  /** Default `username`. */
  usernameKey?: string;
  /** The Secret key holding the password (the KEY of `--to-secret NS/NAME:KEY`); default `password`. */
  passwordKey?: string;
  /** The Secret it reads; default the first Secret the template names (env, envFrom, then volumes). */
  secret?: string;
  /** Which way it reads it when the template offers several; default the first of env, envFrom, volume, projected. */
  source?: SecretSource;
  /** false: the pods run without ever logging in. */
  login?: boolean;
}

/** One login by one application pod. */
export interface AppLogin {
  time: number;
  namespace: string;
  /** `deployment/app`, `statefulset/worker`, `daemonset/agent`. */
  workload: string;
  pod: string;
  rec: string;
  username: string;
  source: SecretSource;
  ok: boolean;
  /** Why it was refused (ClusterState.authenticate): a wrong password or unknown user, or a locked account. */
  reason?: 'failed' | 'locked' | 'none';
}

/** What an application pod uses now. */
export interface AppCredentials {
  username: string;
  password: string;
  source: SecretSource;
  secret: string;
}

export interface LoginFilter {
  /** Epoch ms: logins at or after it. */
  since?: number;
  /** `KIND/NAME` or `NAMESPACE/KIND/NAME`. */
  workload?: string;
  pod?: string;
  namespace?: string;
}

export interface ApplicationsOptions {
  kubelet: AppKubelet;
  /** The REC a workload's application logs in to. */
  rec: (namespace: string, rec: string | undefined) => { name: string; state: ClusterState } | undefined;
  /** How often each application pod logs in (default 200 ms). */
  intervalMs: number;
}

/** The first Secret a pod spec names (env, envFrom, secret volumes, projected volumes, in that order). */
function firstSecret(spec: Obj): string | undefined {
  const c = (get(spec, 'containers', '0') ?? {}) as Obj;
  for (const e of (c['env'] as Obj[] | undefined) ?? []) {
    const n = get(e, 'valueFrom', 'secretKeyRef', 'name');
    if (typeof n === 'string') return n;
  }
  for (const e of (c['envFrom'] as Obj[] | undefined) ?? []) {
    const n = get(e, 'secretRef', 'name');
    if (typeof n === 'string') return n;
  }
  for (const v of (spec['volumes'] as Obj[] | undefined) ?? []) {
    const n = get(v, 'secret', 'secretName');
    if (typeof n === 'string') return n;
  }
  for (const v of (spec['volumes'] as Obj[] | undefined) ?? []) {
    for (const s of (get(v, 'projected', 'sources') as Obj[] | undefined) ?? []) {
      const n = get(s, 'secret', 'name');
      if (typeof n === 'string') return n;
    }
  }
  return undefined;
}

/** A key of the Secret as the application sees it through one source, or undefined. */
function readKey(p: AppProcess, secret: string, key: string, source: SecretSource): string | undefined {
  const c = (get(p.spec, 'containers', '0') ?? {}) as Obj;
  switch (source) {
    case 'env': {
      const e = ((c['env'] as Obj[] | undefined) ?? []).find((x) => get(x, 'valueFrom', 'secretKeyRef', 'name') === secret && get(x, 'valueFrom', 'secretKeyRef', 'key') === key);
      return e ? p.env[String(e['name'])] : undefined;
    }
    case 'envFrom': {
      const e = ((c['envFrom'] as Obj[] | undefined) ?? []).find((x) => get(x, 'secretRef', 'name') === secret);
      return e ? p.env[`${typeof e['prefix'] === 'string' ? e['prefix'] : ''}${key}`] : undefined;
    }
    case 'volume':
    case 'projected': {
      for (const v of (p.spec['volumes'] as Obj[] | undefined) ?? []) {
        const refs =
          source === 'volume'
            ? get(v, 'secret', 'secretName') === secret
              ? [v['secret'] as Obj]
              : []
            : ((get(v, 'projected', 'sources') as Obj[] | undefined) ?? []).map((s) => s['secret'] as Obj | undefined).filter((s): s is Obj => !!s && s['name'] === secret);
        for (const ref of refs) {
          const items = ref['items'] as { key: string; path: string }[] | undefined;
          const path = items?.length ? items.find((i) => i.key === key)?.path : key;
          const value = path === undefined ? undefined : p.volume(String(v['name']))?.[path];
          if (value !== undefined) return value;
        }
      }
      return undefined;
    }
  }
}

const SOURCES: SecretSource[] = ['env', 'envFrom', 'volume', 'projected'];

export class Applications {
  private readonly bindings = new Map<string, AppBinding>();
  private readonly records: AppLogin[] = [];
  private timer: NodeJS.Timeout | undefined;
  private intervalMs: number;

  constructor(private readonly o: ApplicationsOptions) {
    this.intervalMs = o.intervalMs;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.loginAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  setInterval(ms: number): void {
    this.intervalMs = ms;
    if (this.timer) {
      this.stop();
      this.start();
    }
  }

  bind(workload: WorkloadRef, binding: AppBinding): void {
    this.bindings.set(workloadKey(workload), { ...binding });
  }

  private bindingOf(w: WorkloadRef): AppBinding {
    return this.bindings.get(workloadKey(w)) ?? {};
  }

  /** What the pod's application uses now; undefined when it is not running or finds no password. */
  credentials(p: AppProcess): AppCredentials | undefined {
    const b = this.bindingOf(p.workload);
    const secret = b.secret ?? firstSecret(p.spec);
    if (!secret) return undefined;
    const passwordKey = b.passwordKey ?? 'password';
    for (const source of b.source ? [b.source] : SOURCES) {
      const password = readKey(p, secret, passwordKey, source);
      if (password === undefined) continue;
      const username =
        b.username ??
        readKey(p, secret, b.usernameKey ?? 'username', source) ??
        SOURCES.map((s) => readKey(p, secret, b.usernameKey ?? 'username', s)).find((u) => u !== undefined);
      if (username === undefined) return undefined;
      return { username, password, source, secret };
    }
    return undefined;
  }

  /** One round: every running application pod logs in once. */
  loginAll(now = Date.now()): void {
    for (const p of this.o.kubelet.running()) {
      const b = this.bindingOf(p.workload);
      if (b.login === false) continue;
      const creds = this.credentials(p);
      if (!creds) continue;
      const rec = this.o.rec(p.namespace, b.rec);
      if (!rec) continue;
      const r = rec.state.authenticate(creds.username, creds.password);
      this.records.push({
        time: now,
        namespace: p.namespace,
        workload: workloadName(p.workload),
        pod: p.name,
        rec: rec.name,
        username: creds.username,
        source: creds.source,
        ok: r.ok,
        ...(r.ok ? {} : { reason: r.reason }),
      });
    }
  }

  logins(filter: LoginFilter = {}): AppLogin[] {
    const want = filter.workload ? parseWorkload(filter.workload) : undefined;
    return this.records
      .filter((r) => filter.since === undefined || r.time >= filter.since)
      .filter((r) => filter.namespace === undefined || r.namespace === filter.namespace)
      .filter((r) => filter.pod === undefined || r.pod === filter.pod)
      .filter((r) => {
        if (!want) return true;
        const [kind, name] = r.workload.split('/') as [WorkloadRef['kind'], string];
        return matchesWorkload(want, { kind, name, namespace: r.namespace });
      })
      .map((r) => ({ ...r }));
  }
}
