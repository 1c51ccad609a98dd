// The operator's RedisEnterpriseUser resource (operator 8.2.0-12, redis/docs
// content/operate/kubernetes/reference/api/redis_enterprise_user_api.md): a Redis Software user the
// operator creates and keeps in sync with the password Secrets the resource names. Typed and validated
// here, read and patched with preconditions; the Secrets it references are created here too.
import { z } from 'zod';
import { FIELD_MANAGER, KubeApiError } from './api-client.js';
import type { Cluster } from './cluster.js';
import { SecretSchema, type Secret } from './resources.js';

export const REU_GROUP = 'app.redislabs.com';
export const REU_RESOURCE = 'redisenterpriseusers';
const PATH = `/apis/${REU_GROUP}/v1alpha1`;

export const RedisEnterpriseUserSchema = z
  .object({
    metadata: z
      .object({
        name: z.string(),
        namespace: z.string().optional(),
        resourceVersion: z.string().optional(),
        generation: z.number().optional(),
      })
      .loose(),
    spec: z
      .object({
        email: z.string().optional(),
        username: z.string().optional(),
        /** "When empty, Single behavior is used." */
        passwordMode: z.string().optional(),
        authMethod: z.string().optional(),
        passwordSecrets: z.array(z.object({ name: z.string() }).loose()).nullish(),
      })
      .loose()
      .default({}),
    status: z
      .object({
        uid: z.union([z.string(), z.number()]).optional(),
        username: z.string().optional(),
        signinStatus: z.string().optional(),
        passwordIssueDate: z.string().optional(),
        passwordSecrets: z.array(z.object({ name: z.string().optional(), version: z.string().optional() }).loose()).nullish(),
        observedGeneration: z.number().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type RedisEnterpriseUser = z.infer<typeof RedisEnterpriseUserSchema>;
const ListSchema = z.object({ items: z.array(RedisEnterpriseUserSchema) }).loose();

/** The resource's password mode; "When empty, Single behavior is used" (the API reference), so `||`. */
// eslint-disable-next-line @typescript-eslint/prefer-nullish-coalescing
export const passwordModeOf = (u: RedisEnterpriseUser): string => u.spec.passwordMode || 'Single';
export const passwordSecretsOf = (u: RedisEnterpriseUser): string[] => (u.spec.passwordSecrets ?? []).map((s) => s.name);

/**
 * The resources of a namespace, or why they cannot be listed: `absent` when the API server does not
 * serve the kind (an operator before 8.2.0-12, 404), `forbidden` when this account may not list them.
 */
export async function listRedisEnterpriseUsers(cluster: Cluster): Promise<RedisEnterpriseUser[] | 'absent' | 'forbidden'> {
  try {
    return (await cluster.api.request('GET', `${PATH}/namespaces/${cluster.namespace}/${REU_RESOURCE}`, ListSchema)).items;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return 'absent';
    if (err instanceof KubeApiError && err.status === 403) return 'forbidden';
    throw err;
  }
}

export async function getRedisEnterpriseUser(cluster: Cluster, name: string): Promise<RedisEnterpriseUser | undefined> {
  try {
    return await cluster.api.request('GET', `${PATH}/namespaces/${cluster.namespace}/${REU_RESOURCE}/${name}`, RedisEnterpriseUserSchema);
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

/**
 * Sets spec.passwordSecrets (a merge patch replaces the whole list); refused with 409 when the resource
 * changed since `resourceVersion` was read.
 */
export async function patchPasswordSecrets(cluster: Cluster, name: string, secrets: string[], resourceVersion: string): Promise<RedisEnterpriseUser> {
  return cluster.api.request('PATCH', `${PATH}/namespaces/${cluster.namespace}/${REU_RESOURCE}/${name}`, RedisEnterpriseUserSchema, {
    query: { fieldManager: FIELD_MANAGER },
    body: { metadata: { resourceVersion }, spec: { passwordSecrets: secrets.map((s) => ({ name: s })) } },
    contentType: 'application/merge-patch+json',
  });
}

/**
 * Creates a password Secret as the resource wants it: key `password`, and immutable, as the operator
 * would make it anyway in Rotatable mode (manage-users.md). 409 when the name is taken.
 */
export async function createPasswordSecret(cluster: Cluster, name: string, password: string, labels: Record<string, string>): Promise<Secret> {
  return cluster.api.request('POST', `/api/v1/namespaces/${cluster.namespace}/secrets`, SecretSchema, {
    query: { fieldManager: FIELD_MANAGER },
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name, labels },
      immutable: true,
      data: { password: Buffer.from(password, 'utf8').toString('base64') },
    },
  });
}
