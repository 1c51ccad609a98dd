// Edge cases of telling who writes a Secret (src/procedures/managed-secret.ts) and of the sim's field
// tracking (test/sim/kube/managed-fields.ts), cheaper here than end to end.
import assert from 'node:assert/strict';
import type { Secret } from '../../src/kube/resources.js';
import { isBenignManager, lastWriteOf, secretWriters } from '../../src/procedures/managed-secret.js';
import { managerOrUserAgent, sameFields, updateManagedFields } from '../sim/kube/managed-fields.js';
import type { KubeObject } from '../sim/kube/store.js';

const DATA = { 'f:data': { '.': {}, 'f:password': {}, 'f:username': {} } };
const entry = (manager: string, fieldsV1: Record<string, unknown> = DATA, time = '2025-01-01T00:00:00Z', operation = 'Update') => ({
  manager,
  operation,
  apiVersion: 'v1',
  time,
  fieldsType: 'FieldsV1',
  fieldsV1,
});
const secret = (metadata: Partial<Secret['metadata']>, extra: Partial<Secret> = {}): Secret => ({ metadata: { name: 'rec', namespace: 'redis', ...metadata }, data: {}, ...extra });

describe('who writes a credential Secret', () => {
  it('people with kubectl, this plugin and the Redis operator are not controllers', () => {
    for (const m of [
      'kubectl-create',
      'kubectl-edit',
      'kubectl-patch',
      'kubectl-client-side-apply',
      'kubectl',
      'kubectl-reccred',
      'redis-enterprise-operator',
      'operator-root',
      'before-first-apply',
    ]) {
      assert.equal(isBenignManager(m), true, m);
      assert.deepEqual(secretWriters(secret({ managedFields: [entry(m)] })).writers, [], m);
    }
    assert.equal(isBenignManager('argocd-controller'), false);
  });

  it('a manager that never set the data (only an annotation) is not a writer of the credentials', () => {
    const s = secret({ managedFields: [entry('reflector', { 'f:metadata': { 'f:annotations': { 'f:x': {} } } })] });
    assert.deepEqual(secretWriters(s).writers, []);
  });

  it('an unknown manager that set the data is named as it is', () => {
    const { writers } = secretWriters(secret({ managedFields: [entry('my-sync-job')] }));
    assert.equal(writers.length, 1);
    assert.match(writers[0]!.controller, /"my-sync-job"/);
  });

  it('the REC as owner is the operator itself; any other owner is a controller', () => {
    assert.deepEqual(secretWriters(secret({ ownerReferences: [{ apiVersion: 'app.redislabs.com/v1', kind: 'RedisEnterpriseCluster', name: 'rec', uid: 'u' }] })).writers, []);
    const vso = secretWriters(secret({ ownerReferences: [{ apiVersion: 'secrets.hashicorp.com/v1beta1', kind: 'VaultStaticSecret', name: 'creds', uid: 'u' }] })).writers;
    assert.equal(vso[0]?.controller, 'Vault Secrets Operator');
  });

  it('evidence of one controller is grouped: ownerReference, label and manager of External Secrets are one writer', () => {
    const s = secret({
      ownerReferences: [{ apiVersion: 'external-secrets.io/v1beta1', kind: 'ExternalSecret', name: 'rec', uid: 'u' }],
      labels: { 'reconcile.external-secrets.io/managed': 'true' },
      managedFields: [entry('external-secrets')],
    });
    const { writers } = secretWriters(s);
    assert.equal(writers.length, 1);
    assert.equal(writers[0]!.evidence.length, 3);
  });

  it('a Flux HelmRelease is named as such, not as plain Helm, though it sets Helm annotations too', () => {
    const s = secret({
      labels: { 'helm.toolkit.fluxcd.io/name': 'redis', 'helm.toolkit.fluxcd.io/namespace': 'flux-system' },
      annotations: { 'meta.helm.sh/release-name': 'redis', 'meta.helm.sh/release-namespace': 'redis' },
    });
    const { writers } = secretWriters(s);
    assert.deepEqual(
      writers.map((w) => w.controller),
      ['Flux (HelmRelease)'],
    );
    assert.match(writers[0]!.advice, /flux suspend helmrelease redis -n flux-system/);
  });

  it('app.kubernetes.io/instance alone is a note; beside an Argo CD sign the note is not repeated', () => {
    let r = secretWriters(secret({ labels: { 'app.kubernetes.io/instance': 'redis' } }));
    assert.deepEqual(r.writers, []);
    assert.equal(r.notes.length, 1);
    r = secretWriters(secret({ labels: { 'app.kubernetes.io/instance': 'redis' }, annotations: { 'argocd.argoproj.io/tracking-id': 'redis:/Secret:redis/rec' } }));
    assert.deepEqual(
      r.writers.map((w) => w.controller),
      ['Argo CD'],
    );
    assert.deepEqual(r.notes, []);
  });

  it('the last writer of a key is its owner, even when another entry is newer; on a tie, not this plugin', () => {
    const s = secret({
      managedFields: [
        entry('external-secrets', { 'f:data': { 'f:password': {} } }, '2025-01-01T00:00:05Z'),
        entry('kubectl-label', { 'f:metadata': { 'f:labels': { 'f:x': {} } } }, '2025-01-01T00:09:00Z'),
      ],
    });
    assert.deepEqual(lastWriteOf(s, ['password'], 'kubectl-reccred'), { manager: 'external-secrets', operation: 'Update', time: '2025-01-01T00:00:05Z', ownsKeys: true });
    const tie = secret({ managedFields: [entry('kubectl-reccred', DATA, '2025-01-01T00:00:05Z'), entry('argocd-controller', DATA, '2025-01-01T00:00:05Z', 'Apply')] });
    assert.equal(lastWriteOf(tie, ['password'], 'kubectl-reccred')?.manager, 'argocd-controller');
    assert.equal(lastWriteOf(secret({}), ['password'], 'kubectl-reccred'), undefined);
  });
});

