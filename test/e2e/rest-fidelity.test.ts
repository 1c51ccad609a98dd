// Issue 14: the plugin against the REST API as documented, and under every setting of the switches
// that stand for what the documentation leaves open: a password DELETE of a password the user no longer
// has, a `none` user on its own passwords, a locked account's status, the lockout settings, the version's
// request bodies, a user deletion that completes later. Final states are asserted: which passwords the
// cluster accepts, what the store and the Secrets hold, that no journal is left, and failed logins.
import assert from 'node:assert/strict';
import { startSimCluster, type RecSpec, type SimCluster } from '../sim/cluster.js';
import { journalExists, journalPhaseOf, reccred, type KillEvent, type RunResult } from './harness.js';

const NS = 'default';
const FAST = ['--settle', '1s', '--propagation-timeout', '30s'];

const DELETE_SETTINGS = ['unfamiliar-400', 'last-password-first', 'not-found-404'] as const;
const RECS: RecSpec[] = [
  ...DELETE_SETTINGS.map((s): RecSpec => ({ name: `del-${s}`, redis: { unknownPasswordDelete: s } })),
  { name: 'none-allowed', redis: { noneSelfPasswords: 'allowed' } },
  { name: 'none-forbidden', redis: { noneSelfPasswords: 'forbidden' } },
  { name: 'locked-401', redis: { lockedReply: '401' } },
  { name: 'locked-403', redis: { lockedReply: '403' } },
  { name: 'policy-word', redis: { policyDisabledAs: 'word', lockout: { threshold: 0, durationSeconds: 0, counterResetAfterSeconds: 120 } } },
  { name: 'policy-admin-release', redis: { policyDisabledAs: 'zero', lockout: { threshold: 3, durationSeconds: 0, counterResetAfterSeconds: 120 } } },
  { name: 'upgrading', pods: 2, redis: { softwareVersion: '7.22.0-28', nodeSoftwareVersions: ['7.4.2-54'] } },
  { name: 'old-no-nodes', redis: { softwareVersion: '7.4.2-54', errorBody: 'markdown' } },
  { name: 'v8-2-rejected', redis: { softwareVersion: '8.2.0-25', removedFields: 'rejected' } },
  { name: 'slow-delete', redis: { userDeleteMs: 2500 } },
  { name: 'slower-delete', redis: { userDeleteMs: 9000 } },
];

