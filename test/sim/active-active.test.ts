// The Active-Active simulation against the real kubectl 1.33: three clusters, one kubeconfig with a context each,
// the RERC and REAADB tables as the docs print them, and the RERC controllers' logins: a password changed on one
// REC without its RERC Secrets turns every cluster's RERC for it to Error and counts towards its lockout, and
// updating the Secrets (edit-rerc.md, "Update RERC secret") brings them back.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClusterSet, type ClusterSet } from './active-active/cluster-set.js';
import { randomPassword, startSimCluster } from './cluster.js';
import { kubectlBinary, runProcess, type ProcessResult } from './kube/api-fixture.js';

const KUBECTL = kubectlBinary('1.33');
const INTERVAL_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** `kubectl get` output as rows of columns (split on runs of 2+ spaces; empty cells vanish). */
const rows = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));

describe('Active-Active simulation: clusters, RERC/REAADB, RERC controllers (kubectl 1.33)', function () {
  this.timeout(60_000);
  let set: ClusterSet;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-aa-'));
    set = await startClusterSet({
      clusters: ['a', 'b', 'c'],
      rerc: { intervalMs: INTERVAL_MS, reactionMs: 50 },
      // rec-a and rec-c never lock, so their failures can be counted for as long as a test needs; rec-b keeps the documented
      // default (5 failures lock the account, login-lockout.md).
      perCluster: { a: { rec: { redis: { lockout: { threshold: 0 } } } }, c: { rec: { redis: { lockout: { threshold: 0 } } } } },
    });
    // Only the RERC controllers log in to the RECs during these tests: each REC's own components are switched off.
    for (const p of set.participants) set.sim(p.cluster).operator.setEnabled(p.rec, false);
  });

  after(async () => {
    await set?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function kubectl(context: string, args: string[]): Promise<ProcessResult> {
    const cache = await mkdtemp(join(dir, 'cache-'));
    return runProcess(KUBECTL, ['--kubeconfig', set.kubeconfig, '--cache-dir', cache, '--context', context, ...args], { env: { ...process.env, KUBECONFIG: '' } });
  }
  async function ok(context: string, args: string[]): Promise<string> {
    const r = await kubectl(context, args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }
  /** edit-rerc.md step 1-2 on one cluster: the RERC Secret gets the new password (never on kubectl's argv). */
  async function patchRercSecret(cluster: string, rerc: string, password: string): Promise<void> {
    const file = join(dir, `patch-${cluster}-${rerc}.json`);
    await writeFile(file, JSON.stringify({ data: { password: b64(password) } }), { mode: 0o600 });
    await ok(set.contexts[cluster]!, ['patch', 'secret', `redis-enterprise-${rerc}`, '--type', 'merge', '--patch-file', file]);
    await rm(file);
  }
  const email = (cluster: string) => set.sim(cluster).recs[0]!.username;

  it('writes one kubeconfig with a context per cluster, each its own API server', async () => {
    assert.deepEqual((await ok('cluster-a', ['config', 'get-contexts', '-o', 'name'])).trim().split('\n').sort(), ['cluster-a', 'cluster-b', 'cluster-c']);
    assert.equal((await ok('cluster-a', ['config', 'current-context'])).trim(), 'cluster-a');
    for (const c of ['a', 'b', 'c']) assert.equal((await ok(`cluster-${c}`, ['get', 'rec', '-o', 'name'])).trim(), `redisenterprisecluster.app.redislabs.com/rec-${c}`);
  });

  it('kubectl get rerc / reaadb print the documented tables (create-reaadb.md, edit-rerc.md)', async () => {
    set.tick();
    const rerc = rows(await ok('cluster-b', ['get', 'rerc']));
    assert.deepEqual(rerc, [
      ['NAME', 'STATUS', 'SPEC STATUS', 'LOCAL'],
      ['rerc-a', 'Active', 'Valid', 'false'],
      ['rerc-b', 'Active', 'Valid', 'true'],
      ['rerc-c', 'Active', 'Valid', 'false'],
    ]);
    // `reaadb-boeing     active   Valid                        up`: LINKED REDBS is empty.
    const reaadb = (await ok('cluster-b', ['get', 'reaadb'])).trim().split('\n');
    assert.deepEqual(reaadb[0]!.trim().split(/\s{2,}/), ['NAME', 'STATUS', 'SPEC STATUS', 'LINKED REDBS', 'REPLICATION STATUS']);
    assert.match(reaadb[1]!, /^reaadb-1\s+active\s+Valid\s+up\s*$/);
    // The long names and the status subresource are served too.
    assert.match(await ok('cluster-c', ['get', 'redisenterpriseremoteclusters.app.redislabs.com', 'rerc-c', '-o', 'jsonpath={.status.local}']), /^true$/);
    assert.match(
      await ok('cluster-c', ['get', 'redisenterpriseactiveactivedatabases', 'reaadb-1', '-o', 'jsonpath={.spec.participatingClusters[*].name}']),
      /^rerc-a rerc-b rerc-c$/,
    );
    assert.deepEqual(set.failures(), []);
  });

  it('a changed REC password without its RERC Secrets: every cluster’s RERC goes to Error, logins fail and count; updated Secrets bring it back', async () => {
    const stateA = set.redis('a');
    const failedBefore = stateA.failedAuthCount(email('a'));
    const newPassword = randomPassword();
    stateA.setPasswords(email('a'), [newPassword]);

    await waitFor('rerc-a Error in every cluster', () => set.names.every((c) => set.rercStatus(c, 'rerc-a')?.status === 'Error'));
    await waitFor('REAADB replication down in every cluster', () => set.names.every((c) => set.reaadbStatus(c)?.replicationStatus === 'down'));
    for (const c of set.names) {
      // Default switch active-replication-down: the database stays `active`, its replication to rec-a is down.
      const r = set.reaadbStatus(c)!;
      assert.equal(r.status, 'active');
      assert.deepEqual(r.participatingClusters, [
        { name: 'rerc-a', id: 1, replicationStatus: 'down' },
        { name: 'rerc-b', id: 2, replicationStatus: 'up' },
        { name: 'rerc-c', id: 3, replicationStatus: 'up' },
      ]);
      assert.deepEqual(r.secretsStatus?.[0], { name: 'redis-enterprise-rerc-a', status: 'Invalid' });
      assert.equal(set.rercStatus(c, 'rerc-b')?.status, 'Active');
    }
    assert.deepEqual(rows(await ok('cluster-c', ['get', 'rerc', 'rerc-a'])), [
      ['NAME', 'STATUS', 'SPEC STATUS', 'LOCAL'],
      ['rerc-a', 'Error', 'Valid', 'false'],
    ]);

    // Every failure is a login on rec-a, from every cluster, and rec-a counted each one (same tick: nothing in between).
    await sleep(2 * INTERVAL_MS);
    const failures = set.failures();
    assert.equal(stateA.failedAuthCount(email('a')) - failedBefore, failures.length);
    assert.ok(failures.length >= 6, `${failures.length} failures`);
    assert.deepEqual([...new Set(failures.map((f) => f.cluster))].sort(), ['a', 'b', 'c']);
    assert.ok(failures.every((f) => f.rerc === 'rerc-a' && f.rec === 'rec-a' && f.recCluster === 'a' && f.reason === 'failed' && f.username === email('a')));

    // edit-rerc.md "Update RERC secret": the local cluster first, then the others.
    for (const c of ['a', 'b', 'c']) {
      await patchRercSecret(c, 'rerc-a', newPassword);
      await waitFor(`rerc-a Active in ${c}`, () => set.rercStatus(c, 'rerc-a')?.status === 'Active');
      const rv = (await ok(`cluster-${c}`, ['get', 'secret', 'redis-enterprise-rerc-a', '-o', 'jsonpath={.metadata.resourceVersion}'])).trim();
      assert.equal((await ok(`cluster-${c}`, ['get', 'rerc', 'rerc-a', '-o', 'jsonpath={.status.internalObservedSecretResourceVersion}'])).trim(), rv);
    }
    await waitFor('REAADB active/up everywhere', () => set.names.every((c) => set.reaadbStatus(c)?.status === 'active' && set.reaadbStatus(c)?.replicationStatus === 'up'));
    assert.match((await ok('cluster-a', ['get', 'reaadb', 'reaadb-1'])).trim().split('\n')[1]!, /^reaadb-1\s+active\s+Valid\s+up\s*$/);
    const settled = set.failures().length;
    await sleep(3 * INTERVAL_MS);
    assert.equal(set.failures().length, settled, 'no failed login once every Secret holds the new password');
    assert.equal(stateA.failedAuthCount(email('a')) - failedBefore, settled);
  });

  it('the controllers’ failed logins lock the REC’s admin account under the default lockout; the RERCs stay in Error until it is released', async () => {
    const stateB = set.redis('b');
    const t0 = Date.now();
    const newPassword = randomPassword();
    stateB.setPasswords(email('b'), [newPassword]);
    await waitFor('rec-b admin locked', () => stateB.findUser(email('b'))?.status === 'locked');
    const mine = set.failures().filter((f) => f.time >= t0);
    assert.ok(mine.length >= 5 && mine.every((f) => f.rec === 'rec-b'), JSON.stringify(mine));

    // The Secrets now hold the right password, but a locked account refuses it: still Error, reason `locked`.
    for (const c of set.names) await patchRercSecret(c, 'rerc-b', newPassword);
    await sleep(2 * INTERVAL_MS);
    assert.ok(set.names.every((c) => set.rercStatus(c, 'rerc-b')?.status === 'Error'));
    assert.ok(set.failures().some((f) => f.rec === 'rec-b' && f.reason === 'locked'));

    stateB.unlock(email('b'));
    await waitFor('rerc-b Active everywhere', () => set.names.every((c) => set.rercStatus(c, 'rerc-b')?.status === 'Active'));
  });

  it('switches: keep-last hides the failure, error puts the REAADB in error, the internal Secret version can be hidden', async () => {
    const stateC = set.redis('c');
    const controllers = Object.values(set.controllers);
    const observedBefore = set.rercStatus('b', 'rerc-c')?.internalObservedSecretResourceVersion;
    assert.ok(observedBefore);
    try {
      for (const k of controllers) k.failureStatus = 'keep-last';
      const t0 = Date.now();
      const newPassword = randomPassword();
      stateC.setPasswords(email('c'), [newPassword]);
      await waitFor('failed logins on rec-c', () => set.failures().filter((f) => f.time >= t0 && f.rec === 'rec-c').length >= 3);
      // keep-last: still Active, and the observed Secret version has not moved (nothing was validated).
      assert.ok(set.names.every((c) => set.rercStatus(c, 'rerc-c')?.status === 'Active'));
      assert.equal(set.rercStatus('b', 'rerc-c')?.internalObservedSecretResourceVersion, observedBefore);

      for (const k of controllers) {
        k.failureStatus = 'Error';
        k.reaadbDegraded = 'error';
      }
      await waitFor('REAADB error everywhere', () => set.names.every((c) => set.reaadbStatus(c)?.status === 'error' && set.reaadbStatus(c)?.replicationStatus === 'down'));
      assert.match((await ok('cluster-b', ['get', 'reaadb'])).trim().split('\n')[1]!, /^reaadb-1\s+error\s+Valid\s+down\s*$/);

      for (const k of controllers) k.exposeObservedSecretVersion = false;
      for (const c of set.names) await patchRercSecret(c, 'rerc-c', newPassword);
      await waitFor('rerc-c Active everywhere', () => set.names.every((c) => set.rercStatus(c, 'rerc-c')?.status === 'Active'));
      assert.ok(set.names.every((c) => !('internalObservedSecretResourceVersion' in set.rercStatus(c, 'rerc-c')!)));
      await waitFor('REAADB active everywhere', () => set.names.every((c) => set.reaadbStatus(c)?.status === 'active'));
    } finally {
      for (const k of controllers) {
        k.failureStatus = 'Error';
        k.reaadbDegraded = 'active-replication-down';
        k.exposeObservedSecretVersion = true;
      }
    }
  });

  it('an RERC whose Secret is missing is Error without any login; a spec naming another Secret is Invalid', async () => {
    const k = set.controllers['b']!;
    const logins = k.logins();
    const start = set.failures().length;
    await ok('cluster-b', ['delete', 'secret', 'redis-enterprise-rerc-c']);
    await waitFor('rerc-c Error in b', () => set.rercStatus('b', 'rerc-c')?.status === 'Error');
    assert.equal(k.outcome('default', 'rerc-c')?.outcome, 'secret-missing');
    await ok('cluster-b', ['patch', 'rerc', 'rerc-c', '--type', 'merge', '-p', '{"spec":{"secretName":"other"}}']);
    await waitFor('rerc-c Invalid in b', () => set.rercStatus('b', 'rerc-c')?.specStatus === 'Invalid');
    assert.equal(set.rercStatus('b', 'rerc-c')?.observedGeneration, 2);
    await sleep(2 * INTERVAL_MS);
    assert.equal(set.failures().length, start, 'no login attempt, so no failure');
    assert.ok(k.logins() > logins, 'the other RERCs are still checked');
  });

  it('a Vault-backed cluster reads its RERC secrets from Vault (vault.md, "Redis Enterprise Remote Cluster secrets")', async () => {
    const vaultSet = await startClusterSet({
      clusters: ['x', 'y'],
      perCluster: { y: { rec: { secretType: 'vault' }, sim: { vaultCacheSeconds: 0 } }, x: { rec: { redis: { lockout: { threshold: 0 } } } } },
      rerc: { intervalMs: INTERVAL_MS, reactionMs: 50 },
    });
    try {
      const y = vaultSet.sim('y');
      for (const p of vaultSet.participants) vaultSet.sim(p.cluster).operator.setEnabled(p.rec, false);
      assert.equal(y.store.get('secrets', 'default', 'redis-enterprise-rerc-x'), undefined, 'no Kubernetes Secret in the Vault cluster');
      assert.equal(vaultSet.rercSecret('y', 'rerc-x')?.password, vaultSet.sim('x').credentials('rec-x')?.password);
      const newPassword = randomPassword();
      vaultSet.redis('x').setPasswords(vaultSet.sim('x').recs[0]!.username, [newPassword]);
      await waitFor('rerc-x Error in y', () => vaultSet.rercStatus('y', 'rerc-x')?.status === 'Error');
      y.vault.server.write('secret', 'redisenterprise/redis-enterprise-rerc-x', { username: vaultSet.sim('x').recs[0]!.username, password: newPassword });
      await waitFor('rerc-x Active in y', () => vaultSet.rercStatus('y', 'rerc-x')?.status === 'Active');
      assert.ok(vaultSet.failures().every((f) => f.rec === 'rec-x'));
    } finally {
      await vaultSet.stop();
    }
  });

  it('an operator before 6.4.2-6 serves neither resource', async () => {
    const old = await startSimCluster({ recs: [{ name: 'rec', pods: 1 }], activeActiveCrds: false });
    try {
      const cache = await mkdtemp(join(dir, 'cache-'));
      const r = await runProcess(KUBECTL, ['--kubeconfig', old.kubeconfig, '--cache-dir', cache, 'get', 'rerc'], { env: { ...process.env, KUBECONFIG: '' } });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /the server doesn't have a resource type "rerc"/);
    } finally {
      await old.stop();
    }
  });
});