describe('the sim keeps managedFields as the API server does', () => {
  const obj = (data: Record<string, string>, labels?: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's', namespace: 'd', uid: 'u', resourceVersion: '3', ...(labels ? { labels } : {}) },
    type: 'Opaque',
    data,
  });

  it('the manager is ?fieldManager=, else the User-Agent before its first "/", printable, at most 128 bytes', () => {
    assert.equal(managerOrUserAgent('mine', 'kubectl/v1.31'), 'mine');
    assert.equal(managerOrUserAgent(null, 'kubectl/v1.31.0 (linux/amd64) kubernetes/abc'), 'kubectl');
    assert.equal(managerOrUserAgent(null, 'odd\u0007name/1'), 'oddname');
    assert.equal(managerOrUserAgent(null, 'x'.repeat(300)).length, 128);
    assert.equal(managerOrUserAgent(undefined, undefined), '');
  });

  it('an update moves the fields it changed to its manager; unchanged ones stay; removed ones leave every set', () => {
    const t0 = new Date('2025-01-01T00:00:00.500Z');
    const created = obj({ username: 'dQ==', password: 'cA==' }, { a: 'b' });
    created.metadata.managedFields = updateManagedFields(undefined, created, 'kubectl-create', 'v1', undefined, t0);
    assert.deepEqual(created.metadata.managedFields, [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2025-01-01T00:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { '.': {}, 'f:password': {}, 'f:username': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } }, 'f:type': {} },
      },
    ]);
    const next = structuredClone(created);
    next['data'] = { username: 'dQ==', password: 'cTI=' };
    delete next.metadata.labels;
    const mf = updateManagedFields(created, next, 'external-secrets', 'v1', undefined, new Date('2025-01-01T00:01:00Z'));
    assert.deepEqual(
      mf.map((e) => [e.manager, e.time, e.fieldsV1]),
      [
        ['kubectl-create', '2025-01-01T00:00:00Z', { 'f:data': { '.': {}, 'f:username': {} }, 'f:type': {} }],
        ['external-secrets', '2025-01-01T00:01:00Z', { 'f:data': { 'f:password': {} } }],
      ],
    );
    assert.equal(sameFields(created, structuredClone(created)), true);
    assert.equal(sameFields(created, next), false);
  });
});
