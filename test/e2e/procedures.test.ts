// change-user, reset and user rotate|finish|reset end to end: the real executable through the real
// kubectl against the sim, asserting final states (users, valid passwords, store, REC spec, journal).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { journalExists, journalPhaseOf, leaksIn, reccred, type KillEvent, type RunResult } from './harness.js';

const NS = 'default';
const REC = 'rec';
const FAST = ['--settle', '2s', '--propagation-timeout', '30s'];

describe('change-user, reset, user passwords (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  const outputs: string[] = [];
  const passwords = new Set<string>();
  const run = async (args: string[], opts: Parameters<typeof reccred>[2] = {}): Promise<RunResult> => {
    const r = await reccred(sim, args, opts);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const creds = (rec = REC) => sim.credentials(rec)!;
  const recUsername = (rec = REC) => (sim.store.get('redisenterpriseclusters', NS, rec)!.spec as { username?: string }).username;
  const failures = (rec = REC) => ({ operator: sim.operator.failures(rec).length, rest: sim.audit.failedRestAuths(rec) });
  const journalRecord = (rec = REC) => {
    const s = sim.store.get('secrets', NS, `${rec}-reccred-journal`) as unknown as { data?: Record<string, string> } | undefined;
    return s?.data ? JSON.parse(Buffer.from(s.data['journal.json']!, 'base64').toString('utf8')) : undefined;
  };
  /** With no operation in flight: the store's user exists with exactly the stored password, and the REC names it. */
  const assertAdminSettled = (rec = REC) => {
    assert.equal(journalExists(sim, NS, rec), false, 'no journal is left');
    const { username, password } = creds(rec);
    assert.deepEqual(sim.redis(rec).findUser(username)?.passwords, [password], 'the stored user accepts exactly the stored password');
    assert.equal(recUsername(rec) ?? username, username, 'spec.username names the stored user');
  };

  before(async () => {
    sim = await startSimCluster({
      recs: [
        { name: REC, namespace: NS },
        { name: 'rec-old', namespace: NS, pods: 1, redis: { softwareVersion: '7.4.2-54' } },
        { name: 'rec-norbac', namespace: NS, pods: 1, redis: { rbac: false } },
      ],
      pods: 2,
      syncDelayMs: 600,
      operatorIntervalMs: 250,
    });
    for (const r of ['rec', 'rec-old', 'rec-norbac']) passwords.add(creds(r).password);
    const watch = sim.store.onChange((e) => {
      if (e.resource !== 'secrets') return;
      const data = (e.object as { data?: Record<string, string> }).data ?? {};
      for (const v of Object.values(data)) {
        const text = Buffer.from(v, 'base64').toString('utf8');
        if (text.startsWith('{')) {
          const j = JSON.parse(text);
          if (j.oldPassword) passwords.add(j.oldPassword);
          if (j.newPassword) passwords.add(j.newPassword);
        }
      }
    });
    after(() => watch());
  });
  after(async () => sim?.stop());

  // One failed scenario must not cascade: put every REC back to a settled state.
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const rec of ['rec', 'rec-old', 'rec-norbac']) {
      const { username, password } = creds(rec);
      sim.redis(rec).setPasswords(username, [password]);
      sim.redis(rec).unlock(username);
      if (journalExists(sim, NS, rec)) sim.store.delete('secrets', NS, `${rec}-reccred-journal`);
      sim.operator.setEnabled(rec, true);
    }
  });

  describe('change-user', () => {
    let n = 0;
    const nextName = () => `ops${++n}@example.com`;

    it('creates the new admin, moves the REC and the secret to it, deletes the old user; no failed login', async () => {
      const old = creds();
      const f0 = failures();
      const name = nextName();
      const r = await run(['change-user', REC, '--username', name, ...FAST]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(creds().username, name);
      assert.equal(recUsername(), name);
      assert.equal(sim.redis(REC).findUser(old.username), undefined, 'the old admin user is deleted');
      assert.equal(sim.redis(REC).findUser(name)?.role, 'admin');
      assertAdminSettled();
      assert.deepEqual(failures(), f0);
    });

    it('on a cluster without RBAC roles the new user gets role admin', async () => {
      const name = nextName();
      const r = await run(['change-user', 'rec-norbac', '--username', name, ...FAST]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sim.redis('rec-norbac').findUser(name)?.role, 'admin');
      assertAdminSettled('rec-norbac');
      assert.equal(failures('rec-norbac').operator, 0);
    });

    it('refuses a username that exists, before anything changes (exit 2)', async () => {
      const before = creds();
      sim.redis(REC).createUser({ email: 'taken@example.com', password: 'Taken-Pa55word!', role: 'db_viewer' });
      const r = await run(['change-user', REC, '--username', 'taken@example.com', ...FAST]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /already exists/);
      assert.deepEqual(creds(), before);
      assertAdminSettled();
    });

    const boundaries: Array<{ name: string; at: (e: KillEvent, newName: string) => boolean }> = [
      { name: 'journal created', at: (e) => journalPhaseOf(e.store) === 'recorded' && e.store?.type === 'ADDED' },
      { name: 'inside the user creation (POST /v1/users received)', at: (e) => e.audit?.kind === 'rest' && e.audit.method === 'POST' && e.audit.path === '/v1/users' },
      { name: 'journal phase added', at: (e) => journalPhaseOf(e.store) === 'added' },
      { name: 'REC spec.username patched', at: (e, nn) => e.store?.resource === 'redisenterpriseclusters' && (e.store.object.spec as { username?: string }).username === nn },
      { name: 'inside the store update', at: (e) => e.store?.resource === 'secrets' && e.store.object.metadata.name === REC && e.store.type === 'MODIFIED' },
      { name: 'journal phase stored', at: (e) => journalPhaseOf(e.store) === 'stored' },
      { name: 'journal phase propagated', at: (e) => journalPhaseOf(e.store) === 'propagated' },
      { name: 'inside the old user deletion (DELETE received)', at: (e) => e.audit?.kind === 'rest' && e.audit.method === 'DELETE' && /^\/v1\/users\/\d+$/.test(e.audit.path) },
      { name: 'journal phase removed', at: (e) => journalPhaseOf(e.store) === 'removed' },
    ];
    for (const b of boundaries) {
      for (const recovery of ['finish', 'abort'] as const) {
        it(`SIGKILL at "${b.name}", then ${recovery}`, async () => {
          const old = creds();
          const f0 = failures();
          const name = nextName();
          const killed = await run(['change-user', REC, '--username', name, ...FAST], { killWhen: (e) => b.at(e, name) });
          assert.equal(killed.killed, true, `the kill point was reached: ${killed.stderr}`);
          const record = journalRecord();
          assert.ok(record, 'the journal survived');
          const r = await run([recovery, REC, '--settle', '2s']);
          assert.equal(r.code, 0, r.stderr);
          assertAdminSettled();
          const pastRemoval = record.phase === 'removed' || (recovery === 'abort' && sim.redis(REC).findUser(old.username) === undefined);
          const expected = recovery === 'finish' || pastRemoval ? name : old.username;
          assert.equal(creds().username, expected);
          const other = expected === name ? old.username : name;
          assert.equal(sim.redis(REC).findUser(other), undefined, `the other user ${other} is gone`);
          assert.deepEqual(failures(), f0, 'no failed authentication anywhere');
        });
      }
    }
  });

  describe('reset', () => {
    it('needs --yes off a terminal (exit 2, nothing changed)', async () => {
      const before = creds();
      const r = await run(['reset', REC]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--yes/);
      assert.deepEqual(creds(), before);
    });

    it('replaces every admin password with one and updates the store at once', async () => {
      const before = creds();
      sim.redis(REC).addPassword(sim.redis(REC).findUser(before.username)!.uid, 'Leaked-Extra-Pa55!');
      passwords.add('Leaked-Extra-Pa55!');
      const r = await run(['reset', REC, '--yes']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Warning/);
      assert.notEqual(creds().password, before.password);
      assertAdminSettled();
      assert.equal(sim.redis(REC).findUser(before.username)!.status ?? 'active', 'active', 'the account is not locked');
    });

    it('SIGKILL inside the PUT, then finish: one valid password, the stored one', async () => {
      // Until finish runs, the store holds a password the PUT just removed: a live operator would count
      // failures towards the lockout meanwhile (the documented cost of reset). Here finish runs at once.
      sim.operator.setEnabled(REC, false);
      after(() => sim.operator.setEnabled(REC, true));
      const killed = await run(['reset', REC, '--yes'], { killWhen: (e) => e.audit?.kind === 'rest' && e.audit.method === 'PUT' && e.audit.path === '/v1/users/password' });
      assert.equal(killed.killed, true, killed.stderr);
      const record = journalRecord();
      const abort = await run(['abort', REC]);
      assert.equal(abort.code, 2, 'a reset whose PUT may have gone out cannot be rolled back');
      const r = await run(['finish', REC]);
      assert.equal(r.code, 0, r.stderr);
      assertAdminSettled();
      assert.equal(creds().password, record.newPassword);
    });
  });

  describe('user rotate | finish | reset', () => {
    for (const [rec, version] of [
      ['rec', '7.22.0-28'],
      ['rec-old', '7.4.2-54'],
    ] as const) {
      it(`rotate into a Secret, then finish (${version} API)`, async () => {
        const email = `app-${rec}@example.com`;
        const initial = 'App-Initial-Pa55!';
        passwords.add(initial);
        sim.redis(rec).createUser({ email, password: initial, role: 'db_member' });
        sim.store.create('secrets', {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: `${rec}-app`, namespace: NS },
          data: { password: Buffer.from(initial).toString('base64') },
        });
        const secretValue = () =>
          Buffer.from((sim.store.get('secrets', NS, `${rec}-app`) as unknown as { data: Record<string, string> }).data.password!, 'base64').toString('utf8');

        const f0 = sim.audit.failedRestAuths(rec);
        const r = await run(['user', 'rotate', rec, '--user', email, '--to-secret', `${NS}/${rec}-app`]);
        assert.equal(r.code, 0, r.stderr);
        const fresh = secretValue();
        passwords.add(fresh);
        assert.notEqual(fresh, initial);
        assert.deepEqual(sim.redis(rec).findUser(email)!.passwords.slice().sort(), [initial, fresh].sort(), 'both work until finish');
        assert.ok(!r.stdout.includes(fresh), 'the password went to the Secret, not to stdout');

        const again = await run(['user', 'rotate', rec, '--user', email, '--to-secret', `${NS}/${rec}-app`]);
        assert.equal(again.code, 4, 'a second rotation waits for finish');

        const status = await run(['status', rec, '-o', 'json']);
        assert.equal(status.code, 0, status.stderr);
        assert.deepEqual(
          JSON.parse(status.stdout).userOperations?.map((u: { username: string; phase: string }) => [u.username, u.phase]),
          [[email, 'stored']],
          'status shows the user rotation waiting for finish',
        );

        const f = await run(['user', 'finish', rec, '--user', email]);
        assert.equal(f.code, 0, f.stderr);
        assert.deepEqual(sim.redis(rec).findUser(email)!.passwords, [fresh]);
        assert.equal(
          sim.store.list('secrets', NS).some((x) => x.metadata.name.startsWith(`${rec}-reccred-journal-user-`)),
          false,
          'the user journal is gone',
        );
        assert.equal(sim.audit.failedRestAuths(rec), f0);
      });

      it(`reset as the admin (${version} API): only the new password works, in the Secret`, async () => {
        const email = `app-${rec}@example.com`;
        const f0 = sim.audit.failedRestAuths(rec);
        const r = await run(['user', 'reset', rec, '--user', email, '--to-secret', `${NS}/${rec}-app`, '--yes']);
        assert.equal(r.code, 0, r.stderr);
        const value = Buffer.from((sim.store.get('secrets', NS, `${rec}-app`) as unknown as { data: Record<string, string> }).data.password!, 'base64').toString('utf8');
        passwords.add(value);
        assert.deepEqual(sim.redis(rec).findUser(email)!.passwords, [value]);
        assert.equal(sim.audit.failedRestAuths(rec), f0);
      });
    }

    it('without a Secret: the current password from a file, the new one printed once on stdout', async () => {
      const email = 'report@example.com';
      const initial = 'Report-Initial-Pa55!';
      passwords.add(initial);
      sim.redis(REC).createUser({ email, password: initial, role: 'db_viewer' });
      const file = path.join(sim.dir, 'current');
      fs.writeFileSync(file, `${initial}\n`, { mode: 0o600 });
      const r = await run(['user', 'rotate', REC, '--user', email, '--current-password-file', file]);
      assert.equal(r.code, 0, r.stderr);
      const printed = r.stdout.trim();
      assert.deepEqual(sim.redis(REC).findUser(email)!.passwords.slice().sort(), [initial, printed].sort());
      const f = await run(['user', 'finish', REC, '--user', email]);
      assert.equal(f.code, 0, f.stderr);
      assert.deepEqual(sim.redis(REC).findUser(email)!.passwords, [printed]);
    });

    it('refuses the database default user with the documented reason (exit 2)', async () => {
      const r = await run(['user', 'rotate', REC, '--user', 'default']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /default user/);
      assert.match(r.stderr, /does not work|cannot hold two passwords/);
    });

    it('refuses the admin user (rotate is the command for it)', async () => {
      const r = await run(['user', 'rotate', REC, '--user', creds().username, '--current-password-stdin'], { stdin: 'x\n' });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /kubectl reccred rotate/);
    });
  });

  it('no password in request URIs, pod argv or the output (printed-once passwords aside)', () => {
    sim.collectArgv();
    const printedOnce = outputs.filter((o) => /^\S+\n$/.test(o));
    const texts = [...sim.audit.texts(), ...outputs.filter((o) => !printedOnce.includes(o))];
    assert.deepEqual(leaksIn(texts, [...passwords]), []);
  });
});
