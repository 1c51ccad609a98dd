// The Kubernetes objects a credential procedure touches: the REC, its pods, Secrets, the operator's
// ConfigMap, and access reviews. Errors come back as KubeApiError; callers turn them into user messages.
import { z } from 'zod';
import { FIELD_MANAGER, KubeApi, KubeApiError } from './api-client.js';
import {
  AccessReviewSchema,
  ConfigMapSchema,
  NamespaceSchema,
  PodListSchema,
  RecListSchema,
  RecSchema,
  SecretListSchema,
  SecretSchema,
  type Pod,
  type Rec,
  type Secret,
} from './resources.js';

const REC_PATH = '/apis/app.redislabs.com/v1';
const Anything = z.unknown();
/** Creates and patches name their field manager (a delete has none). */
const AS_MANAGER = { fieldManager: FIELD_MANAGER };

export interface AccessCheck {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  name?: string;
}

/** Access review answers by namespace and check; a fleet run shares one between the RECs of a namespace. */
export type AccessCache = Map<string, Promise<boolean>>;

export class Cluster {
  constructor(
    readonly api: KubeApi,
    readonly namespace: string,
    private readonly accessCache?: AccessCache,
  ) {}

  async getRec(name: string): Promise<Rec> {
    return this.api.request('GET', `${REC_PATH}/namespaces/${this.namespace}/redisenterpriseclusters/${name}`, RecSchema);
  }

  async listRecs(allNamespaces = false, labelSelector?: string): Promise<Rec[]> {
    const path = allNamespaces ? `${REC_PATH}/redisenterpriseclusters` : `${REC_PATH}/namespaces/${this.namespace}/redisenterpriseclusters`;
    return (await this.api.request('GET', path, RecListSchema, { query: { labelSelector } })).items;
  }

  async patchRec(name: string, patch: unknown): Promise<Rec> {
    return this.api.request('PATCH', `${REC_PATH}/namespaces/${this.namespace}/redisenterpriseclusters/${name}`, RecSchema, {
      query: AS_MANAGER,
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  async namespaceExists(): Promise<boolean> {
    try {
      await this.api.request('GET', `/api/v1/namespaces/${this.namespace}`, NamespaceSchema);
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      // Forbidden to read namespaces says nothing about existence.
      return true;
    }
  }

  async listRecPods(rec: string): Promise<Pod[]> {
    const selector = `app=redis-enterprise,redis.io/cluster=${rec},redis.io/role=node`;
    const list = await this.api.request('GET', `/api/v1/namespaces/${this.namespace}/pods`, PodListSchema, {
      query: { labelSelector: selector },
    });
    return list.items.sort((a, b) => podOrdinal(a) - podOrdinal(b));
  }

  async getSecret(name: string): Promise<Secret | undefined> {
    try {
      return await this.api.request('GET', `/api/v1/namespaces/${this.namespace}/secrets/${name}`, SecretSchema);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async listSecrets(labelSelector: string): Promise<Secret[]> {
    return (await this.api.request('GET', `/api/v1/namespaces/${this.namespace}/secrets`, SecretListSchema, { query: { labelSelector } })).items;
  }

  async createSecret(secret: { metadata: Record<string, unknown>; data: Record<string, string>; type?: string }): Promise<Secret> {
    return this.api.request('POST', `/api/v1/namespaces/${this.namespace}/secrets`, SecretSchema, {
      query: AS_MANAGER,
      body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', ...secret },
    });
  }

  /** JSON merge patch; with resourceVersion set the API server refuses (409) if the Secret changed since it was read. */
  async patchSecret(name: string, patch: { data?: Record<string, string | null>; annotations?: Record<string, string> }, resourceVersion?: string): Promise<Secret> {
    const metadata = { ...(resourceVersion ? { resourceVersion } : {}), ...(patch.annotations ? { annotations: patch.annotations } : {}) };
    const body = { ...(patch.data ? { data: patch.data } : {}), ...(Object.keys(metadata).length ? { metadata } : {}) };
    return this.api.request('PATCH', `/api/v1/namespaces/${this.namespace}/secrets/${name}`, SecretSchema, {
      query: AS_MANAGER,
      body,
      contentType: 'application/merge-patch+json',
    });
  }

  async deleteSecret(name: string, resourceVersion?: string): Promise<void> {
    try {
      await this.api.request('DELETE', `/api/v1/namespaces/${this.namespace}/secrets/${name}`, Anything, {
        body: resourceVersion ? { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion } } : undefined,
      });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return;
      throw err;
    }
  }

  async getConfigMap(name: string): Promise<Record<string, string> | undefined> {
    try {
      return (await this.api.request('GET', `/api/v1/namespaces/${this.namespace}/configmaps/${name}`, ConfigMapSchema)).data ?? {};
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 404 || err.status === 403)) return undefined;
      throw err;
    }
  }

  /** SelfSubjectAccessReview, as `kubectl auth can-i` does it. */
  async canI(check: AccessCheck): Promise<boolean> {
    if (!this.accessCache) return this.review(check);
    const key = JSON.stringify([this.namespace, check.verb, check.group ?? '', check.resource, check.subresource ?? '', check.name ?? '']);
    let answer = this.accessCache.get(key);
    if (!answer) {
      answer = this.review(check);
      this.accessCache.set(key, answer);
      // A failed review is not an answer: the next REC asks again.
      answer.catch(() => this.accessCache?.delete(key));
    }
    return answer;
  }

  private async review(check: AccessCheck): Promise<boolean> {
    const review = await this.api.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', AccessReviewSchema, {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace: this.namespace, ...check, group: check.group ?? '' } },
      },
    });
    return review.status?.allowed === true;
  }
}

function podOrdinal(pod: Pod): number {
  const m = /-(\d+)$/.exec(pod.metadata.name);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}
