// Events on the REC, read back through the real kubectl (`kubectl describe rec`): a completed rotation, one that
// stops resumable and is aborted, a refused one and its finish, and a run without the permission to record them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import { journalExists, leaksIn, reccred, validPasswords } from './harness.js';

const NS = 'default';
const FROM = 'reccred.redis.io/kubectl-reccred';

interface DescribedEvent {
  type: string;
  reason: string;
  from: string;
  message: string;
}

describe('Events on the REC: every milestone in kubectl describe rec (real kubectl)', function () {
  this.timeout(300_000);
  let sim: SimCluster;

  before(async () => {
    sim = await startSimCluster({
      namespaces: [NS],
      recs: [
        { name: 'rec', pods: 2 },
        { name: 'rec-b', pods: 1 },
        { name: 'rec-c', pods: 1 },
        { name: 'rec-d', pods: 1 },
        { name: 'rec-e', pods: 1 },
      ],
      syncDelayMs: 300,
    });
  });
  after(async () => {
    await sim?.stop();
  });

  function kubectl(args: string[], kubeconfig = sim.kubeconfig): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn('kubectl', [...args, '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** The Events section of `kubectl describe rec`, row by row (Type, Reason, Age, From, Message). */
  async function described(rec: string): Promise<{ events: DescribedEvent[]; text: string }> {
    const r = await kubectl(['describe', 'rec', rec, '-n', NS]);
    assert.equal(r.code, 0, r.stderr);
    const section = r.stdout.split(/^Events:/m)[1] ?? '';
    const events = section
      .split('\n')
      .map((l) => /^\s+(Normal|Warning)\s+(\S+)\s+\S+(?: \(x\d+ over \S+\))?\s+(\S+)\s+(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ type: m[1]!, reason: m[2]!, from: m[3]!, message: m[4]! }));
    return { events, text: r.stdout };
  }

  const reasons = (events: DescribedEvent[]) => events.map((e) => `${e.type} ${e.reason}`);

  it('a completed rotation: each milestone once, Normal, from the plugin, the user and phase in the message, no password', async () => {
    const old = sim.credentials('rec')!.password;
    const r = await reccred(sim, ['rotate', 'rec', '-n', NS, '--settle', '1s']);
    assert.equal(r.code, 0, r.stderr);
    const now = sim.credentials('rec')!;
    const { events, text } = await described('rec');
    assert.deepEqual(reasons(events), [
      'Normal RotationStarted',
      'Normal PasswordAdded',
      'Normal StoreUpdated',
      'Normal PodsUpdated',
      'Normal OldPasswordRemoved',
      'Normal RotationCompleted',
    ]);
    for (const e of events) {
      assert.equal(e.from, FROM);
      assert.match(e.message, new RegExp(`^rotate of ${now.username} \\(journal rec-reccred-journal\\)`));
    }
    assert.match(events[1]!.message, /phase added$/);
    const notes = sim.events({ namespace: NS, name: 'rec' });
    assert.ok(notes.every((e) => e.action === 'RotatePassword' && e.reportingController === FROM));
    assert.deepEqual(leaksIn([text, JSON.stringify(notes)], [old, now.password]), [], 'no password in any Event');
  });

  it('a rotation that stops (pods never see the Secret): Warning RotationStopped naming the phase; abort: RotationResumed, RollingBack, RotationRolledBack', async () => {
    const old = sim.credentials('rec-b')!.password;
    sim.faults.frozenPods.add(`${NS}/rec-b-0`);
    try {
      const r = await reccred(sim, ['rotate', 'rec-b', '-n', NS, '--settle', '1s', '--propagation-timeout', '2s']);
      assert.equal(r.code, 3, r.stderr);
    } finally {
      sim.faults.frozenPods.clear();
    }
    let { events } = await described('rec-b');
    assert.deepEqual(reasons(events), ['Normal RotationStarted', 'Normal PasswordAdded', 'Normal StoreUpdated', 'Warning RotationStopped']);
    assert.match(events[3]!.message, /phase stored: the rotation of REC rec-b stopped in phase "stored"/);
    const a = await reccred(sim, ['abort', 'rec-b', '-n', NS, '--settle', '1s']);
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(validPasswords(sim, 'rec-b', sim.credentials('rec-b')!.username), [old]);
    ({ events } = await described('rec-b'));
    assert.deepEqual(reasons(events).slice(4), ['Normal RotationResumed', 'Normal RollingBack', 'Normal RotationRolledBack']);
    assert.match(events[4]!.message, /abort took it over in phase stored/);
    assert.match(events[5]!.message, /rolling back from phase stored/);
  });

  it('a rotation refused while another waits for finish: Warning RotationRefused; finish then completes the first', async () => {
    const first = await reccred(sim, ['rotate', 'rec-c', '-n', NS, '--settle', '1s', '--no-wait']);
    assert.equal(first.code, 0, first.stderr);
    const again = await reccred(sim, ['rotate', 'rec-c', '-n', NS, '--settle', '1s']);
    assert.equal(again.code, 4, again.stderr);
    const f = await reccred(sim, ['finish', 'rec-c', '-n', NS, '--settle', '1s']);
    assert.equal(f.code, 0, f.stderr);
    const { events } = await described('rec-c');
    assert.deepEqual(reasons(events), [
      'Normal RotationStarted',
      'Normal PasswordAdded',
      'Normal StoreUpdated',
      'Normal WaitingForFinish',
      'Warning RotationRefused',
      'Normal RotationResumed',
      'Normal PodsUpdated',
      'Normal OldPasswordRemoved',
      'Normal RotationCompleted',
    ]);
    assert.match(events[4]!.message, /already in progress/);
    assert.equal(journalExists(sim, NS, 'rec-c'), false);
  });

  it('a user rotation the cluster refuses at its first change (a wrong current password): Warning RotationFailed, nothing changed', async () => {
    const email = 'svc@example.com';
    sim.redis('rec').createUser({ email, password: 'Svc-Initial-Passw0rd!', role: 'db_member' });
    const r = await reccred(sim, ['user', 'rotate', 'rec', '-n', NS, '--user', email, '--current-password-stdin'], { stdin: 'Not-Its-Passw0rd!\n' });
    assert.notEqual(r.code, 0, r.stderr);
    assert.notEqual(r.code, 3, r.stderr);
    assert.deepEqual(validPasswords(sim, 'rec', email), ['Svc-Initial-Passw0rd!']);
    const { events } = await described('rec');
    assert.deepEqual(reasons(events).slice(-2), ['Normal RotationStarted', 'Warning RotationFailed']);
    assert.match(events.at(-1)!.message, new RegExp(`^user-rotate of ${email} \\(journal rec-reccred-journal-user-\\d+\\): phase `));
    assert.equal(sim.store.list('secrets', NS).filter((s) => s.metadata.name.startsWith('rec-reccred-journal-user-')).length, 0, 'the journal went with the refusal');
  });

  it('change-user and reset: their own action, and notes that say what they did', async () => {
    const admin = sim.credentials('rec-e')!.username;
    const c = await reccred(sim, ['change-user', 'rec-e', '-n', NS, '--username', 'ops@example.com', '--settle', '1s']);
    assert.equal(c.code, 0, c.stderr);
    const r = await reccred(sim, ['reset', 'rec-e', '-n', NS, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const events = sim.events({ namespace: NS, name: 'rec-e' }).map((e) => `${e.action} ${e.reason}: ${(e.note ?? '').replace(/ by [^ ]+ \(pid \d+\)$/, '')}`);
    const changed = `change-user of ${admin} (journal rec-e-reccred-journal)`;
    const reset = 'reset of ops@example.com (journal rec-e-reccred-journal)';
    assert.deepEqual(events, [
      `ChangeAdminUser RotationStarted: ${changed} started`,
      `ChangeAdminUser PasswordAdded: ${changed}: the new admin user ops@example.com exists; ${admin} still works; phase added`,
      `ChangeAdminUser StoreUpdated: ${changed}: secret ${NS}/rec-e holds the new password; phase stored`,
      `ChangeAdminUser PodsUpdated: ${changed}: every pod mounts the new credentials; phase propagated`,
      `ChangeAdminUser OldPasswordRemoved: ${changed}: the old admin user ${admin} is deleted; phase removed`,
      `ChangeAdminUser RotationCompleted: ${changed}: completed; only the new password works`,
      `ResetPasswords RotationStarted: ${reset} started`,
      `ResetPasswords PasswordAdded: ${reset}: every password of ops@example.com is replaced by the new one; phase added`,
      `ResetPasswords StoreUpdated: ${reset}: secret ${NS}/rec-e holds the new password; phase stored`,
      `ResetPasswords PodsUpdated: ${reset}: every pod mounts the new credentials; phase propagated`,
      `ResetPasswords RotationCompleted: ${reset}: completed; only the new password works`,
    ]);
  });

  it('without permission to create Events: the rotation completes, says so once, and records none', async () => {
    const rules = [
      { verbs: ['*'], apiGroups: [''], resources: ['*'] },
      { verbs: ['*'], apiGroups: ['app.redislabs.com'], resources: ['*'] },
    ];
    const { kubeconfig } = sim.addUser('no-events', rules);
    const r = await reccred(sim, ['rotate', 'rec-d', '-n', NS, '--settle', '1s'], { kubeconfig });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/Events: not recorded/g)?.length, 1, r.stderr);
    const now = sim.credentials('rec-d')!;
    assert.deepEqual(validPasswords(sim, 'rec-d', now.username), [now.password]);
    assert.deepEqual((await described('rec-d')).events, []);
    assert.deepEqual(sim.events({ namespace: NS, name: 'rec-d' }), []);
  });
});
