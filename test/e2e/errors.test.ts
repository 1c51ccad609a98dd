// The failures a user meets, end to end: each gives its exit code, a message that says what to do,
// and leaves the cluster exactly as it was (same stored password, same valid passwords, no journal).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { journalExists, reccred, validPasswords, type RunResult, guardOperatorLogins } from './harness.js';

const NS = 'default';

describe('error paths (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  guardOperatorLogins(() => sim);
  const run = (args: string[], opts: Parameters<typeof reccred>[2] = {}): Promise<RunResult> => reccred(sim, args, opts);

  before(async () => {
    sim = await startSimCluster({
      recs: [
        { name: 'rec', namespace: NS },
        { name: 'rec-nocurl', namespace: NS, pods: 1, curlMissingPods: ['rec-nocurl-0'] },
        { name: 'rec-complex', namespace: NS, pods: 1, redis: { passwordComplexity: true } },
        { name: 'rec-wrong', namespace: NS, pods: 1 },
        { name: 'rec-down', namespace: NS, pods: 2 },
      ],
      syncDelayMs: 300,
      operatorIntervalMs: 250,
    });
  });
  after(async () => sim?.stop());

  /** Snapshot of everything a failed command must leave untouched. */
  const snapshot = (rec: string) => {
    const creds = sim.credentials(rec)!;
    return { stored: creds.password, valid: validPasswords(sim, rec, creds.username), journal: journalExists(sim, NS, rec) };
  };
  const assertUnchanged = (rec: string, before: ReturnType<typeof snapshot>) => {
    assert.deepEqual(snapshot(rec), before, `REC ${rec} was left exactly as it was`);
    assert.equal(before.journal, false);
  };

  it('REC not found: exit 2, names the RECs that exist', async () => {
    const r = await run(['rotate', 'nope']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /nope/);
    assert.match(r.stderr, /rec-complex/, 'lists the RECs of the namespace');
  });

  it('namespace not found: exit 2, says so', async () => {
    const r = await run(['get', 'rec', '-n', 'no-such-ns']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /namespace "no-such-ns" does not exist/);
  });

  for (const user of ['no-exec', 'no-secret-patch', 'read-only'] as const) {
    it(`user "${user}": the preflight refuses with exit 4 before anything changes, naming the permission`, async () => {
      const before = snapshot('rec');
      const reads = sim.audit.mark();
      const r = await run(['rotate', 'rec', '--settle', '1s'], { kubeconfig: sim.users[user]!.kubeconfig });
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, user === 'no-exec' ? /pods\/exec/ : /secrets/);
      assertUnchanged('rec', before);
      const writes = sim.audit
        .since(reads)
        .filter(
          (e) =>
            e.kind === 'api' && ['POST', 'PATCH', 'PUT', 'DELETE'].includes(e.method) && !e.uri.includes('selfsubjectaccessreviews') && !e.uri.startsWith('/apis/events.k8s.io/'),
        );
      assert.deepEqual(writes, [], 'no write reached the API server');
    });
  }

  it('no Ready pod: exit 4, says which pods are not Ready', async () => {
    const before = snapshot('rec-down');
    sim.setPodReady(NS, 'rec-down-0', false);
    sim.setPodReady(NS, 'rec-down-1', false);
    try {
      const r = await run(['rotate', 'rec-down', '--settle', '1s']);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /not Ready|no Ready pod/i);
      assert.match(r.stderr, /rec-down-0/);
      assertUnchanged('rec-down', before);
    } finally {
      sim.setPodReady(NS, 'rec-down-0', true);
      sim.setPodReady(NS, 'rec-down-1', true);
    }
  });

  it('curl missing in the container: a clear message, nothing changed', async () => {
    const before = snapshot('rec-nocurl');
    const r = await run(['rotate', 'rec-nocurl', '--settle', '1s']);
    assert.equal(r.code, 4, `the preflight refuses before anything changes: ${r.stderr}`);
    assert.match(r.stderr, /curl/);
    assert.match(r.stderr, /redis-enterprise-node/);
    assertUnchanged('rec-nocurl', before);
  });

  it('wrong stored credentials: stops at the first 401, exactly one failed authentication, explains the lockout risk', async () => {
    const rec = 'rec-wrong';
    const secret = sim.store.get('secrets', NS, rec) as unknown as { data: Record<string, string> };
    secret.data.password = Buffer.from('not-the-password-1A!').toString('base64');
    sim.store.update('secrets', secret as never);
    // The operator's components would fail with the wrong secret too: pause them to count the plugin's own.
    sim.operator.setEnabled(rec, false);
    await sim.waitForSync();
    const f0 = sim.audit.failedRestAuths(rec);
    const r = await run(['rotate', rec, '--settle', '1s']);
    assert.equal(r.code, 4, `the preflight's login is refused, before anything changes: ${r.stderr}`);
    assert.equal(sim.audit.failedRestAuths(rec) - f0, 1, 'exactly one failed login, never retried');
    assert.match(r.stderr, /refuses the credentials/);
    assert.match(r.stderr, /lock/i, 'explains the lockout risk');
    assert.equal(journalExists(sim, NS, rec), false);
    assert.ok(!r.stderr.includes('not-the-password-1A!'));
  });

  it('a password the complexity profile refuses: exit 2, says which rule, nothing changed, no failed login', async () => {
    const rec = 'rec-complex';
    const before = snapshot(rec);
    const f0 = sim.audit.failedRestAuths(rec);
    const r = await run(['rotate', rec, '--password-stdin', '--settle', '1s'], { stdin: 'alllowercase\n' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /upper|complex/i);
    assertUnchanged(rec, before);
    assert.equal(sim.audit.failedRestAuths(rec), f0);
    assert.ok(!r.stderr.includes('alllowercase'));
  });

  it('a generated password passes the strictest complexity profile', async () => {
    const rec = 'rec-complex';
    const before = sim.credentials(rec)!.password;
    const r = await run(['rotate', rec, '--settle', '1s']);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(sim.credentials(rec)!.password, before);
    assert.deepEqual(validPasswords(sim, rec, sim.credentials(rec)!.username), [sim.credentials(rec)!.password]);
  });

  it('the Kubernetes API is down: exit 1, says it cannot reach it, naming the server and the kubeconfig context', async () => {
    const dead = path.join(sim.dir, 'kubeconfig-dead');
    const live = fs.readFileSync(sim.kubeconfig, 'utf8');
    const deadConfig = live.replace(/server: "?https:\/\/127\.0\.0\.1:\d+"?/, 'server: "https://127.0.0.1:9"');
    assert.notEqual(deadConfig, live);
    fs.writeFileSync(dead, deadConfig);
    const r = await run(['rotate', 'rec', '--request-timeout', '3s'], { kubeconfig: dead });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot reach the Kubernetes API: .*\(server https:\/\/127\.0\.0\.1:9, context "[^"]+"\)/);
  });

  it('bad flags: exit 2 and the way to help', async () => {
    const r = await run(['rotate', 'rec', '--settle', 'soon']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--settle/);
    const r2 = await run(['rotate', 'rec', '--password', 'x']);
    assert.equal(r2.code, 2, r2.stderr);
  });
});
