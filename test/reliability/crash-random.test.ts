// Crash matrix beyond the step boundaries of test/e2e: SIGKILL at a seeded random event inside the
// run (any API request, exec session start, REST call before its reply, store write before its reply),
// for rotate, change-user, reset and user rotate; then the documented recovery. Also reset and user
// rotate at their own step boundaries. After every recovery: exactly the right passwords are valid, the
// store's are accepted, no journal is left, nothing was lost; every run passes the lockout guard, and
// the file ends with the secret-hygiene scan over all of it.
// Replay a failure with RECCRED_SEED=<seed printed in the test title>.
import assert from 'node:assert/strict';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { journalExists, journalPhaseOf, validPasswords, type KillEvent } from '../e2e/harness.js';
import { Guard, SEED, printTally, prng } from './guard.js';

const NS = 'default';
const REC = 'rec';
const FAST = ['--settle', '1s', '--propagation-timeout', '30s'];
const POINTS = Number(process.env.RECCRED_CRASH_POINTS) || 6;

interface Journal {
  operation: string;
  phase: string;
  oldPassword: string;
  newPassword: string;
  newUsername?: string;
  replaceSentAt?: string;
  abortedFrom?: string;
  oldUserDeleteSentAt?: string;
}

describe('reliability: crash matrix at random points inside steps', function () {
  this.timeout(600_000);
  let sim: SimCluster;
  let g: Guard;
  const t0 = Date.now();
  const rand = prng(SEED);
  let scenarios = 0;

  const creds = () => sim.credentials(REC)!;
  const journalOf = (name: string): Journal | undefined => {
    const s = sim.store.get('secrets', NS, name) as unknown as { data?: Record<string, string> } | undefined;
    return s?.data ? JSON.parse(Buffer.from(s.data['journal.json']!, 'base64').toString('utf8')) : undefined;
  };
  const journal = () => journalOf(`${REC}-reccred-journal`);
  const operatorFailures = () => sim.operator.failures(REC).length;

  /** Counts every event the kill hook sees; kills at the Nth. Also remembers the last journal written. */
  const killAt = (n: number) => {
    let seen = 0;
    const state: { last?: Journal; fn: (e: KillEvent) => boolean } = {
      fn: (e) => {
        const phase = journalPhaseOf(e.store);
        if (phase && phase !== 'deleted' && e.store?.object.metadata.name === `${REC}-reccred-journal`) {
          state.last = JSON.parse(Buffer.from((e.store.object as unknown as { data: Record<string, string> }).data['journal.json']!, 'base64').toString('utf8'));
        }
        return ++seen === n;
      },
    };
    return { state, count: () => seen };
  };
  /** A full run of a command, counting the events a kill could land on. */
  const calibrate = async (args: string[], opts: { mayFailOnce?: boolean } = {}) => {
    const k = killAt(Number.MAX_SAFE_INTEGER);
    const r = await g.run(args, { killWhen: k.state.fn, ...opts });
    assert.equal(r.code, 0, r.stderr);
    return k.count();
  };
  const pick = (events: number) => 1 + Math.floor(rand() * Math.max(1, Math.floor(events * 0.97) - 1));

  /** The settled state: no journal, the store's user accepts exactly the store's password. */
  const assertSettled = () => {
    assert.equal(journalExists(sim, NS, REC), false, 'no journal is left');
    const { username, password } = creds();
    assert.deepEqual(validPasswords(sim, REC, username), [password], 'the cluster accepts exactly the stored password');
    const recUser = (sim.store.get('redisenterpriseclusters', NS, REC)!.spec as { username?: string }).username;
    assert.equal(recUser, username, 'spec.username names the stored user');
  };

  before(async () => {
    sim = await startSimCluster({ recs: [{ name: REC, namespace: NS }], pods: 2, syncDelayMs: 400, operatorIntervalMs: 250 });
    g = new Guard(sim);
    process.stdout.write(`      [seed] RECCRED_SEED=${SEED}, ${POINTS} random points per command\n`);
  });
  after(async () => {
    g?.dispose();
    await sim?.stop();
  });
  // Each scenario stands alone: a failure (or a deliberate failed login of a reset) must not lock the
  // account for the next one, which the lockout guard checks per run anyway.
  afterEach(function () {
    const { username, password } = creds();
    sim.redis(REC).unlock(username);
    sim.operator.setEnabled(REC, true);
    if (this.currentTest?.state === 'failed') {
      sim.redis(REC).setPasswords(username, [password]);
      for (const s of sim.store.list('secrets', NS)) if (s.metadata.name.startsWith(`${REC}-reccred-journal`)) sim.store.delete('secrets', NS, s.metadata.name);
      const app = sim.store.get('secrets', NS, `${REC}-app`) as unknown as { data: Record<string, string> } | undefined;
      if (app) sim.redis(REC).setPasswords('app-crash@example.com', [Buffer.from(app.data.password!, 'base64').toString('utf8')]);
    }
  });

  describe('rotate', () => {
    let events = 0;
    it('calibration: a full rotation, counting the events a kill can land on', async () => {
      events = await calibrate(['rotate', REC, ...FAST]);
      assertSettled();
      assert.ok(events > 20, `events: ${events}`);
    });
    for (let i = 0; i < POINTS; i++) {
      const recovery = i % 2 === 0 ? 'finish' : 'abort';
      it(`SIGKILL at random event #${i + 1} (seed ${SEED}), then ${recovery}`, async function () {
        const n = pick(events);
        this.test!.title += ` [event ${n}/${events}]`;
        const old = creds().password;
        const f0 = operatorFailures();
        const k = killAt(n);
        const killed = await g.run(['rotate', REC, ...FAST], { killWhen: k.state.fn });
        const record = journal();
        const r = await g.run([recovery, REC, '--settle', '1s']);
        assert.equal(r.code, 0, r.stderr);
        assertSettled();
        if (record) {
          const forward = recovery === 'finish' || record.phase === 'removed' || record.abortedFrom === 'removed';
          assert.equal(creds().password, forward ? record.newPassword : record.oldPassword);
        } else if (k.state.last) {
          // Killed at or after the journal's deletion: the rotation was complete.
          assert.equal(creds().password, killed.killed ? k.state.last.newPassword : creds().password);
        } else {
          assert.equal(creds().password, old, 'killed before the journal: nothing changed');
        }
        assert.equal(operatorFailures(), f0, 'the operator never met a password the cluster refused');
        scenarios++;
      });
    }
  });

  describe('change-user', () => {
    let events = 0;
    let n = 0;
    const nextName = () => `crash${++n}-${SEED % 1000}@example.com`;
    it('calibration: a full change-user', async () => {
      events = await calibrate(['change-user', REC, '--username', nextName(), ...FAST]);
      assertSettled();
    });
    for (let i = 0; i < POINTS; i++) {
      const recovery = i % 2 === 0 ? 'abort' : 'finish';
      it(`SIGKILL at random event #${i + 1} (seed ${SEED}), then ${recovery}`, async function () {
        const at = pick(events);
        this.test!.title += ` [event ${at}/${events}]`;
        const old = creds();
        const name = nextName();
        const f0 = operatorFailures();
        const k = killAt(at);
        await g.run(['change-user', REC, '--username', name, ...FAST], { killWhen: k.state.fn });
        const record = journal();
        const r = await g.run([recovery, REC, '--settle', '1s']);
        assert.equal(r.code, 0, r.stderr);
        assertSettled();
        let expected: string;
        if (record) {
          // Once the deletion of the old user may have been sent, abort goes forward (it may complete late).
          const oldGone =
            record.phase === 'removed' || record.abortedFrom === 'removed' || record.oldUserDeleteSentAt !== undefined || sim.redis(REC).findUser(old.username) === undefined;
          expected = recovery === 'finish' || oldGone ? name : old.username;
        } else expected = k.state.last ? name : old.username;
        assert.equal(creds().username, expected);
        const other = expected === name ? old.username : name;
        assert.equal(sim.redis(REC).findUser(other), undefined, `the other admin user ${other} is gone: nothing half-created is left`);
        assert.equal(operatorFailures(), f0, 'the operator never met credentials the cluster refused');
        scenarios++;
      });
    }
  });

  describe('reset', () => {
    // From the PUT until the store catches up the operator holds a dead password (the documented cost
    // of reset); its components are paused so that the only logins counted are the plugin's own.
    beforeEach(() => sim.operator.setEnabled(REC, false));
    /** finish, or abort while the PUT was certainly never sent; returns the recovery used. */
    const recover = async (record: Journal | undefined, preferAbort: boolean) => {
      const canAbort = record !== undefined && record.phase === 'recorded' && !record.replaceSentAt;
      const recovery = preferAbort && canAbort ? 'abort' : 'finish';
      // Resuming after a crash inside the PUT checks the new password once: it may be refused (one failure, never repeated).
      const uncertain = record?.phase === 'recorded' && record.replaceSentAt !== undefined;
      const r = await g.run([recovery, REC], { mayFailOnce: uncertain });
      if (uncertain && r.code === 3) {
        // Refused: the PUT never applied (the account is not locked here). The run stopped after that one
        // failure, as it must; abort proves with one login of the previous password that it still works.
        assert.equal(r.failedAuths, 1, r.stderr);
        assert.match(r.stderr, /either the replacement \(PUT\) never applied, or the account is locked/);
        const a = await g.run(['abort', REC]);
        assert.equal(a.code, 0, a.stderr);
        assertSettled();
        return 'abort';
      }
      assert.equal(r.code, 0, r.stderr);
      assertSettled();
      return recovery;
    };
    const check = (recovery: string, record: Journal | undefined, last: Journal | undefined, old: string) => {
      if (recovery === 'abort') assert.equal(creds().password, old);
      else if (record) assert.equal(creds().password, record.newPassword);
      else assert.equal(creds().password, last ? last.newPassword : old);
    };

    let events = 0;
    it('calibration: a full reset', async () => {
      events = await calibrate(['reset', REC, '--yes']);
      assertSettled();
    });
    for (let i = 0; i < POINTS; i++) {
      it(`SIGKILL at random event #${i + 1} (seed ${SEED}), then finish (or abort where the PUT never left)`, async function () {
        const at = pick(events);
        this.test!.title += ` [event ${at}/${events}]`;
        const old = creds().password;
        const k = killAt(at);
        await g.run(['reset', REC, '--yes'], { killWhen: k.state.fn });
        const record = journal();
        const recovery = await recover(record, i % 2 === 1);
        check(recovery, record, k.state.last, old);
        scenarios++;
      });
    }

    const boundaries: Array<{ name: string; at: (e: KillEvent) => boolean; abort?: boolean }> = [
      { name: 'journal created', at: (e) => journalPhaseOf(e.store) === 'recorded' && e.store?.type === 'ADDED' },
      { name: 'journal created', at: (e) => journalPhaseOf(e.store) === 'recorded' && e.store?.type === 'ADDED', abort: true },
      { name: 'PUT marked as sent', at: (e) => e.store?.type === 'MODIFIED' && journalPhaseOf(e.store) === 'recorded' },
      { name: 'inside the PUT (received, reply not sent)', at: (e) => e.audit?.kind === 'rest' && e.audit.method === 'PUT' && e.audit.path === '/v1/users/password' },
      { name: 'journal phase added', at: (e) => journalPhaseOf(e.store) === 'added' },
      {
        name: 'inside the store write (Secret written, reply not sent)',
        at: (e) => e.store?.resource === 'secrets' && e.store.object.metadata.name === REC && e.store.type === 'MODIFIED',
      },
      { name: 'journal phase stored', at: (e) => journalPhaseOf(e.store) === 'stored' },
    ];
    for (const b of boundaries) {
      it(`SIGKILL at "${b.name}", then ${b.abort ? 'abort' : 'finish'}`, async () => {
        const old = creds().password;
        const killed = await g.run(['reset', REC, '--yes'], { killWhen: b.at });
        assert.equal(killed.killed, true, `the kill point was reached: ${killed.stderr}`);
        const record = journal();
        assert.ok(record, 'the journal survived');
        const recovery = await recover(record, b.abort === true);
        // Killed after the intent was journaled and before the PUT left: finish is refused once, abort rolls back.
        assert.equal(recovery, b.abort || b.name === 'PUT marked as sent' ? 'abort' : 'finish');
        check(recovery, record, undefined, old);
        scenarios++;
      });
    }
  });

  describe('user rotate', () => {
    const EMAIL = 'app-crash@example.com';
    const SECRET = `${REC}-app`;
    const secretValue = () => Buffer.from((sim.store.get('secrets', NS, SECRET) as unknown as { data: Record<string, string> }).data.password!, 'base64').toString('utf8');
    const userJournal = () => {
      const j = sim.store.list('secrets', NS).find((s) => s.metadata.name.startsWith(`${REC}-reccred-journal-user-`));
      return j ? journalOf(j.metadata.name) : undefined;
    };
    /** Phase of a store event on a user journal (harness's journalPhaseOf knows only the REC journal). */
    const userJournalPhaseOf = (e: KillEvent): string | undefined => {
      const o = e.store?.object as unknown as { metadata: { name: string }; data?: Record<string, string> } | undefined;
      if (!o || e.store?.type === 'DELETED' || !o.metadata.name.startsWith(`${REC}-reccred-journal-user-`) || !o.data?.['journal.json']) return undefined;
      return JSON.parse(Buffer.from(o.data['journal.json'], 'base64').toString('utf8')).phase;
    };
    const ARGS = ['user', 'rotate', REC, '--user', EMAIL, '--to-secret', `${NS}/${SECRET}`];
    before(() => {
      sim.redis(REC).createUser({ email: EMAIL, password: 'App-Initial-Pa55!', role: 'db_member' });
      sim.store.create('secrets', {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: SECRET, namespace: NS },
        data: { password: Buffer.from('App-Initial-Pa55!').toString('base64') },
      });
      g.addPassword('App-Initial-Pa55!');
    });
    /** Re-running user rotate resumes (or starts again if nothing was recorded); then user finish. */
    const recoverAndFinish = async (before: string) => {
      const record = userJournal();
      if (!record || record.phase === 'recorded' || record.phase === 'added') {
        const again = await g.run(ARGS);
        assert.equal(again.code, 0, again.stderr);
        if (record) assert.match(again.stderr, /Resuming the rotation/);
      }
      const now = userJournal();
      assert.ok(now, 'the rotation is recorded until finish');
      if (record) assert.equal(now.newPassword, record.newPassword, 'the resumed rotation keeps the journaled password: nothing lost');
      assert.equal(secretValue(), now.newPassword, 'the Secret holds the new password');
      assert.deepEqual(validPasswords(sim, REC, EMAIL).sort(), [before, now.newPassword].sort(), 'both passwords work until finish');
      const f = await g.run(['user', 'finish', REC, '--user', EMAIL]);
      assert.equal(f.code, 0, f.stderr);
      assert.deepEqual(validPasswords(sim, REC, EMAIL), [secretValue()], "only the Secret's password works");
      assert.equal(userJournal(), undefined, 'the user journal is gone');
      scenarios++;
    };

    let events = 0;
    it('calibration: a full user rotate, then finish', async () => {
      const before = secretValue();
      events = await calibrate(ARGS);
      assert.deepEqual(validPasswords(sim, REC, EMAIL).sort(), [before, secretValue()].sort());
      const f = await g.run(['user', 'finish', REC, '--user', EMAIL]);
      assert.equal(f.code, 0, f.stderr);
    });
    for (let i = 0; i < POINTS; i++) {
      it(`SIGKILL at random event #${i + 1} (seed ${SEED}), then user rotate again and user finish`, async function () {
        const at = pick(events);
        this.test!.title += ` [event ${at}/${events}]`;
        const before = secretValue();
        const k = killAt(at);
        await g.run(ARGS, { killWhen: k.state.fn });
        await recoverAndFinish(before);
      });
    }
    const boundaries: Array<{ name: string; at: (e: KillEvent) => boolean }> = [
      { name: 'inside the POST (received, reply not sent)', at: (e) => e.audit?.kind === 'rest' && e.audit.method === 'POST' && e.audit.path === '/v1/users/password' },
      { name: 'journal phase added', at: (e) => userJournalPhaseOf(e) === 'added' },
      {
        name: 'inside the --to-secret write (written, reply not sent)',
        at: (e) => e.store?.resource === 'secrets' && e.store.object.metadata.name === SECRET && e.store.type === 'MODIFIED',
      },
    ];
    for (const b of boundaries) {
      it(`SIGKILL at "${b.name}", then user rotate again and user finish`, async () => {
        const before = secretValue();
        const killed = await g.run(ARGS, { killWhen: b.at });
        assert.equal(killed.killed, true, `the kill point was reached: ${killed.stderr}`);
        await recoverAndFinish(before);
      });
    }
  });

  // Nested so that it runs after the matrix (mocha runs a suite's own tests before its sub-suites).
  describe('secret hygiene over the whole matrix', () => {
    it('no password leaked anywhere; no unexpected command ran in a pod', () => {
      const { passwords, texts } = g.assertClean(t0);
      printTally('crash-random', { scenarios, passwordsTracked: passwords, textsScanned: texts });
    });
  });
});
