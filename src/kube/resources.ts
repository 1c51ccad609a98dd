// The shapes of the Kubernetes objects the plugin reads, validated at the boundary.
import { z } from 'zod';
import { usageError } from '../errors/exit-codes.js';

/** Who set which fields, and when (server-side field tracking): read to name another writer of a Secret. */
const ManagedFieldsEntry = z
  .object({
    manager: z.string().optional(),
    operation: z.string().optional(),
    apiVersion: z.string().optional(),
    time: z.string().nullish(),
    fieldsType: z.string().optional(),
    fieldsV1: z.record(z.string(), z.unknown()).nullish(),
    subresource: z.string().optional(),
  })
  .loose();
export type ManagedFieldsEntry = z.infer<typeof ManagedFieldsEntry>;

const OwnerReference = z
  .object({ apiVersion: z.string().optional(), kind: z.string().optional(), name: z.string().optional(), uid: z.string().optional(), controller: z.boolean().nullish() })
  .loose();

export const Metadata = z
  .object({
    name: z.string(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    creationTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    ownerReferences: z.array(OwnerReference).nullish(),
    managedFields: z.array(ManagedFieldsEntry).nullish(),
  })
  .loose();

export const RecSchema = z
  .object({
    apiVersion: z.string(),
    kind: z.literal('RedisEnterpriseCluster'),
    metadata: Metadata,
    spec: z
      .object({
        username: z.string().optional(),
        clusterCredentialSecretName: z.string().optional(),
        clusterCredentialSecretType: z.enum(['kubernetes', 'vault']).optional(),
        clusterCredentialSecretRole: z.string().optional(),
        nodes: z.number().optional(),
      })
      .loose()
      .default({}),
    status: z.object({ state: z.string().optional() }).loose().optional(),
  })
  .loose();
export type Rec = z.infer<typeof RecSchema>;

export const RecListSchema = z.object({ items: z.array(RecSchema) }).loose();

export const SecretSchema = z
  .object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: Metadata,
    type: z.string().optional(),
    data: z.record(z.string(), z.string()).nullish(),
    immutable: z.boolean().nullish(),
  })
  .loose();
export type Secret = z.infer<typeof SecretSchema>;
export const SecretListSchema = z.object({ items: z.array(SecretSchema) }).loose();

export const PodSchema = z
  .object({
    metadata: Metadata,
    spec: z.object({ containers: z.array(z.object({ name: z.string() }).loose()) }).loose(),
    status: z
      .object({
        phase: z.string().optional(),
        podIP: z.string().optional(),
        conditions: z.array(z.object({ type: z.string(), status: z.string() }).loose()).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type Pod = z.infer<typeof PodSchema>;
export const PodListSchema = z.object({ items: z.array(PodSchema) }).loose();

export const ConfigMapSchema = z.object({ metadata: Metadata, data: z.record(z.string(), z.string()).nullish() }).loose();

export const AccessReviewSchema = z.object({ status: z.object({ allowed: z.boolean(), reason: z.string().optional() }).loose().optional() }).loose();

export const NamespaceSchema = z.object({ metadata: Metadata }).loose();

export function podIsReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

// fatal: bytes that are not UTF-8 are refused, never replaced by U+FFFD; ignoreBOM: a leading U+FEFF
// is part of the value, not dropped.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A Secret key's value as text. A value that is not valid UTF-8 is refused (exit 2) rather than
 * mangled: a password decoded leniently would be sent altered and fail a login, which counts towards
 * the lockout. The message names the key, never the value.
 */
export function decodeSecretKey(secret: Secret, key: string): string | undefined {
  const v = secret.data?.[key];
  if (v === undefined) return undefined;
  try {
    return strictUtf8.decode(Buffer.from(v, 'base64'));
  } catch {
    const where = `secret ${secret.metadata.namespace ? `${secret.metadata.namespace}/` : ''}${secret.metadata.name}`;
    throw usageError(
      `key "${key}" of ${where} is not valid UTF-8 text; the plugin does not send an altered copy of it`,
      `the REST API takes credentials as UTF-8 text: store the value there as UTF-8 (the one the cluster accepts), then run the command again`,
    );
  }
}
