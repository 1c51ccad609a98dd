// kubeconfig resolution must pick what kubectl picks; the real kubectl is the oracle.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';

function kubectlView(env: NodeJS.ProcessEnv, args: string[]): { cluster: string; user: string; namespace: string; context: string } {
  const out = execFileSync('kubectl', ['config', 'view', '--minify', '-o', 'json', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const doc = JSON.parse(out);
  return {
    cluster: doc.clusters[0].name,
    user: doc.users[0]?.name ?? '',
    namespace: doc.contexts[0].context.namespace ?? 'default',
    context: doc['current-context'],
  };
}

describe('kubeconfig resolution matches kubectl', () => {
  let dir: string;
  let a: string;
  let b: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-kc-'));
    a = path.join(dir, 'a.yaml');
    // A kubeconfig's files must be readable, as kubectl's own validation asks before any request.
    fs.writeFileSync(path.join(dir, 'ca.crt'), '');
    b = path.join(dir, 'b.yaml');
    fs.writeFileSync(
      a,
      `apiVersion: v1
kind: Config
current-context: ctx-a
clusters:
- name: shared
  cluster: { server: "https://a.example:6443", certificate-authority: ca.crt }
- name: only-a
  cluster: { server: "https://only-a.example:6443" }
users:
- name: u
  user: { token: from-a }
contexts:
- name: ctx-a
  context: { cluster: shared, user: u, namespace: ns-a }
- name: dup
  context: { cluster: only-a, user: u, namespace: first }
`,
    );
    fs.writeFileSync(
      b,
      `apiVersion: v1
kind: Config
current-context: ctx-b
clusters:
- name: shared
  cluster: { server: "https://b.example:6443" }
users:
- name: u
  user: { token: from-b }
contexts:
- name: ctx-b
  context: { cluster: shared, user: u }
- name: dup
  context: { cluster: shared, user: u, namespace: second }
`,
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases: Array<{ name: string; env: Record<string, string>; flags: { context?: string; namespace?: string; kubeconfig?: string } }> = [
    { name: 'first file sets current-context and wins on duplicates', env: {}, flags: {} },
    { name: '--context picks the first definition of a duplicated context', env: {}, flags: { context: 'dup' } },
    { name: '--context from the second file, cluster from the first', env: {}, flags: { context: 'ctx-b' } },
    { name: '-n overrides the context namespace', env: {}, flags: { context: 'ctx-a', namespace: 'flag-ns' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const env = { KUBECONFIG: `${a}:${b}`, ...c.env };
      const args = [...(c.flags.context ? ['--context', c.flags.context] : []), ...(c.flags.namespace ? ['-n', c.flags.namespace] : [])];
      const want = kubectlView(env, args);
      const got = resolveKubeconfig(c.flags, { ...process.env, ...env });
      assert.equal(got.contextName, want.context);
      assert.equal(got.cluster.name, want.cluster);
      assert.equal(got.user.name, want.user);
      // kubectl config view prints the context's namespace; -n applies on top of it.
      assert.equal(got.namespace, c.flags.namespace ?? want.namespace);
    });
  }

  it('takes cluster and user values from the first file that defines them', () => {
    const got = resolveKubeconfig({}, { ...process.env, KUBECONFIG: `${a}:${b}` });
    assert.equal(got.cluster.cluster.server, 'https://a.example:6443');
    assert.equal(got.user.user.token, 'from-a');
    assert.equal(got.cluster.cluster['certificate-authority'], path.join(dir, 'ca.crt'));
  });

  it('--kubeconfig replaces KUBECONFIG', () => {
    const got = resolveKubeconfig({ kubeconfig: b }, { ...process.env, KUBECONFIG: a });
    assert.equal(got.contextName, 'ctx-b');
    assert.equal(got.namespace, 'default');
  });

  it('says what to do when the context does not exist', () => {
    assert.throws(() => resolveKubeconfig({ context: 'nope' }, { ...process.env, KUBECONFIG: a }), /context "nope" does not exist/);
  });
});
