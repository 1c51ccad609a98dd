// `--to-secret NAMESPACE/NAME[:KEY]`: the Secret an application reads a user's password from. The
// plugin reads the current password there and writes the new one there, with a resourceVersion
// precondition, so the password never has to pass through a terminal.
import { usageError } from '../errors/exit-codes.js';
import { KubeApiError, type KubeApi } from '../kube/api-client.js';
import { Cluster } from '../kube/cluster.js';
import { decodeSecretKey } from '../kube/resources.js';
import { StoreConflictError } from './credential-store.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// apimachinery pkg/util/validation/validation.go: IsDNS1123Subdomain (dot-separated labels, 253 at most) and
// IsConfigMapKey, which Secret data keys use (never ".", "..", nor starting with "..").
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^(?!\.$)(?!\.\.)[-._a-zA-Z0-9]{1,253}$/;

export class SecretKeyTarget {
  readonly cluster: Cluster;
  readonly location: string;

  constructor(
    api: KubeApi,
    readonly namespace: string,
    readonly name: string,
    readonly key: string,
  ) {
    this.cluster = new Cluster(api, namespace);
    this.location = `secret ${namespace}/${name} key ${key}`;
  }

  static parse(api: KubeApi, spec: string, defaultNamespace: string): SecretKeyTarget {
    const m = /^(?:([^/:]+)\/)?([^/:]+)(?::([^/:]+))?$/.exec(spec);
    const [namespace, name, key] = [m?.[1] ?? defaultNamespace, m?.[2] ?? '', m?.[3] ?? 'password'];
    if (!m || !DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name) || !SECRET_KEY.test(key)) {
      throw usageError(`--to-secret "${spec.slice(0, 120)}" is not NAMESPACE/NAME[:KEY]`, 'e.g. --to-secret apps/cache-credentials:password');
    }
    return new SecretKeyTarget(api, namespace, name, key);
  }

  toString(): string {
    return `${this.namespace}/${this.name}:${this.key}`;
  }

  async read(): Promise<{ value: string | undefined; version: string | undefined }> {
    const secret = await this.cluster.getSecret(this.name);
    if (!secret) return { value: undefined, version: undefined };
    return { value: decodeSecretKey(secret, this.key), version: secret.metadata.resourceVersion ?? '' };
  }

  /** Writes the key only if the Secret is as last read (or still absent). */
  async write(value: string, version: string | undefined): Promise<void> {
    const data = { [this.key]: Buffer.from(value, 'utf8').toString('base64') };
    try {
      if (version === undefined) {
        await this.cluster.createSecret({ metadata: { name: this.name, labels: { 'app.kubernetes.io/managed-by': 'kubectl-reccred' } }, data });
      } else {
        await this.cluster.patchSecret(this.name, { data }, version);
      }
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) throw new StoreConflictError(this.location);
      throw err;
    }
  }
}
