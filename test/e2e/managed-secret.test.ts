// Other writers of the credential Secret (issue 12, SPEC 3.3(d)): GitOps and secret-sync controllers put
// their own value back while a rotation waits. The real executable, through the real kubectl, against
// the sim, whose API server keeps managedFields, honours `immutable` and runs such a controller. Every
// plugin run goes through the reliability guard (no failed REST login per run; leak scan at the end),
// and the operator components' own logins are counted too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ResultSchema } from '../../src/output/result.js';
import { Guard } from '../reliability/guard.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import type { ManagedFieldsEntry } from '../sim/kube/managed-fields.js';
import type { SecretController } from '../sim/kube/secret-controller.js';
import type { KubeObject } from '../sim/kube/store.js';
import { journalExists, journalPhaseOf, validPasswords } from './harness.js';

const NS = 'default';
const REC = 'rec';
const VREC = 'rec-vault';
const FAST = ['--settle', '2s', '--propagation-timeout', '30s'];

type Creds = { username: string; password: string };

describe('credential Secrets written by a controller (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  let guard: Guard;
  const started = Date.now();
  let controller: SecretController | undefined;

  const creds = (): Creds => sim.credentials(REC)!;
  const secret = (name = REC) => sim.store.get('secrets', NS, name) as KubeObject & { data?: Record<string, string>; immutable?: boolean };
  const managedFields = (name = REC) => (secret(name).metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const journalRecord = (name = `${REC}-reccred-journal`) => {
    const s = sim.store.get('secrets', NS, name) as { data?: Record<string, string> } | undefined;
    return s?.data?.['journal.json'] ? JSON.parse(Buffer.from(s.data['journal.json'], 'base64').toString('utf8')) : undefined;
  };
  const operatorFailures = () => sim.operator.failures(REC).length;
  const recUsername = () => (sim.store.get('redisenterpriseclusters', NS, REC)!.spec as { username: string }).username;
  /** With no operation in flight: the store's user accepts exactly the stored password, and no journal is left. */
  const assertSettled = () => {
    assert.equal(journalExists(sim, NS, REC), false, 'no journal is left');
    const { username, password } = creds();
    assert.deepEqual(validPasswords(sim, REC, username), [password], 'the cluster accepts exactly the stored password');
  };
  /**
   * As if the controller were gone and its traces cleared: managedFields keep naming the last writer of
   * each field (a real server clears them when asked with managedFields: [{}]), which the preflight reads.
   */
  const forgetWriters = (name = REC) => {
    const s = secret(name);
    const kept = managedFields(name).filter((e) => e.manager.startsWith('kubectl'));
    sim.store.update('secrets', { ...s, metadata: { ...s.metadata, managedFields: kept, resourceVersion: undefined } });
  };
  /** Starts the sim's controller as soon as the rotation's journal reaches `phase` (the settle wait follows it). */
  const controllerAt = (phase: string, start: () => SecretController) => {
    const off = sim.store.onChange((e) => {
      if (!controller && journalPhaseOf(e) === phase) controller = start();
    });
    return off;
  };
  /** The real kubectl (asynchronously: the sim answers from this process). */
  const kubectl = (args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-kcache-'));
    const child = spawn('kubectl', ['--kubeconfig', sim.kubeconfig, '--cache-dir', cache, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input ?? '');
    return new Promise((resolve) =>
      child.on('close', (code) => {
        fs.rmSync(cache, { recursive: true, force: true });
        resolve({ code, stdout, stderr });
      }),
    );
  };

  before(async () => {
    sim = await startSimCluster({
      recs: [
        { name: REC, namespace: NS, pods: 3 },
        { name: VREC, namespace: NS, pods: 1, secretType: 'vault' },
      ],
      syncDelayMs: 800,
      operatorIntervalMs: 250,
      vaultCacheSeconds: 2,
    });
    guard = new Guard(sim);
  });
  after(async () => {
    await controller?.stop();
    guard?.dispose();
    await sim?.stop();
  });
  afterEach(async function () {
    await controller?.stop();
    controller = undefined;
    if (this.currentTest?.state !== 'failed') return;
    // One failed scenario must not cascade: back to a settled state.
    const { username, password } = creds();
    const user = sim.redis(REC).findUser(username);
    if (user) user.passwords = [password];
    sim.redis(REC).unlock(username);
    for (const s of sim.store.list('secrets', NS)) if (s.metadata.name.includes('-reccred-journal')) sim.store.delete('secrets', NS, s.metadata.name);
    forgetWriters();
  });

  describe('the simulated API server', () => {
    it('keeps managedFields: the manager from ?fieldManager= or the User-Agent, Update, time, FieldsV1 of the fields it set', async () => {
      const created = await kubectl(['create', 'secret', 'generic', 'mf-demo', '-n', NS, '--from-literal=username=a@b.c', '--from-literal=password=Initial-Value-1']);
      assert.equal(created.code, 0, created.stderr);
      let entries = managedFields('mf-demo');
      assert.equal(entries.length, 1);
      assert.equal(entries[0]!.manager, 'kubectl-create');
      assert.equal(entries[0]!.operation, 'Update');
      assert.equal(entries[0]!.apiVersion, 'v1');
      assert.equal(entries[0]!.fieldsType, 'FieldsV1');
      assert.match(entries[0]!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.deepEqual(entries[0]!.fieldsV1, { 'f:data': { '.': {}, 'f:password': {}, 'f:username': {} }, 'f:type': {} });

      const patched = await kubectl(['patch', 'secret', 'mf-demo', '-n', NS, '--type', 'merge', '-p', '{"stringData":{"password":"Second-Value-2"}}']);
      assert.equal(patched.code, 0, patched.stderr);
      entries = managedFields('mf-demo');
      const by = (m: string) => entries.find((e) => e.manager === m)?.fieldsV1;
      assert.deepEqual(by('kubectl-create'), { 'f:data': { '.': {}, 'f:username': {} }, 'f:type': {} }, 'the changed field left its previous manager');
      assert.deepEqual(by('kubectl-patch'), { 'f:data': { 'f:password': {} } });

      // No fieldManager: the User-Agent's product name, as kube-apiserver derives it.
      const rv = secret('mf-demo').metadata.resourceVersion;
      const status = await rawPatch(sim, 'mf-demo', { data: { password: Buffer.from('Third-Value-3').toString('base64') } }, 'some-operator/1.2.3 (linux/amd64) abc/def');
      assert.equal(status, 200);
      assert.deepEqual(managedFields('mf-demo').find((e) => e.manager === 'some-operator')?.fieldsV1, { 'f:data': { 'f:password': {} } });
      assert.equal(
        managedFields('mf-demo').some((e) => e.manager === 'kubectl-patch'),
        false,
        'a manager left with no field is dropped',
      );
      assert.notEqual(secret('mf-demo').metadata.resourceVersion, rv);

      // A write that changes nothing is not stored.
      const rv2 = secret('mf-demo').metadata.resourceVersion;
      assert.equal(await rawPatch(sim, 'mf-demo', { data: { password: Buffer.from('Third-Value-3').toString('base64') } }, 'other/1.0'), 200);
      assert.equal(secret('mf-demo').metadata.resourceVersion, rv2);
      assert.equal(
        managedFields('mf-demo').some((e) => e.manager === 'other'),
        false,
      );
    });

    it('refuses to change the data of an immutable Secret: 422 Invalid, as Kubernetes answers', async () => {
      const created = await kubectl(
        ['create', '--validate=false', '-n', NS, '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mf-frozen' }, immutable: true, data: { k: 'dg==' } }),
      );
      assert.equal(created.code, 0, created.stderr);
      const rv = secret('mf-frozen').metadata.resourceVersion;
      const r = await kubectl(['patch', 'secret', 'mf-frozen', '-n', NS, '--type', 'merge', '-p', '{"data":{"k":"dzI="}}']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Secret "mf-frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set/);
      const unfreeze = await kubectl(['patch', 'secret', 'mf-frozen', '-n', NS, '--type', 'merge', '-p', '{"immutable":false}']);
      assert.match(unfreeze.stderr, /immutable: Forbidden: field is immutable when `immutable` is set/);
      assert.equal(secret('mf-frozen').metadata.resourceVersion, rv);
      assert.equal(secret('mf-frozen').data!.k, 'dg==');
      // Labels may still change.
      assert.equal((await kubectl(['label', 'secret', 'mf-frozen', '-n', NS, 'x=y'])).code, 0);
    });

    it('runs a controller that writes its own value on a period, as its own manager', async () => {
      assert.equal((await kubectl(['create', 'secret', 'generic', 'mf-synced', '-n', NS, '--from-literal=password=Mine-Value-1'])).code, 0);
      controller = sim.startSecretController({ namespace: NS, name: 'mf-synced', manager: 'external-secrets', data: { password: 'Provider-Value-1' }, periodMs: 100 });
      await controller.writeNow();
      assert.equal(Buffer.from(secret('mf-synced').data!.password!, 'base64').toString(), 'Provider-Value-1');
      assert.equal((await kubectl(['patch', 'secret', 'mf-synced', '-n', NS, '--type', 'merge', '-p', '{"stringData":{"password":"Mine-Value-2"}}'])).code, 0);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(Buffer.from(secret('mf-synced').data!.password!, 'base64').toString(), 'Provider-Value-1', 'the controller put its value back');
      assert.deepEqual(managedFields('mf-synced').find((e) => e.manager === 'external-secrets')?.fieldsV1, { 'f:data': { 'f:password': {} } });
      assert.deepEqual(controller.errors, []);
    });
  });

  describe('the last moment before anything is removed', () => {
    it('rotate: a controller puts the old password back during the settle: exit 3 with nothing removed, no failed login, the manager named; abort ends on the old password', async () => {
      const old = creds();
      const f0 = operatorFailures();
      const off = controllerAt('propagated', () => sim.startSecretController({ namespace: NS, name: REC, manager: 'external-secrets', data: old, periodMs: 300 }));
      const r = await guard.run(['rotate', REC, '--settle', '4s', '--propagation-timeout', '30s']).finally(off);
      assert.ok(controller, 'the controller started during the settle');
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /"external-secrets"/, 'the message names the manager that wrote the Secret');
      assert.match(r.stderr, /nothing was removed/i);
      const record = journalRecord();
      assert.equal(record?.phase, 'propagated');
      assert.deepEqual(validPasswords(sim, REC, old.username).sort(), [old.password, record.newPassword].sort(), 'the cluster still accepts both passwords');
      assert.deepEqual(creds(), old);

      await controller!.stop();
      const a = await guard.run(['abort', REC, '--settle', '2s']);
      assert.equal(a.code, 0, a.stderr);
      assertSettled();
      assert.deepEqual(creds(), old, 'the Secret holds the old password');
      assert.deepEqual(validPasswords(sim, REC, old.username), [old.password], 'only the old password is valid');
      await sim.waitForSync();
      sim.operator.tickAll();
      assert.equal(operatorFailures(), f0, 'the operator components never failed to log in');

      // The Secret's managedFields now name the controller as the writer of its password: the next run knows.
      const again = await guard.run(['rotate', REC, '--dry-run']);
      assert.equal(again.code, 4, again.stderr);
      assert.match(again.stderr, /External Secrets Operator \(managedFields: "external-secrets"/);
      forgetWriters();
    });

    it('change-user: a GitOps self-heal restores the old user during the settle: exit 3, both users kept; abort ends on the old user', async () => {
      const old = creds();
      const f0 = operatorFailures();
      const off = controllerAt('propagated', () => sim.startSecretController({ namespace: NS, name: REC, manager: 'argocd-controller', data: old, periodMs: 300 }));
      const r = await guard.run(['change-user', REC, '--username', 'gitops@example.com', '--settle', '4s', '--propagation-timeout', '30s']).finally(off);
      assert.ok(controller, 'the controller started during the settle');
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /"argocd-controller"/);
      assert.ok(sim.redis(REC).findUser(old.username), 'the old user was not deleted');
      assert.deepEqual(validPasswords(sim, REC, old.username), [old.password]);
      assert.equal(validPasswords(sim, REC, 'gitops@example.com').length, 1, 'the new user exists');

      await controller!.stop();
      const a = await guard.run(['abort', REC, '--settle', '2s']);
      assert.equal(a.code, 0, a.stderr);
      assertSettled();
      assert.deepEqual(creds(), old);
      assert.equal(recUsername(), old.username);
      assert.equal(sim.redis(REC).findUser('gitops@example.com'), undefined, 'the new user is gone');
      await sim.waitForSync();
      sim.operator.tickAll();
      assert.equal(operatorFailures(), f0, 'the operator components never failed to log in');
      forgetWriters();
    });

    it('rotate of a Vault-backed REC: the old credentials are written back into Vault during the settle: exit 3 naming the version and its time; abort ends on the old password', async () => {
      const env = { VAULT_ADDR: sim.vault.addr, VAULT_TOKEN: sim.vault.token, VAULT_CACERT: sim.vault.caFile };
      const ref = sim.recs.find((x) => x.name === VREC)!.vault!;
      const old = sim.credentials(VREC)!;
      const f0 = sim.operator.failures(VREC).length;
      let wrote = false;
      const off = sim.store.onChange((e) => {
        if (!wrote && e.object.metadata.name === `${VREC}-reccred-journal` && journalPhaseOf(e) === 'propagated') {
          wrote = true;
          sim.vault.server.write(ref.mount, ref.path, { ...old });
        }
      });
      const r = await guard.run(['rotate', VREC, '--settle', '4s', '--propagation-timeout', '30s'], { env }).finally(off);
      assert.ok(wrote, 'the entry was rewritten during the settle');
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr.replace(/\s+/g, ' '), /the Vault entry is at version \d+, written at \d{4}-\d\d-\d\dT/);
      const record = journalRecord(`${VREC}-reccred-journal`);
      assert.deepEqual(validPasswords(sim, VREC, old.username).sort(), [old.password, record.newPassword].sort(), 'nothing was removed');

      const a = await guard.run(['abort', VREC, '--settle', '2s'], { env });
      assert.equal(a.code, 0, a.stderr);
      assert.equal(journalExists(sim, NS, VREC), false);
      assert.deepEqual(sim.credentials(VREC), old);
      assert.deepEqual(validPasswords(sim, VREC, old.username), [old.password]);
      sim.operator.tickAll();
      assert.equal(sim.operator.failures(VREC).length, f0, 'the operator components never failed to log in');
    });

    it('user finish: the --to-secret Secret was rewritten by a controller: exit 3 naming it, the old password kept; once it holds the new one again, finish completes', async () => {
      const email = 'synced-app@example.com';
      const initial = 'App-Initial-Pa55!';
      guard.addPassword(initial);
      sim.redis(REC).createUser({ email, password: initial, role: 'db_member' });
      // Passwords go on stdin, never in argv.
      const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'synced-app' }, data: { password: Buffer.from(initial).toString('base64') } };
      assert.equal((await kubectl(['create', '--validate=false', '-n', NS, '-f', '-'], JSON.stringify(manifest))).code, 0);
      const rotated = await guard.run(['user', 'rotate', REC, '--user', email, '--to-secret', `${NS}/synced-app`]);
      assert.equal(rotated.code, 0, rotated.stderr);
      const fresh = Buffer.from(secret('synced-app').data!.password!, 'base64').toString('utf8');
      guard.addPassword(fresh);

      controller = sim.startSecretController({ namespace: NS, name: 'synced-app', manager: 'external-secrets', data: { password: initial }, periodMs: 300 });
      await controller.writeNow();
      const f = await guard.run(['user', 'finish', REC, '--user', email]);
      assert.equal(f.code, 3, f.stderr);
      assert.match(f.stderr, /"external-secrets"/);
      assert.deepEqual(sim.redis(REC).findUser(email)!.passwords.slice().sort(), [initial, fresh].sort(), 'nothing was removed');

      await controller.stop();
      // A colleague puts the new password back (a client of its own, so the password stays out of argv).
      assert.equal(await rawPatch(sim, 'synced-app', { data: { password: Buffer.from(fresh).toString('base64') } }, 'kubectl/v1.31.0 (linux/amd64) kubernetes/6b35607'), 200);
      const done = await guard.run(['user', 'finish', REC, '--user', email]);
      assert.equal(done.code, 0, done.stderr);
      assert.deepEqual(sim.redis(REC).findUser(email)!.passwords, [fresh]);
    });
  });

  describe('preflight: a Secret a controller owns or applies', () => {
    const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const dataFields = { 'f:data': { '.': {}, 'f:password': {}, 'f:username': {} }, 'f:type': {} };
    const managedBy = (manager: string, operation: 'Apply' | 'Update' = 'Apply'): Partial<KubeObject> => ({
      metadata: { name: REC, managedFields: [{ manager, operation, apiVersion: 'v1', time: now(), fieldsType: 'FieldsV1', fieldsV1: dataFields }] },
    });
    const owner = (apiVersion: string, kind: string, name: string): Partial<KubeObject> => ({
      metadata: { name: REC, ownerReferences: [{ apiVersion, kind, name, uid: `uid-${name}`, controller: true, blockOwnerDeletion: true }] },
    });
    const cases: Array<{ name: string; add: Partial<KubeObject>; says: RegExp }> = [
      {
        name: 'ownerReference ExternalSecret',
        add: owner('external-secrets.io/v1beta1', 'ExternalSecret', 'rec-credentials'),
        says: /External Secrets Operator.*ExternalSecret rec-credentials/,
      },
      { name: 'ownerReference SealedSecret', add: owner('bitnami.com/v1alpha1', 'SealedSecret', REC), says: /Sealed Secrets.*SealedSecret rec.*kubeseal/ },
      { name: 'managedFields argocd-controller', add: managedBy('argocd-controller'), says: /Argo CD.*"argocd-controller"/ },
      { name: 'managedFields kustomize-controller', add: managedBy('kustomize-controller'), says: /Flux.*"kustomize-controller".*flux suspend kustomization/ },
      { name: 'managedFields helm-controller', add: managedBy('helm-controller'), says: /Flux.*"helm-controller".*flux suspend helmrelease/ },
      { name: 'managedFields external-secrets', add: managedBy('external-secrets', 'Update'), says: /External Secrets Operator.*"external-secrets"/ },
      {
        name: 'Argo CD tracking annotation',
        add: { metadata: { name: REC, annotations: { 'argocd.argoproj.io/tracking-id': 'redis:/Secret:default/rec' } } },
        says: /Argo CD.*argocd\.argoproj\.io\/tracking-id=redis:\/Secret:default\/rec/,
      },
      {
        name: 'Flux label',
        add: { metadata: { name: REC, labels: { 'kustomize.toolkit.fluxcd.io/name': 'redis', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } } },
        says: /Flux.*kustomize\.toolkit\.fluxcd\.io\/name=redis.*flux suspend kustomization redis -n flux-system/,
      },
      { name: 'immutable: true', add: { immutable: true }, says: /immutable/ },
    ];

    /** Puts metadata (merged) or top-level fields on the REC Secret, as the controller would have; returns the undo. */
    const decorate = (add: Partial<KubeObject>) => {
      const before = secret();
      const next = structuredClone(before) as KubeObject;
      for (const [k, v] of Object.entries(add)) {
        if (k !== 'metadata') next[k] = v;
      }
      const md = (add.metadata ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(md)) {
        if (k === 'name') continue;
        next.metadata[k] = v && typeof v === 'object' && !Array.isArray(v) ? { ...((next.metadata[k] as object) ?? {}), ...v } : v;
      }
      sim.store.update('secrets', { ...next, metadata: { ...next.metadata, resourceVersion: undefined } });
      return () => {
        const cur = secret();
        // The data stays as the test left it; the controller's marks go.
        sim.store.update('secrets', { ...before, data: cur.data, metadata: { ...before.metadata, resourceVersion: undefined } });
      };
    };
    const apiWrites = (mark: number) =>
      sim.audit.since(mark).filter((e) => e.kind === 'api' && e.method !== 'GET' && !e.uri.includes('selfsubjectaccessreviews') && !e.uri.startsWith('/apis/events.k8s.io/'));

    for (const c of cases) {
      it(`rotate refuses (exit 4, nothing changed): ${c.name}`, async () => {
        const undo = decorate(c.add);
        try {
          const before = secret();
          const mark = sim.audit.mark();
          const r = await guard.run(['rotate', REC, ...FAST, '-o', 'json']);
          assert.equal(r.code, 4, r.stderr);
          assert.match(r.stderr.replace(/\s+/g, ' '), c.says);
          assert.deepEqual(apiWrites(mark), [], 'no write reached the API server');
          assert.equal(secret().metadata.resourceVersion, before.metadata.resourceVersion);
          assert.equal(journalExists(sim, NS, REC), false);
          assertSettled();
          assert.equal(ResultSchema.parse(JSON.parse(r.stdout)).exitCode, 4);
          if (c.add.immutable) {
            const allowed = await guard.run(['rotate', REC, ...FAST, '--allow-managed-secret']);
            assert.equal(allowed.code, 4, 'no flag makes an immutable Secret writable');
            assert.match(allowed.stderr, /immutable/);
          }
        } finally {
          undo();
        }
      });
    }

    it('change-user and reset refuse a managed Secret too (exit 4)', async () => {
      const undo = decorate(owner('external-secrets.io/v1beta1', 'ExternalSecret', 'rec-credentials'));
      try {
        const mark = sim.audit.mark();
        const cu = await guard.run(['change-user', REC, '--username', 'other@example.com', ...FAST]);
        assert.equal(cu.code, 4, cu.stderr);
        assert.match(cu.stderr, /External Secrets Operator/);
        const rs = await guard.run(['reset', REC, '--yes']);
        assert.equal(rs.code, 4, rs.stderr);
        assert.deepEqual(apiWrites(mark), []);
        assertSettled();
      } finally {
        undo();
      }
    });

    for (const c of cases.filter((x) => x.name === 'ownerReference ExternalSecret' || x.name === 'managedFields argocd-controller')) {
      it(`--allow-managed-secret proceeds, noted in the journal and the result: ${c.name}`, async () => {
        const undo = decorate(c.add);
        try {
          const old = creds();
          const r = await guard.run(['rotate', REC, ...FAST, '--allow-managed-secret', '--no-wait', '-o', 'json']);
          assert.equal(r.code, 0, r.stderr);
          const doc = ResultSchema.parse(JSON.parse(r.stdout));
          assert.ok(doc.managedSecretAllowed?.length, 'the result notes the controllers it was allowed past');
          assert.match(doc.managedSecretAllowed!.join(' '), c.says);
          const record = journalRecord();
          assert.deepEqual(record?.managedSecretAllowed, doc.managedSecretAllowed, 'the journal notes it');
          assert.notEqual(creds().password, old.password);
          const f = await guard.run(['finish', REC]);
          assert.equal(f.code, 0, f.stderr);
          assertSettled();
          assert.equal(creds().password, record.newPassword);
        } finally {
          undo();
        }
      });
    }

    it("the common app.kubernetes.io/instance label alone is not refused (Helm charts set it too); the run says it may be Argo CD's", async () => {
      const undo = decorate({ metadata: { name: REC, labels: { 'app.kubernetes.io/instance': 'redis' } } });
      try {
        const r = await guard.run(['rotate', REC, '--dry-run']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /app\.kubernetes\.io\/instance=redis.*Argo CD/);
      } finally {
        undo();
      }
    });
  });

  describe('writes as a good citizen', () => {
    it("every create and patch names its field manager (kubectl-reccred); the Secret's managedFields show it", async () => {
      const mark = sim.audit.mark();
      const r = await guard.run(['change-user', REC, '--username', `ops-${Date.now()}@example.com`, ...FAST]);
      assert.equal(r.code, 0, r.stderr);
      assertSettled();
      const writes = sim.audit
        .since(mark)
        .filter(
          (e) =>
            e.kind === 'api' &&
            (e.method === 'POST' || e.method === 'PATCH' || e.method === 'PUT') &&
            !e.uri.includes('selfsubjectaccessreviews') &&
            !e.uri.startsWith('/apis/events.k8s.io/'),
        );
      assert.ok(
        writes.some((e) => e.kind === 'api' && e.uri.includes('/redisenterpriseclusters/')),
        'the REC patch is among them',
      );
      for (const w of writes) assert.match(w.kind === 'api' ? w.uri : '', /[?&]fieldManager=kubectl-reccred(&|$)/, `${w.kind === 'api' ? w.uri : ''} names its field manager`);
      const mine = managedFields().find((e) => e.manager === 'kubectl-reccred');
      assert.deepEqual(mine?.fieldsV1['f:data'], { 'f:password': {}, 'f:username': {} });
    });

    it('no password in any output, URI, argv, temp file, annotation or label', () => {
      guard.assertClean(started);
    });
  });
});

/** A merge patch with a User-Agent of our choosing and no fieldManager, as a client that names none. */
function rawPatch(sim: SimCluster, name: string, body: unknown, userAgent: string): Promise<number> {
  const payload = Buffer.from(JSON.stringify(body));
  const url = new URL(`/api/v1/namespaces/${NS}/secrets/${name}`, sim.apiUrl);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'PATCH',
        ca: fs.readFileSync(sim.caFile),
        headers: {
          Authorization: `Bearer ${sim.users.admin!.token}`,
          'Content-Type': 'application/merge-patch+json',
          'Content-Length': String(payload.length),
          'User-Agent': userAgent,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
