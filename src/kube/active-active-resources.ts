// The Active-Active custom resources (RedisLabs/redis-enterprise-k8s-docs crds/rerc_crd.yaml and
// crds/reaadb_crd.yaml, app.redislabs.com/v1alpha1): the remote-cluster entries that carry each REC's
// admin credentials to the other participating clusters, and the databases that use them.
import { z } from 'zod';
import { KubeApiError } from './api-client.js';
import { Cluster } from './cluster.js';
import { Metadata } from './resources.js';

export const RercSchema = z
  .object({
    metadata: Metadata,
    spec: z
      .object({
        recName: z.string(),
        recNamespace: z.string(),
        apiFqdnUrl: z.string().optional(),
        // crds/rerc_crd.yaml: "Must use the following format: "redis-enterprise-<RERC name>"."
        secretName: z.string().optional(),
      })
      .loose(),
    status: z
      .object({
        status: z.string().optional(),
        specStatus: z.string().optional(),
        local: z.boolean().optional(),
        observedGeneration: z.number().optional(),
        // "Observed secret resource version. For internal use only."
        internalObservedSecretResourceVersion: z.string().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type Rerc = z.infer<typeof RercSchema>;

export const ReaadbSchema = z
  .object({
    metadata: Metadata,
    spec: z.object({ participatingClusters: z.array(z.object({ name: z.string(), namespace: z.string().optional() }).loose()).optional() }).loose(),
    status: z
      .object({
        status: z.string().optional(),
        specStatus: z.string().optional(),
        // "This status doesn't include the replication link (data path) status": replicationStatus does.
        replicationStatus: z.string().optional(),
        // "GUID of the Active-Active database": the CRDB the REC's REST API lists (GET /v1/crdbs).
        guid: z.string().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type Reaadb = z.infer<typeof ReaadbSchema>;

const RercList = z.object({ items: z.array(RercSchema) }).loose();
const ReaadbList = z.object({ items: z.array(ReaadbSchema) }).loose();
const PATH = '/apis/app.redislabs.com/v1alpha1';

/** The Secret an RERC names, or the documented default `redis-enterprise-<RERC name>`. */
export const rercSecretName = (rerc: Rerc): string => rerc.spec.secretName ?? `redis-enterprise-${rerc.metadata.name}`;

/**
 * Every RERC the caller can list: across namespaces where allowed, else in the cluster's namespace.
 * Undefined when the API server does not serve the resource (no Active-Active CRDs installed).
 */
export async function listRercs(cluster: Cluster): Promise<Listed<Rerc>> {
  return listEither(cluster, 'redisenterpriseremoteclusters', RercList);
}

export async function listReaadbs(cluster: Cluster): Promise<Listed<Reaadb>> {
  return listEither(cluster, 'redisenterpriseactiveactivedatabases', ReaadbList);
}

/** What a list found (undefined: the resource is not served), and whether it covered every namespace. */
export interface Listed<T> {
  items: T[] | undefined;
  everywhere: boolean;
}

export async function getRerc(cluster: Cluster, name: string): Promise<Rerc> {
  return cluster.api.request('GET', `${PATH}/namespaces/${cluster.namespace}/redisenterpriseremoteclusters/${name}`, RercSchema);
}

/**
 * Across namespaces when an access review says the caller may (RERCs may sit beside the REAADBs, in any
 * namespace), else in the cluster's namespace: a refused list would show in the API server's audit log as
 * a denied request of a Role that is complete for the namespace.
 */
async function listEither<T>(cluster: Cluster, resource: string, schema: z.ZodType<{ items: T[] }>): Promise<Listed<T>> {
  const everywhere = await new Cluster(cluster.api, '').canI({ verb: 'list', resource, group: 'app.redislabs.com' });
  const path = everywhere ? `${PATH}/${resource}` : `${PATH}/namespaces/${cluster.namespace}/${resource}`;
  try {
    return { items: (await cluster.api.request('GET', path, schema)).items, everywhere };
  } catch (err) {
    // Not served: no Active-Active CRDs in this cluster.
    if (err instanceof KubeApiError && err.status === 404) return { items: undefined, everywhere };
    throw err;
  }
}
