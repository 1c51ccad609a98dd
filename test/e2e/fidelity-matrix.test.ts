// Issue 14: every setting of every simulator switch that stands for an undocumented (or
// version-dependent) Redis Enterprise or operator behaviour, under the scenarios that depend on it:
// a whole rotation, a crash inside the removal then finish, a crash after the store update then
// abort, and a user rotation (rotate, finish). Each setting is one REC of one simulated cluster, so
// the matrix pays for one start-up. The README's "Fidelity" table lists the switches.
import assert from 'node:assert/strict';
import { startSimCluster, type RecSpec, type SimCluster } from '../sim/cluster.js';
import { journalExists, journalPhaseOf, reccred, type KillEvent, type RunResult } from './harness.js';

const NS = 'default';
const FAST = ['--settle', '1s', '--propagation-timeout', '30s'];

interface Setting {
  /** The REC's name: the switch and its setting. */
  name: string;
  spec: Omit<RecSpec, 'name'>;
  /** The role of the application user of the user-rotation scenario (default db_member). */
  userRole?: string;
  /** Where the user may not manage its own passwords: user rotate is refused, nothing changed. */
  userRotateRefused?: boolean;
}

const SETTINGS: Setting[] = [
  // The defaults: unknownPasswordDelete unfamiliar-400, lockedReply 401, errorBody openapi, loginMatch exact,
  // softwareVersion 7.22.0-28, a Kubernetes Secret mounted in the pods.
  { name: 'baseline', spec: {} },
  // DELETE /v1/users/password of a password the user no longer has (silent in rest-api/requests/users/password.md).
  { name: 'delete-last-first', spec: { redis: { unknownPasswordDelete: 'last-password-first' } } },
  { name: 'delete-404', spec: { redis: { unknownPasswordDelete: 'not-found-404' } } },
  // What a locked account gets (silent).
  { name: 'locked-403', spec: { redis: { lockedReply: '403' } } },
  // A `none` user on its own passwords (silent; permissions.md says none has no REST permission).
  { name: 'none-allowed', spec: { redis: { noneSelfPasswords: 'allowed' } }, userRole: 'none' },
  { name: 'none-forbidden', spec: { redis: { noneSelfPasswords: 'forbidden' } }, userRole: 'none', userRotateRefused: true },
  // Lockout disabled / admin-release as GET /v1/cluster/policy shows them (silent: 0 or a word).
  { name: 'policy-zero', spec: { redis: { policyDisabledAs: 'zero', lockout: { threshold: 0, durationSeconds: 0 } } } },
  { name: 'policy-word', spec: { redis: { policyDisabledAs: 'word', lockout: { threshold: 0, durationSeconds: 0 } } } },
  // Request bodies by version (7.4 password.md; rs-7-8-2-34.md; RS161290; rs-8-2-0-25.md).
  { name: 'v7-4-2-54', spec: { redis: { softwareVersion: '7.4.2-54' } } },
  { name: 'v7-8-2-34', spec: { redis: { softwareVersion: '7.8.2-34' } } },
  { name: 'v7-22-0-95', spec: { redis: { softwareVersion: '7.22.0-95' } } },
  { name: 'v8-2-ignored', spec: { redis: { softwareVersion: '8.2.0-25', removedFields: 'ignored' } } },
  { name: 'v8-2-rejected', spec: { redis: { softwareVersion: '8.2.0-25', removedFields: 'rejected' } } },
  // The error object: openapi.json's cluster_Error or the markdown pages' {error_code, message}.
  { name: 'errors-markdown', spec: { redis: { errorBody: 'markdown' } } },
  // Logins compared with or without case (silent).
  { name: 'login-any-case', spec: { redis: { loginMatch: 'case-insensitive' } } },
  // Vault-backed RECs: where the pods see the credentials (silent in kubernetes/security/vault.md).
  { name: 'vault-mounted', spec: { secretType: 'vault', vaultMountedCredentials: true } },
  { name: 'vault-unmounted', spec: { secretType: 'vault', vaultMountedCredentials: false } },
  // The credential Secret's name in the REC status, by operator version (crds/rec_crd.yaml; the default is renamable).
  { name: 'naming-fixed', spec: { credentialSecretNaming: 'fixed' } },
  { name: 'naming-no-status', spec: { credentialSecretNaming: 'no-status' } },
  // A user deletion that finishes later (openapi.json action_uid): no scenario here deletes a user, none may notice.
  { name: 'user-delete-slow', spec: { redis: { userDeleteMs: 2000 } } },
];

