// One kubeconfig per simulated user, in the shape kubectl and client-node load.
import { writeFile } from 'node:fs/promises';

/**
 * A users[].user.exec entry (kubernetes/kubernetes staging/src/k8s.io/client-go/tools/clientcmd/api/v1/types.go,
 * ExecConfig): written as given, so a test can also write what kubectl refuses (v1 without interactiveMode).
 */
export interface ExecConfigInput {
  apiVersion: string;
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  provideClusterInfo?: boolean;
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
  installHint?: string;
}

export interface KubeconfigInput {
  file: string;
  server: string;
  caFile: string;
  user: string;
  /** How the user authenticates: at most one of token, clientCertificate+clientKey (both may be given with a token), exec; none: `user: {}`. */
  token?: string;
  clientCertificate?: string;
  clientKey?: string;
  exec?: ExecConfigInput;
  namespace?: string;
  clusterName?: string;
  /** clusters[].cluster.extensions entry named client.authentication.k8s.io/exec: what an exec plugin reads as spec.cluster.config. */
  execExtension?: unknown;
}

// JSON-quoted strings are valid YAML scalars, so paths and tokens need no further escaping.
const q = (s: string) => JSON.stringify(s);

function userLines(k: Omit<KubeconfigInput, 'file'>): string[] {
  const lines: string[] = [];
  if (k.token !== undefined) lines.push(`    token: ${q(k.token)}`);
  if (k.clientCertificate !== undefined) lines.push(`    client-certificate: ${q(k.clientCertificate)}`);
  if (k.clientKey !== undefined) lines.push(`    client-key: ${q(k.clientKey)}`);
  const e = k.exec;
  if (e) {
    lines.push('    exec:', `      apiVersion: ${q(e.apiVersion)}`, `      command: ${q(e.command)}`);
    if (e.args) lines.push(`      args: ${JSON.stringify(e.args)}`);
    if (e.env) lines.push('      env:', ...e.env.flatMap((v) => [`      - name: ${q(v.name)}`, `        value: ${q(v.value)}`]));
    if (e.provideClusterInfo !== undefined) lines.push(`      provideClusterInfo: ${e.provideClusterInfo}`);
    if (e.interactiveMode !== undefined) lines.push(`      interactiveMode: ${q(e.interactiveMode)}`);
    if (e.installHint !== undefined) lines.push(`      installHint: ${q(e.installHint)}`);
  }
  return lines.length ? ['  user:', ...lines] : ['  user: {}'];
}

export function kubeconfigYaml(k: Omit<KubeconfigInput, 'file'>): string {
  const cluster = k.clusterName ?? 'sim';
  const context = `${k.user}@${cluster}`;
  const extension =
    k.execExtension === undefined ? [] : ['    extensions:', '    - name: "client.authentication.k8s.io/exec"', `      extension: ${JSON.stringify(k.execExtension)}`];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${q(cluster)}`,
    '  cluster:',
    `    server: ${q(k.server)}`,
    `    certificate-authority: ${q(k.caFile)}`,
    ...extension,
    'users:',
    `- name: ${q(k.user)}`,
    ...userLines(k),
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
