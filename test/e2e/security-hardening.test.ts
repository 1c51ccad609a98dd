// Issue 11, defect 9 (b, c) end to end: a run interrupted before anything changed exits 1 (not 3)
// and leaves nothing behind; a user operation never reaches the admin account, whatever the case of
// the name it is given (the REST API documentation does not say whether logins are case-insensitive,
// so both cluster behaviours are simulated).
import assert from 'node:assert/strict';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { leaksIn, reccred, startReccred, validPasswords, type RunResult, guardOperatorLogins } from './harness.js';

const NS = 'default';
/** Logins match case-insensitively on this one (the sim's loginMatch switch); exactly on the other. */
const REC_CI = 'rec';
const REC_EXACT = 'rec-exact';

describe('hardening: interrupted preflight, admin account under any case (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  guardOperatorLogins(() => sim);
  const outputs: string[] = [];
  const passwords = new Set<string>();
  const run = async (args: string[], opts: Parameters<typeof reccred>[2] = {}): Promise<RunResult> => {
    const r = await reccred(sim, args, opts);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const journals = (rec: string) =>
    sim.store
      .list('secrets', NS)
      .filter((s) => s.metadata.name.startsWith(`${rec}-reccred-journal`))
      .map((s) => s.metadata.name);
  /** The admin's Secret, its passwords on the cluster, and no journal: as before the run. */
  const snapshot = (rec: string) => {
    const creds = sim.credentials(rec)!;
    return {
      creds,
      valid: validPasswords(sim, rec, creds.username).sort(),
      journals: journals(rec),
      users: sim
        .redis(rec)
        .listUsers()
        .map((u) => [u.uid, u.email, u.passwords.length]),
    };
  };
  const passwordWrites = (mark: number, rec: string) =>
    sim.audit.since(mark).filter((e) => e.kind === 'rest' && e.rec === rec && e.method !== 'GET' && e.path.startsWith('/v1/users')).length;

  before(async () => {
    sim = await startSimCluster({
      recs: [
        { name: REC_CI, namespace: NS, redis: { loginMatch: 'case-insensitive' } },
        { name: REC_EXACT, namespace: NS },
      ],
      pods: 2,
      syncDelayMs: 300,
      operatorIntervalMs: 250,
    });
    for (const rec of [REC_CI, REC_EXACT]) passwords.add(sim.credentials(rec)!.password);
  });
  after(async () => sim?.stop());

  for (const args of [
    ['rotate', REC_CI, '--settle', '2s', '--propagation-timeout', '30s'],
    ['change-user', REC_CI, '--username', 'interrupted@example.com', '--settle', '2s'],
    ['reset', REC_CI, '--yes'],
  ]) {
    it(`SIGINT during the read-only preflight of ${args[0]}: exit 1, says nothing changed, no journal, passwords unchanged`, async () => {
      const before = snapshot(REC_CI);
      const mark = sim.audit.mark();
      const { child, result } = startReccred(sim, args);
      let sent = false;
      // The first access review is the preflight's permission step: nothing has been written yet.
      const stop = sim.audit.onRecord((e) => {
        if (!sent && e.kind === 'api' && e.uri.includes('selfsubjectaccessreviews')) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      const r = await result;
      stop();
      outputs.push(r.stdout, r.stderr);
      assert.ok(sent, 'the preflight asked for an access review');
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /interrupted/);
      assert.match(r.stderr, /before anything changed/);
      assert.doesNotMatch(r.stderr, /finish|abort/, 'nothing to finish or abort');
      assert.deepEqual(snapshot(REC_CI), before, "the Secret, the cluster's passwords and the users are as they were; no journal");
      assert.equal(passwordWrites(mark, REC_CI), 0, 'no password change reached the cluster');
      assert.equal(sim.audit.failedRestAuths(REC_CI), 0);
    });
  }

  it("SIGINT during the preflight of user rotate: exit 1, no journal, the user's passwords unchanged", async () => {
    const appPassword = 'App-Pass-2024!x';
    passwords.add(appPassword);
    const app = sim.redis(REC_EXACT).createUser({ email: 'app@example.com', password: appPassword, role: 'db_viewer' });
    const before = snapshot(REC_EXACT);
    const { child, result } = startReccred(sim, ['user', 'rotate', REC_EXACT, '--user', app.email, '--current-password-stdin'], { stdin: `${appPassword}\n` });
    let sent = false;
    const stop = sim.audit.onRecord((e) => {
      if (!sent && e.kind === 'api' && e.uri.includes('selfsubjectaccessreviews')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const r = await result;
    stop();
    outputs.push(r.stdout, r.stderr);
    assert.ok(sent);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /interrupted before anything changed/);
    assert.deepEqual(snapshot(REC_EXACT), before);
    assert.deepEqual(validPasswords(sim, REC_EXACT, app.email), [appPassword]);
  });

  for (const rec of [REC_EXACT, REC_CI]) {
    it(`user rotate --user <admin email in upper case> is refused on a cluster matching logins ${rec === REC_CI ? 'case-insensitively' : 'exactly'}; nothing changes`, async () => {
      const before = snapshot(rec);
      const mark = sim.audit.mark();
      const upper = before.creds.username.toUpperCase();
      assert.notEqual(upper, before.creds.username);
      const r = await run(['user', 'rotate', rec, '--user', upper, '--current-password-stdin'], { stdin: `${before.creds.password}\n` });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /is the REC admin/);
      assert.deepEqual(snapshot(rec), before);
      assert.equal(passwordWrites(mark, rec), 0);
    });
  }

  it("the cluster's record of the admin differs in case from the Secret's username: user rotate and user reset of it are refused", async () => {
    const state = sim.redis(REC_CI);
    const secretUser = sim.credentials(REC_CI)!.username;
    const admin = state.findUser(secretUser)!;
    const recordEmail = secretUser.toUpperCase();
    // The operator and the plugin still log in with the Secret's spelling: this cluster matches logins case-insensitively.
    state.updateUser(admin.uid, { email: recordEmail, name: recordEmail });
    try {
      const before = snapshot(REC_CI);
      const mark = sim.audit.mark();
      const rot = await run(['user', 'rotate', REC_CI, '--user', recordEmail, '--current-password-stdin'], { stdin: `${before.creds.password}\n` });
      assert.equal(rot.code, 2, rot.stderr);
      assert.match(rot.stderr, /is the REC admin/);
      const reset = await run(['user', 'reset', REC_CI, '--user', recordEmail, '--yes']);
      assert.equal(reset.code, 2, reset.stderr);
      assert.match(reset.stderr, /is the REC admin/);
      assert.deepEqual(snapshot(REC_CI), before);
      assert.equal(passwordWrites(mark, REC_CI), 0);
      assert.equal(sim.operator.failures(REC_CI).length, 0);
    } finally {
      state.updateUser(admin.uid, { email: secretUser, name: secretUser });
    }
  });

  it('no password in any output', () => {
    assert.deepEqual(leaksIn(outputs, [...passwords]), []);
  });
});