describe('fidelity matrix: each undocumented behaviour, every setting (issue 14)', function () {
  this.timeout(600_000);
  let sim: SimCluster;

  before(async () => {
    sim = await startSimCluster({
      recs: SETTINGS.map((s) => ({ name: s.name, namespace: NS, pods: 1, ...s.spec })),
      syncDelayMs: 400,
      operatorIntervalMs: 250,
      vaultCacheSeconds: 1,
    });
  });
  after(async () => sim?.stop());

  const failures = (rec: string) => ({ operator: sim.operator.failures(rec).length, rest: sim.audit.failedRestAuths(rec) });
  /** No operation in flight, and the cluster accepts exactly what the store holds. */
  const assertSettled = (rec: string, expected?: string) => {
    assert.equal(journalExists(sim, NS, rec), false, 'no journal is left');
    const { username, password } = sim.credentials(rec)!;
    if (expected !== undefined) assert.equal(password, expected, 'the store holds the expected password');
    assert.deepEqual(sim.redis(rec).findUser(username)?.passwords, [password], 'the cluster accepts exactly the stored password');
  };
  const run = (args: string[], killWhen?: (e: KillEvent) => boolean): Promise<RunResult> =>
    reccred(sim, args, { env: { VAULT_ADDR: sim.vault.addr, VAULT_TOKEN: sim.vault.token, VAULT_CACERT: sim.vault.caFile }, ...(killWhen ? { killWhen } : {}) });

  /** Puts a REC back to a settled state after a failed scenario, so one failure does not cascade. */
  const settle = (rec: string) => {
    const { username, password } = sim.credentials(rec)!;
    sim.redis(rec).setPasswords(username, [password]);
    sim.redis(rec).unlock(username);
    if (journalExists(sim, NS, rec)) sim.store.delete('secrets', NS, `${rec}-reccred-journal`);
  };
  /** Kill points of one REC only: the settings run side by side on one simulated cluster. */
  const restCallOf = (rec: string, e: KillEvent, method: string, path: string) =>
    e.audit?.kind === 'rest' && e.audit.rec === rec && e.audit.method === method && e.audit.path === path;
  const journalPhase = (rec: string, e: KillEvent) => (e.store?.object.metadata.name === `${rec}-reccred-journal` ? journalPhaseOf(e.store) : undefined);

  const scenarios: { title: string; run: (s: Setting) => Promise<void> }[] = [
    {
      title: 'rotate: the store holds the new password, the cluster accepts only it, no failed login',
      run: async (s) => {
        const before = sim.credentials(s.name)!;
        const f0 = failures(s.name);
        const r = await run(['rotate', s.name, ...FAST]);
        assert.equal(r.code, 0, r.stderr);
        assert.notEqual(sim.credentials(s.name)!.password, before.password);
        assertSettled(s.name);
        assert.deepEqual(failures(s.name), f0, 'no failed authentication anywhere');
      },
    },
    {
      title: 'SIGKILL inside the removal (DELETE applied, reply lost), then finish',
      run: async (s) => {
        const f0 = failures(s.name);
        const killed = await run(['rotate', s.name, ...FAST], (e) => restCallOf(s.name, e, 'DELETE', '/v1/users/password'));
        assert.equal(killed.killed, true, `the kill point was reached: ${killed.stderr}`);
        assert.equal(journalExists(sim, NS, s.name), true, 'the journal survived');
        const stored = sim.credentials(s.name)!.password;
        const r = await run(['finish', s.name, '--settle', '1s']);
        assert.equal(r.code, 0, r.stderr);
        assertSettled(s.name, stored);
        assert.deepEqual(failures(s.name), f0, 'no failed authentication anywhere');
      },
    },
    {
      title: 'SIGKILL after the store update, then abort: the old password is back, alone',
      run: async (s) => {
        const old = sim.credentials(s.name)!.password;
        const f0 = failures(s.name);
        const killed = await run(['rotate', s.name, ...FAST], (e) => journalPhase(s.name, e) === 'stored');
        assert.equal(killed.killed, true, `the kill point was reached: ${killed.stderr}`);
        const r = await run(['abort', s.name, '--settle', '1s']);
        assert.equal(r.code, 0, r.stderr);
        assertSettled(s.name, old);
        assert.deepEqual(failures(s.name), f0, 'no failed authentication anywhere');
      },
    },
    {
      title: 'user rotate, then user finish (db_member; none where the setting is about none)',
      run: async (s) => {
        const email = `app-${s.name}@example.com`;
        const initial = `Init-${s.name}-Pa55!`;
        const secret = `${s.name}-app`;
        sim.redis(s.name).createUser({ email, password: initial, role: s.userRole ?? 'db_member' });
        sim.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: secret, namespace: NS }, data: { password: Buffer.from(initial).toString('base64') } });
        const secretValue = () => Buffer.from((sim.store.get('secrets', NS, secret) as unknown as { data: Record<string, string> }).data.password!, 'base64').toString('utf8');
        const f0 = failures(s.name);
        const r = await run(['user', 'rotate', s.name, '--user', email, '--to-secret', `${NS}/${secret}`]);
        if (s.userRotateRefused) {
          assert.equal(r.code, 4, r.stderr);
          assert.match(r.stderr, /user reset/, 'names the admin reset as the alternative');
          assert.match(r.stderr, /RedisEnterpriseUser/, 'names the operator resource as the alternative');
          assert.deepEqual(sim.redis(s.name).findUser(email)!.passwords, [initial], 'nothing changed on the cluster');
          assert.equal(secretValue(), initial, 'nothing changed in the Secret');
        } else {
          assert.equal(r.code, 0, r.stderr);
          const fresh = secretValue();
          assert.notEqual(fresh, initial);
          assert.deepEqual(sim.redis(s.name).findUser(email)!.passwords.slice().sort(), [initial, fresh].sort(), 'both work until finish');
          const f = await run(['user', 'finish', s.name, '--user', email]);
          assert.equal(f.code, 0, f.stderr);
          assert.deepEqual(sim.redis(s.name).findUser(email)!.passwords, [fresh], 'only the new password works');
        }
        assert.equal(
          sim.store.list('secrets', NS).some((x) => x.metadata.name.startsWith(`${s.name}-reccred-journal`)),
          false,
          'no journal is left',
        );
        assert.deepEqual(failures(s.name), f0, 'no failed authentication anywhere');
      },
    },
  ];

  for (const scenario of scenarios) {
    it(`${scenario.title}: under every setting`, async () => {
      const failed: string[] = [];
      const queue = [...SETTINGS];
      // Three RECs at a time: each run mostly waits (propagation, settle), so the matrix takes a third of the time.
      const worker = async () => {
        for (let s = queue.shift(); s; s = queue.shift()) {
          try {
            await scenario.run(s);
          } catch (err) {
            failed.push(`${s.name}: ${err instanceof Error ? err.message : String(err)}`);
            settle(s.name);
          }
        }
      };
      await Promise.all([worker(), worker(), worker()]);
      process.stdout.write(`      [matrix] ${SETTINGS.length - failed.length} of ${SETTINGS.length} settings passed\n`);
      assert.deepEqual(failed, [], 'every setting reaches the correct end state');
    });
  }
});