describe('REST API fidelity: the plugin under every setting of the undocumented behaviours (issue 14)', function () {
  this.timeout(900_000);
  let sim: SimCluster;

  before(async () => {
    sim = await startSimCluster({ recs: RECS.map((r) => ({ pods: 1, ...r, namespace: NS })), syncDelayMs: 400, operatorIntervalMs: 250 });
  });
  after(async () => sim?.stop());

  const failures = (rec: string) => ({ operator: sim.operator.failures(rec).length, rest: sim.audit.failedRestAuths(rec) });
  const run = (args: string[], killWhen?: (e: KillEvent) => boolean, stdin?: string): Promise<RunResult> =>
    reccred(sim, args, { ...(killWhen ? { killWhen } : {}), ...(stdin !== undefined ? { stdin } : {}) });
  const creds = (rec: string) => sim.credentials(rec)!;
  /** No operation in flight, and the cluster accepts exactly what the store holds. */
  const assertSettled = (rec: string, expected?: string) => {
    assert.equal(journalExists(sim, NS, rec), false, 'no journal is left');
    const { username, password } = creds(rec);
    if (expected !== undefined) assert.equal(password, expected, 'the store holds the expected password');
    assert.deepEqual(sim.redis(rec).findUser(username)?.passwords, [password], 'the cluster accepts exactly the stored password');
  };
  const userJournals = (rec: string) => sim.store.list('secrets', NS).filter((x) => x.metadata.name.startsWith(`${rec}-reccred-journal-user-`)).length;
  const passwordDelete = (e: KillEvent) => e.audit?.kind === 'rest' && e.audit.method === 'DELETE' && e.audit.path === '/v1/users/password';
  const secretValue = (name: string) => {
    const s = sim.store.get('secrets', NS, name) as unknown as { data?: Record<string, string> } | undefined;
    return s?.data?.password === undefined ? undefined : Buffer.from(s.data.password, 'base64').toString('utf8');
  };
  let appN = 0;
  /** A user of `role` with one password, and a Secret its clients read it from. */
  const appUser = (rec: string, role: { role?: string; role_uids?: number[] }) => {
    const email = `app${++appN}@example.com`;
    const initial = `App-${appN}-Initial-Pa55!`;
    sim.redis(rec).createUser({ email, password: initial, ...role });
    const secret = `${rec}-app${appN}`;
    sim.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: secret, namespace: NS }, data: { password: Buffer.from(initial).toString('base64') } });
    return { email, initial, secret, passwords: () => sim.redis(rec).findUser(email)!.passwords.slice().sort() };
  };

  // A failed scenario must not cascade: put the REC back to a settled state.
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const { name } of RECS) {
      const { username, password } = creds(name);
      sim.redis(name).setPasswords(username, [password]);
      sim.redis(name).unlock(username);
      if (journalExists(sim, NS, name)) sim.store.delete('secrets', NS, `${name}-reccred-journal`);
    }
  });

  for (const setting of DELETE_SETTINGS) {
    const rec = `del-${setting}`;
    describe(`DELETE of a password the user no longer has: ${setting}`, () => {
      it('rotate, SIGKILL inside the removal (DELETE applied, reply lost), then finish', async () => {
        const f0 = failures(rec);
        const killed = await run(['rotate', rec, ...FAST], passwordDelete);
        assert.equal(killed.killed, true, `the kill point was reached: ${killed.stderr}`);
        const stored = creds(rec).password;
        const r = await run(['finish', rec, '--settle', '1s']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /already removed/, 'the second DELETE found the password gone');
        assertSettled(rec, stored);
        assert.deepEqual(failures(rec), f0, 'no failed authentication anywhere');
      });

      it('rotate, SIGKILL inside the removal, then abort: the old password is back, alone', async () => {
        const old = creds(rec).password;
        const f0 = failures(rec);
        const killed = await run(['rotate', rec, ...FAST], passwordDelete);
        assert.equal(killed.killed, true, killed.stderr);
        const r = await run(['abort', rec, '--settle', '1s']);
        assert.equal(r.code, 0, r.stderr);
        assertSettled(rec, old);
        assert.deepEqual(failures(rec), f0, 'no failed authentication anywhere');
      });

      it('SIGKILL once the journal exists (nothing added), then abort: the DELETE of the never-added password is "absent"', async () => {
        const old = creds(rec).password;
        const f0 = failures(rec);
        const killed = await run(['rotate', rec, ...FAST], (e) => journalPhaseOf(e.store) === 'recorded' && e.store?.type === 'ADDED');
        assert.equal(killed.killed, true, killed.stderr);
        const r = await run(['abort', rec, '--settle', '1s']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /it was never added/);
        assertSettled(rec, old);
        assert.deepEqual(failures(rec), f0, 'no failed authentication anywhere');
      });

      it('abort, SIGKILL inside its DELETE of the new password, then abort again', async () => {
        const old = creds(rec).password;
        const f0 = failures(rec);
        const killed = await run(['rotate', rec, ...FAST], (e) => journalPhaseOf(e.store) === 'stored');
        assert.equal(killed.killed, true, killed.stderr);
        const abortKilled = await run(['abort', rec, '--settle', '1s'], passwordDelete);
        assert.equal(abortKilled.killed, true, abortKilled.stderr);
        const r = await run(['abort', rec, '--settle', '1s']);
        assert.equal(r.code, 0, r.stderr);
        assertSettled(rec, old);
        assert.deepEqual(failures(rec), f0, 'no failed authentication anywhere');
      });

      it('user rotate, SIGKILL inside user finish (DELETE applied, reply lost), then user finish again', async () => {
        const app = appUser(rec, { role: 'db_viewer' });
        const f0 = failures(rec);
        const r = await run(['user', 'rotate', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`]);
        assert.equal(r.code, 0, r.stderr);
        const fresh = secretValue(app.secret)!;
        const killed = await run(['user', 'finish', rec, '--user', app.email], passwordDelete);
        assert.equal(killed.killed, true, killed.stderr);
        assert.deepEqual(app.passwords(), [fresh], 'the DELETE applied before the kill');
        const f = await run(['user', 'finish', rec, '--user', app.email]);
        assert.equal(f.code, 0, f.stderr);
        assert.match(f.stderr, /already deleted/);
        assert.deepEqual(app.passwords(), [fresh]);
        assert.equal(userJournals(rec), 0, 'no user journal is left');
        assert.deepEqual(failures(rec), f0, 'no failed authentication anywhere');
      });
    });
  }

  describe('a user on its own passwords, by role', () => {
    const roles: [string, { role?: string; role_uids?: number[] }][] = [
      ['none', { role: 'none' }],
      ['db_viewer', { role: 'db_viewer' }],
      ['db_member', { role: 'db_member' }],
      ['db_viewer through role_uids', { role_uids: [5] }],
    ];
    for (const [label, role] of roles) {
      it(`noneSelfPasswords allowed: user rotate, finish and reset pass for a ${label} user`, async () => {
        const rec = 'none-allowed';
        const app = appUser(rec, role);
        const f0 = failures(rec);
        const r = await run(['user', 'rotate', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`]);
        assert.equal(r.code, 0, r.stderr);
        const fresh = secretValue(app.secret)!;
        assert.deepEqual(app.passwords(), [app.initial, fresh].sort(), 'both work until finish');
        const f = await run(['user', 'finish', rec, '--user', app.email]);
        assert.equal(f.code, 0, f.stderr);
        assert.deepEqual(app.passwords(), [fresh], 'only the new password works');
        const reset = await run(['user', 'reset', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`, '--yes']);
        assert.equal(reset.code, 0, reset.stderr);
        const after = secretValue(app.secret)!;
        assert.notEqual(after, fresh);
        assert.deepEqual(app.passwords(), [after]);
        assert.equal(userJournals(rec), 0);
        assert.deepEqual(failures(rec), f0, 'no failed authentication anywhere');
      });
    }

    it('noneSelfPasswords forbidden: user rotate of a none user is refused (exit 4), nothing changed, the alternatives named; user reset works', async () => {
      const rec = 'none-forbidden';
      const app = appUser(rec, { role: 'none' });
      const f0 = failures(rec);
      const r = await run(['user', 'rotate', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /kubectl reccred user reset none-forbidden .*--user app\d+@example\.com/);
      assert.match(r.stderr, /RedisEnterpriseUser in Rotatable/);
      assert.deepEqual(app.passwords(), [app.initial], 'nothing changed on the cluster');
      assert.equal(secretValue(app.secret), app.initial, 'nothing changed in the Secret');
      assert.equal(userJournals(rec), 0, 'the journal was removed');
      const reset = await run(['user', 'reset', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`, '--yes']);
      assert.equal(reset.code, 0, reset.stderr);
      assert.deepEqual(app.passwords(), [secretValue(app.secret)]);
      assert.deepEqual(failures(rec), f0, 'no failed authentication anywhere');
    });
  });

  for (const rec of ['locked-401', 'locked-403']) {
    describe(`a locked account: ${rec}`, () => {
      it('a locked REC admin: rotate refuses (exit 4) with the documented recovery, one login, nothing changed', async () => {
        const before = creds(rec);
        sim.redis(rec).lock(before.username);
        const rest0 = sim.audit.failedRestAuths(rec);
        try {
          const r = await run(['rotate', rec, ...FAST]);
          assert.equal(r.code, 4, r.stderr);
          assert.match(r.stderr, /rladmin cluster reset_password demo@redis\.com/);
          assert.match(r.stderr, rec === 'locked-403' ? /403/ : /401/);
          assert.equal(sim.audit.failedRestAuths(rec) - rest0, 1, 'exactly one refused login, never retried');
          assert.deepEqual(creds(rec), before);
          assert.deepEqual(sim.redis(rec).findUser(before.username)!.passwords, [before.password]);
          assert.equal(journalExists(sim, NS, rec), false);
        } finally {
          sim.redis(rec).unlock(before.username);
        }
      });

      it('a locked or expired user: user rotate and finish refuse (exit 4) before any login as the user; user reset unlocks it', async () => {
        const app = appUser(rec, { role: 'db_member' });
        const rest0 = sim.audit.failedRestAuths(rec);
        sim.redis(rec).lock(app.email);
        const r = await run(['user', 'rotate', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`]);
        assert.equal(r.code, 4, r.stderr);
        assert.match(r.stderr, /status "locked"/);
        assert.match(r.stderr, /wait 30m .*or have an admin set a new password: kubectl reccred user reset/);
        sim.redis(rec).expirePassword(app.email);
        const f = await run(['user', 'rotate', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`]);
        assert.equal(f.code, 4, f.stderr);
        assert.match(f.stderr, /password_expired/);
        assert.deepEqual(app.passwords(), [app.initial], 'nothing changed');
        assert.equal(sim.audit.failedRestAuths(rec), rest0, 'no login as the user was tried');
        const reset = await run(['user', 'reset', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`, '--yes']);
        assert.equal(reset.code, 0, reset.stderr);
        assert.equal(sim.redis(rec).findUser(app.email)!.status, 'active', 'the reset unlocked it');
        assert.deepEqual(app.passwords(), [secretValue(app.secret)]);
      });
    });
  }

  describe('lockout messages quote the cluster policy', () => {
    it('documented defaults where the policy could not be read (the admin login refused)', async () => {
      const rec = 'locked-401';
      const before = creds(rec);
      sim.redis(rec).setPasswords(before.username, ['Something-Else-9!']);
      try {
        const r = await run(['rotate', rec, ...FAST]);
        assert.equal(r.code, 4, r.stderr);
        assert.match(r.stderr, /documented defaults .*5 failed logins, each less than 15m after the previous one, lock the account for 30m/);
      } finally {
        sim.redis(rec).setPasswords(before.username, [before.password]);
      }
    });

    it('lockout disabled, shown as words: reset says so', async () => {
      const r = await run(['reset', 'policy-word', '--yes', '--propagation-timeout', '30s']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /lockout is disabled by this cluster's settings/);
      assertSettled('policy-word');
    });

    it('admin-release (duration 0): a locked user is refused with "until an admin resets the password"', async () => {
      const rec = 'policy-admin-release';
      const app = appUser(rec, { role: 'db_viewer' });
      sim.redis(rec).lock(app.email);
      const r = await run(['user', 'rotate', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /stays locked until an admin resets the password \(login_lockout_duration is 0\)/);
      // Until the pods reload, components on the replaced password fail (reset's documented cost): with a
      // threshold of 3 they would lock the admin for good, so the operator is held off meanwhile.
      sim.operator.setEnabled(rec, false);
      try {
        const reset = await run(['reset', rec, '--yes', '--propagation-timeout', '30s']);
        assert.equal(reset.code, 0, reset.stderr);
        assert.match(
          reset.stderr,
          /by this cluster's settings \(GET \/v1\/cluster\/policy\), 3 failed logins, each less than 2m after the previous one, lock the account until an admin resets the password/,
        );
        await sim.waitForSync();
      } finally {
        sim.operator.setEnabled(rec, true);
      }
      assertSettled(rec);
    });

    it('a login refused during a run quotes the figures the preflight read', async () => {
      const rec = 'policy-admin-release';
      const app = appUser(rec, { role: 'db_viewer' });
      const r = await run(['user', 'rotate', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`]);
      assert.equal(r.code, 0, r.stderr);
      // The new password is taken away behind the plugin's back: finish's one login as the user is refused.
      sim.redis(rec).setPasswords(app.email, [app.initial]);
      const rest0 = sim.audit.failedRestAuths(rec);
      const f = await run(['user', 'finish', rec, '--user', app.email]);
      assert.equal(f.code, 3, f.stderr); // the journal keeps both passwords: resumable
      assert.match(f.stderr, /refused the credentials of app\d+@example\.com \(401\); the plugin never retries a refused login: by this cluster's settings .*3 failed logins/);
      assert.equal(sim.audit.failedRestAuths(rec) - rest0, 1, 'one refused login, never retried');
      assert.deepEqual(app.passwords(), [app.initial], 'nothing removed');
      for (const j of sim.store.list('secrets', NS).filter((x) => x.metadata.name.startsWith(`${rec}-reccred-journal-user-`))) sim.store.delete('secrets', NS, j.metadata.name);
    });
  });

  describe('request bodies by version', () => {
    it('nodes on both sides of 7.8.2 (an upgrade): refused with exit 4, nothing changed', async () => {
      const before = creds('upgrading');
      const r = await run(['rotate', 'upgrading', ...FAST]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /being upgraded: its nodes run 7\.4\.2-54, 7\.22\.0-28/);
      assert.deepEqual(creds('upgrading'), before);
      assertSettled('upgrading', before.password);
    });

    it('GET /v1/nodes failing: the image tag (7.4.2-54) decides the bodies; rotate and a user rotation pass', async () => {
      const rec = 'old-no-nodes';
      sim.faults.restErrors.push({ match: /^GET \/v1\/nodes$/, status: 503, remaining: Infinity });
      try {
        const f0 = failures(rec);
        const r = await run(['rotate', rec, ...FAST]);
        assert.equal(r.code, 0, r.stderr);
        assertSettled(rec);
        const app = appUser(rec, { role: 'db_member' });
        const u = await run(['user', 'rotate', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`]);
        assert.equal(u.code, 0, u.stderr);
        const f = await run(['user', 'finish', rec, '--user', app.email]);
        assert.equal(f.code, 0, f.stderr);
        assert.deepEqual(app.passwords(), [secretValue(app.secret)]);
        assert.deepEqual(failures(rec), f0);
      } finally {
        sim.faults.restErrors = sim.faults.restErrors.filter((x) => !String(x.match).includes('nodes'));
      }
    });

    it('8.2 refusing removed fields: no old_password on POST/PUT; rotate, reset and a user rotation pass', async () => {
      const rec = 'v8-2-rejected';
      // The reset first: until the pods reload, the operator fails with the replaced password (its documented cost).
      const reset = await run(['reset', rec, '--yes', '--propagation-timeout', '30s']);
      assert.equal(reset.code, 0, reset.stderr);
      assertSettled(rec);
      await sim.waitForSync();
      const f0 = failures(rec);
      assert.equal((await run(['rotate', rec, ...FAST])).code, 0);
      assertSettled(rec);
      const app = appUser(rec, { role: 'db_viewer' });
      assert.equal((await run(['user', 'rotate', rec, '--user', app.email, '--to-secret', `${NS}/${app.secret}`])).code, 0);
      assert.equal((await run(['user', 'finish', rec, '--user', app.email])).code, 0);
      assert.deepEqual(app.passwords(), [secretValue(app.secret)]);
      assert.deepEqual(failures(rec), f0);
    });
  });

  describe('a user deletion that completes later (DELETE /v1/users/{uid} answers an action_uid)', () => {
    it('change-user waits until the old user is gone before it removes its journal', async () => {
      const rec = 'slow-delete';
      const old = creds(rec);
      const f0 = failures(rec);
      const r = await run(['change-user', rec, '--username', 'ops-slow@example.com', ...FAST]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sim.redis(rec).findUser(old.username), undefined, 'the old user is gone when the run ends');
      assert.match(r.stderr, /is gone \(GET \/v1\/users\/\d+\)/);
      assertSettled(rec);
      assert.equal(creds(rec).username, 'ops-slow@example.com');
      assert.deepEqual(failures(rec), f0);
    });

    it('past the bounded wait: exit 3 with the journal kept; finish completes once the user is gone', async () => {
      const rec = 'slower-delete';
      const old = creds(rec);
      const r = await run(['change-user', rec, '--username', 'ops-slower@example.com', '--settle', '1s', '--propagation-timeout', '3s']);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /still there/);
      assert.equal(journalExists(sim, NS, rec), true, 'the journal is kept');
      assert.ok(sim.redis(rec).findUser(old.username), 'the deletion is still running');
      await new Promise((resolve) => setTimeout(resolve, 7000));
      const f = await run(['finish', rec, '--settle', '1s']);
      assert.equal(f.code, 0, f.stderr);
      assert.equal(sim.redis(rec).findUser(old.username), undefined);
      assertSettled(rec);
    });
  });
});
