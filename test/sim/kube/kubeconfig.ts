// One kubeconfig per simulated user, in the shape kubectl and client-node load.
import { writeFile } from 'node:fs/promises';

export interface KubeconfigInput {
  file: string;
  server: string;
  caFile: string;
  user: string;
  token: string;
  namespace?: string;
  clusterName?: string;
}

// JSON-quoted strings are valid YAML scalars, so paths and tokens need no further escaping.
const q = (s: string) => JSON.stringify(s);

export function kubeconfigYaml(k: Omit<KubeconfigInput, 'file'>): string {
  const cluster = k.clusterName ?? 'sim';
  const context = `${k.user}@${cluster}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${q(cluster)}`,
    '  cluster:',
    `    server: ${q(k.server)}`,
    `    certificate-authority: ${q(k.caFile)}`,
    'users:',
    `- name: ${q(k.user)}`,
    '  user:',
    `    token: ${q(k.token)}`,
    'contexts:',
    `- name: ${q(context)}`,
    '  context:',
    `    cluster: ${q(cluster)}`,
    `    user: ${q(k.user)}`,
    `    namespace: ${q(k.namespace ?? 'default')}`,
    `current-context: ${q(context)}`,
    'preferences: {}',
    '',
  ].join('\n');
}

export async function writeKubeconfig(k: KubeconfigInput): Promise<void> {
  await writeFile(k.file, kubeconfigYaml(k), { mode: 0o600 });
}
