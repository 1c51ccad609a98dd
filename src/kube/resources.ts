// The shapes of the Kubernetes objects the plugin reads, validated at the boundary.
import { z } from 'zod';

const Metadata = z
  .object({
    name: z.string(),
    namespace: z.string().optional(),
    resourceVersion: z.string().optional(),
    creationTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();

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
      .passthrough()
      .default({}),
    status: z.object({ state: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();
export type Rec = z.infer<typeof RecSchema>;

export const RecListSchema = z.object({ items: z.array(RecSchema) }).passthrough();

export const SecretSchema = z
  .object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: Metadata,
    type: z.string().optional(),
    data: z.record(z.string(), z.string()).nullish(),
  })
  .passthrough();
export type Secret = z.infer<typeof SecretSchema>;
export const SecretListSchema = z.object({ items: z.array(SecretSchema) }).passthrough();

export const PodSchema = z
  .object({
    metadata: Metadata,
    spec: z.object({ containers: z.array(z.object({ name: z.string() }).passthrough()) }).passthrough(),
    status: z
      .object({
        phase: z.string().optional(),
        podIP: z.string().optional(),
        conditions: z.array(z.object({ type: z.string(), status: z.string() }).passthrough()).optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();
export type Pod = z.infer<typeof PodSchema>;
export const PodListSchema = z.object({ items: z.array(PodSchema) }).passthrough();

export const ConfigMapSchema = z
  .object({ metadata: Metadata, data: z.record(z.string(), z.string()).nullish() })
  .passthrough();

export const AccessReviewSchema = z
  .object({ status: z.object({ allowed: z.boolean(), reason: z.string().optional() }).passthrough().optional() })
  .passthrough();

export const NamespaceSchema = z.object({ metadata: Metadata }).passthrough();

export function podIsReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function decodeSecretKey(secret: Secret, key: string): string | undefined {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}
