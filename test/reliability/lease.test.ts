// The journal as a lease (issue 11, defects 1-3): a live run is never taken over, whatever namespace,
// hostname or clock the taker or the holder has; a user password is never lost between its delivery
// and the journal; a refused check after a crash inside reset's PUT is the only login of its run.
// Through the real kubectl and the plugin executable, against the simulated cluster.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { journalExists, journalPhaseOf, validPasswords } from '../e2e/harness.js';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { Guard, printTally, type GuardedRun, type GuardOptions } from './guard.js';

const REC = 'rec';
const NS = 'default';
/** Short leases keep the takeover waits short; the holder renews three times per lease. */
const LEASE = { RECCRED_LEASE_MS: '3000' };

/** A kubectl that runs in new PID, mount and UTS namespaces (another container on the same host), optionally with a skewed clock. */
function isolatedKubectl(opts: { hostname?: string; clockOffset?: string }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-ns-'));
  const file = path.join(dir, 'kubectl');
  const inner = [opts.hostname ? `hostname ${opts.hostname}` : ':', `exec ${opts.clockOffset ? `faketime -f '${opts.clockOffset}' ` : ''}kubectl "$@"`].join('; ');
  fs.writeFileSync(file, `#!/bin/sh\nexec unshare --pid --fork --mount-proc --uts sh -c '${inner.replace(/'/g, `'\\''`)}' kubectl "$@"\n`, { mode: 0o755 });
  return file;
}

describe('the journal is a lease (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  let g: Guard;
  const since = Date.now();
  // Every run goes through the reliability guard: failed logins per run, stack traces, and the leak scan at the end.
  const run = (args: string[], opts: GuardOptions = {}): Promise<GuardedRun> => g.run(args, opts);
  const email = () => sim.credentials(REC)!.username;
  const stored = () => sim.credentials(REC)!.password;
  const failures = () => ({ operator: sim.operator.failures(REC).length, rest: sim.audit.failedRestAuths(REC) });
  const journal = (name = `${REC}-reccred-journal`) => {
    const s = sim.store.get('secrets', NS, name) as { data?: Record<string, string> } | undefined;
    return s?.data ? JSON.parse(Buffer.from(s.data['journal.json']!, 'base64').toString('utf8')) : undefined;
  };
  const assertSettled = () => {
    assert.equal(journalExists(sim, NS, REC), false, 'no journal is left');
    assert.deepEqual(validPasswords(sim, REC, email()), [stored()], 'the cluster accepts exactly the stored password');
  };
  /** Resolves when the admin journal reaches a phase (the run is then inside its next step or wait). */
  const journalReaches = (phase: string) =>
    new Promise<void>((resolve) => {
      const off = sim.store.onChange((e) => {
        if (journalPhaseOf(e) === phase) {
          off();
          resolve();
        }
      });
    });

  /** The killed run's PUT still reaches the cluster (curl in the pod outlives the plugin): wait for it. */
  const putApplied = async (password: string) => {
    for (let i = 0; i < 100 && !validPasswords(sim, REC, email()).includes(password); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(validPasswords(sim, REC, email()), [password], 'the PUT reached the cluster');
  };

  before(async () => {
    sim = await startSimCluster({ recs: [{ name: REC }], pods: 3, syncDelayMs: 500, operatorIntervalMs: 250 });
    g = new Guard(sim, LEASE);
  });
  after(async () => {
    if (g) {
      const checked = g.assertClean(since);
      printTally('lease', { runs: g.runs, passwordsLookedFor: checked.passwords });
      g.dispose();
    }
    await sim?.stop();
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    sim.redis(REC).setPasswords(email(), [stored()]);
    sim.redis(REC).unlock(email());
    if (journalExists(sim, NS, REC)) sim.store.delete('secrets', NS, `${REC}-reccred-journal`);
  });

  for (const taker of [
    { name: 'abort from another PID namespace on the same host', kubectl: () => isolatedKubectl({}), holder: undefined },
    {
      // The skew is relative: the taker's clock runs 10 minutes ahead (a holder's clock set behind would
      // also see the simulated API server's fresh certificate as not yet valid).
      name: "abort against a holder on another host whose clock is 10 minutes behind the taker's",
      kubectl: () => isolatedKubectl({ clockOffset: '+10m' }),
      holder: () => isolatedKubectl({ hostname: 'other-host' }),
    },
  ]) {
    it(`a live rotation is not taken over: ${taker.name}`, async () => {
      const old = stored();
      const f0 = failures();
      const inSettle = journalReaches('propagated');
      const holder = g.start(['rotate', REC, '--settle', '12s', '--propagation-timeout', '30s'], { kubectl: taker.holder?.() });
      await inSettle;
      const abort = await run(['abort', REC], { kubectl: taker.kubectl() });
      const rotated = await holder.result;
      assert.equal(abort.code, 4, `the taker refuses: ${abort.stderr}`);
      assert.match(abort.stderr, /still running: it renewed its lease/);
      assert.equal(rotated.code, 0, `the holder completes: ${rotated.stderr}`);
      assertSettled();
      assert.notEqual(stored(), old);
      assert.deepEqual(failures(), f0, 'no failed login by the operator or the plugin');
    });
  }

  it('a holder that is gone is taken over at once on the same machine, and after a lease duration elsewhere', async () => {
    const killed = await run(['rotate', REC, '--settle', '2s'], { killWhen: (e) => journalPhaseOf(e.store) === 'stored' });
    assert.equal(killed.killed, true);
    const sameMachine = Date.now();
    const r = await run(['finish', REC]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - sameMachine < 20_000);
    assert.match(r.stderr, /its process is gone/);
    assertSettled();

    const killedAgain = await run(['rotate', REC, '--settle', '2s'], { killWhen: (e) => journalPhaseOf(e.store) === 'stored' });
    assert.equal(killedAgain.killed, true);
    const started = Date.now();
    const elsewhere = await run(['abort', REC], { kubectl: isolatedKubectl({ hostname: 'elsewhere' }) });
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.ok(Date.now() - started >= 3000, 'the taker watched the lease for a whole lease duration');
    assert.match(elsewhere.stderr, /Watching its lease/);
    assertSettled();
  });

  it('a run that lost its lease stops before its next change (exit 3, another run took over)', async () => {
    const old = stored();
    const inSettle = journalReaches('propagated');
    const holder = g.start(['rotate', REC, '--settle', '8s', '--propagation-timeout', '30s']);
    await inSettle;
    // --force takes it without watching the lease; the holder's next renewal or change finds the journal changed.
    const forced = await run(['abort', REC, '--force', '--settle', '2s']);
    const lost = await holder.result;
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(lost.code, 3, lost.stderr);
    assert.match(lost.stderr, /another run took over/);
    assertSettled();
    assert.equal(stored(), old, 'the abort rolled back and the lost run removed nothing');
  });

  it('a run killed before kubectl has started the plugin (at a cluster event the run did not cause) changes nothing', async () => {
    const old = stored();
    const poke = `poke-${Date.now()}`;
    const started = g.start(['rotate', REC, '--settle', '2s'], { killWhen: (e) => e.store?.object.metadata.name === poke });
    // Right after the spawn, long before kubectl execs the plugin: the simulated operator and kubelet make such events too.
    sim.store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: poke, namespace: NS }, data: {} });
    const killed = await started.result;
    assert.equal(killed.killed, true);
    assert.equal(journalExists(sim, NS, REC), false, 'no journal');
    assert.equal(stored(), old);
    assertSettled();
    sim.store.delete('secrets', NS, poke);
  });

  it('--force when the journal changes between its read and the takeover (409): read again, at most three tries', async () => {
    const journalName = `${REC}-reccred-journal`;
    const conflicts = (n: number) => Object.assign(sim.faults, { secretWriteConflicts: n, secretWriteConflictName: n ? journalName : undefined });
    const old = stored();
    const killed = await run(['rotate', REC, '--settle', '2s'], { killWhen: (e) => journalPhaseOf(e.store) === 'stored' });
    assert.equal(killed.killed, true);
    const both = validPasswords(sim, REC, email()).sort();
    assert.equal(both.length, 2, 'killed with the old and the new password both valid');
    try {
      // Three conflicts in a row: the third try gives up, resumable, and nothing has changed.
      conflicts(3);
      const gaveUp = await run(['abort', REC, '--force', '--settle', '2s']);
      assert.equal(gaveUp.code, 3, gaveUp.stderr);
      assert.equal(sim.faults.secretWriteConflicts, 0, 'all three tries wrote');
      assert.equal(journal()?.phase, 'stored', 'the journal is where the killed run left it');
      assert.deepEqual(validPasswords(sim, REC, email()).sort(), both, 'nothing changed');
      // Two: the third try takes the journal over, and the abort settles on the old password.
      conflicts(2);
      const forced = await run(['abort', REC, '--force', '--settle', '2s']);
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(sim.faults.secretWriteConflicts, 0);
      assertSettled();
      assert.equal(stored(), old, 'rolled back to the password before the rotation');
    } finally {
      conflicts(0);
    }
  });

  it('user rotate printed on stdout: a crash before the journal records the delivery loses nothing', async () => {
    const user = 'lease-app@example.com';
    const initial = 'Lease-App-Initial-Pa55!';
    const uid = sim.redis(REC).createUser({ email: user, password: initial, role: 'db_member' }).uid;
    const journalName = `${REC}-reccred-journal-user-${uid}`;
    g.addPassword(initial);
    const killed = await run(['user', 'rotate', REC, '--user', user, '--current-password-stdin'], {
      stdin: `${initial}\n`,
      stdoutHasSecret: true,
      killWhen: (e) => e.store?.object.metadata.name === journalName && journal(journalName)?.phase === 'stored',
    });
    assert.equal(killed.killed, true);
    const printed = killed.stdout.trim();
    assert.ok(printed.length >= 8, 'the password was on stdout before the journal moved on');
    assert.deepEqual(validPasswords(sim, REC, user).sort(), [initial, printed].sort());

    const again = await run(['user', 'rotate', REC, '--user', user], { stdoutHasSecret: true });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), printed, 'a resumed run hands the same password over again');
    const finished = await run(['user', 'finish', REC, '--user', user]);
    assert.equal(finished.code, 0, finished.stderr);
    assert.deepEqual(validPasswords(sim, REC, user), [printed]);
    assert.equal(sim.store.get('secrets', NS, journalName), undefined);
  });

  it('finish after a crash inside reset: a refused check is the only login of the run, and it explains the lockout', async () => {
    sim.operator.setEnabled(REC, false);
    try {
      const killed = await run(['reset', REC, '--yes'], { killWhen: (e) => e.audit?.kind === 'rest' && e.audit.method === 'PUT' && e.audit.path === '/v1/users/password' });
      assert.equal(killed.killed, true);
      const record = journal();
      assert.ok(record.replaceSentAt);
      await putApplied(record.newPassword);
      // The PUT applied, and the account is locked: it refuses every password, the new one too.
      sim.redis(REC).lock(email());
      const f0 = sim.audit.failedRestAuths(REC);
      for (let i = 0; i < 2; i++) {
        const r = await run(['finish', REC], { mayFailOnce: true });
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, /either the replacement \(PUT\) never applied, or the account is locked/);
        assert.match(r.stderr, /status "locked"/);
        assert.equal(sim.audit.failedRestAuths(REC) - f0, i + 1, 'exactly one refused login per run, never a second one');
      }
      sim.redis(REC).unlock(email());
      const r = await run(['finish', REC]);
      assert.equal(r.code, 0, r.stderr);
      assertSettled();
      assert.equal(stored(), record.newPassword);
    } finally {
      sim.operator.setEnabled(REC, true);
    }
  });

  it('abort after a refused check proves with one login that the reset never applied', async () => {
    sim.operator.setEnabled(REC, false);
    try {
      const old = stored();
      const killed = await run(['reset', REC, '--yes'], { killWhen: (e) => e.audit?.kind === 'rest' && e.audit.method === 'PUT' && e.audit.path === '/v1/users/password' });
      assert.equal(killed.killed, true);
      await putApplied(journal().newPassword);
      // Make the PUT not have applied: the cluster holds exactly the previous password.
      sim.redis(REC).setPasswords(email(), [old]);
      const f0 = sim.audit.failedRestAuths(REC);
      const refusedCheck = await run(['finish', REC], { mayFailOnce: true });
      assert.equal(refusedCheck.code, 3, refusedCheck.stderr);
      assert.equal(sim.audit.failedRestAuths(REC) - f0, 1);
      const abort = await run(['abort', REC], { mayFailOnce: true });
      assert.equal(abort.code, 0, abort.stderr);
      assert.equal(sim.audit.failedRestAuths(REC) - f0, 1, 'the abort logged in with the previous password, which works');
      assertSettled();
      assert.equal(stored(), old);
    } finally {
      sim.operator.setEnabled(REC, true);
    }
  });
});

/** faketime comes from Debian's faketime package (.ci/run installs it). */
before(() => {
  execFileSync('faketime', ['-f', '-1m', 'true']);
});
