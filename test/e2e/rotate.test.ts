// End to end: the real executable, through the real kubectl, against the simulated cluster.
// Every assertion is on final state: what the Secret holds, which passwords the cluster accepts,
// whether a journal is left, and whether any component failed to authenticate.
import assert from 'node:assert/strict';
import { ResultSchema } from '../../src/output/result.js';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { watchExecRequests } from '../sim/faults.js';
import { journalExists, journalPhaseOf, leaksIn, reccred, startReccred, validPasswords, type KillEvent, type RunResult, guardOperatorLogins } from './harness.js';

const REC = 'rec';
const NS = 'default';
const LATE = 'rec-late';
const FAST = ['--settle', '3s', '--propagation-timeout', '30s'];

describe('rotate, finish, abort, status, get (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  guardOperatorLogins(() => sim);
  const outputs: string[] = [];
  const passwords = new Set<string>();
  let stopWatching: () => void;

  const run = async (args: string[], opts: Parameters<typeof reccred>[2] = {}): Promise<RunResult> => {
    const r = await reccred(sim, args, opts);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const email = () => sim.credentials(REC)!.username;
  const stored = () => sim.credentials(REC)!.password;
  const journalRecord = () => {
    const s = sim.store.get('secrets', NS, `${REC}-reccred-journal`) as { data?: Record<string, string> } | undefined;
    return s?.data ? JSON.parse(Buffer.from(s.data['journal.json']!, 'base64').toString('utf8')) : undefined;
  };
  /** The invariants that must hold whenever no operation is in flight. */
  const assertSettled = (expectPassword?: string) => {
    assert.equal(journalExists(sim, NS, REC), false, 'no journal is left');
    assert.deepEqual(validPasswords(sim, REC, email()), [stored()], 'the cluster accepts exactly the stored password');
    if (expectPassword !== undefined) assert.equal(stored(), expectPassword);
  };
  const failures = () => ({ operator: sim.operator.failures(REC).length, rest: sim.audit.failedRestAuths(REC) });

  before(async () => {
    // The REC's components see the Secret 2 s late (plus up to two 250 ms ticks): a removal before the settle (3 s) would meet one still using the old password.
    // LATE's see it 6 s late: only the settle (8 s) keeps the old password alive that long, propagation never does.
    sim = await startSimCluster({
      recs: [
        { name: REC, secretLagMs: 2000 },
        { name: LATE, pods: 1, secretLagMs: 6000 },
      ],
      pods: 3,
      syncDelayMs: 800,
      operatorIntervalMs: 250,
    });
    passwords.add(stored());
    // Remember every password the Secret or the journal ever held, for the leak scan.
    stopWatching = sim.store.onChange((e) => {
      if (e.resource !== 'secrets') return;
      const data = (e.object as { data?: Record<string, string> }).data ?? {};
      if (data.password) passwords.add(Buffer.from(data.password, 'base64').toString('utf8'));
      if (data['journal.json']) {
        const j = JSON.parse(Buffer.from(data['journal.json'], 'base64').toString('utf8'));
        passwords.add(j.oldPassword);
        passwords.add(j.newPassword);
      }
    });
  });
  after(async () => {
    stopWatching?.();
    await sim?.stop();
  });

  // One failed scenario must not cascade into the next: put the cluster back to a settled state.
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    sim.redis(REC).setPasswords(email(), [stored()]);
    sim.redis(REC).unlock(email());
    if (journalExists(sim, NS, REC)) sim.store.delete('secrets', NS, `${REC}-reccred-journal`);
    sim.faults.frozenPods.clear();
  });

  it('the settle outlasts components that see the Secret late: none of them meets a removed password', async () => {
    const before = sim.credentials(LATE)!;
    const f0 = sim.operator.failures(LATE).length;
    const r = await run(['rotate', LATE, '--settle', '8s', '--propagation-timeout', '30s']);
    assert.equal(r.code, 0, r.stderr);
    const after = sim.credentials(LATE)!;
    assert.notEqual(after.password, before.password);
    assert.deepEqual(validPasswords(sim, LATE, after.username), [after.password], 'the cluster accepts exactly the stored password');
    sim.operator.tickAll(); // a round now: the run may have ended between two of the components' logins
    assert.equal(sim.operator.failures(LATE).length, f0, 'no component met the removed password');
  });

  it('get shows the username and a masked password; --reveal shows it on stdout only', async () => {
    const masked = await run(['get', REC]);
    assert.equal(masked.code, 0, masked.stderr);
    assert.match(masked.stdout, /Username: +demo@redis\.com/);
    assert.ok(!masked.stdout.includes(stored()));
    const revealed = await run(['get', REC, '--reveal', '-o', 'json']);
    const doc = ResultSchema.parse(JSON.parse(revealed.stdout));
    assert.equal(doc.password, stored());
    assert.ok(!revealed.stderr.includes(stored()));
    outputs.pop(); // the revealed stdout legitimately holds the password
    outputs.pop();
    outputs.push(revealed.stderr);
  });

  it('rotate --settle 3s: the secret holds the new password, the cluster accepts only it, no journal, no failed login', async () => {
    const before = stored();
    const f0 = failures();
    const r = await run(['rotate', REC, ...FAST, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = ResultSchema.parse(JSON.parse(r.stdout));
    assert.equal(doc.phase, 'completed');
    assert.equal(doc.pods.length, 3);
    assert.ok(doc.pods.every((p) => p.propagation === 'current'));
    assert.notEqual(stored(), before);
    assert.equal(stored().length, 32);
    assertSettled();
    assert.deepEqual(failures(), f0, 'no component failed to authenticate');
    // Plain progress off a terminal: one line per step.
    assert.match(r.stderr, /\[ok\] remove the old password/);
  });

  it('takes the new password from stdin and from a file, never from argv', async () => {
    const fromStdin = 'Stdin-Passw0rd!x';
    let r = await run(['rotate', REC, ...FAST, '--password-stdin'], { stdin: `${fromStdin}\n` });
    assert.equal(r.code, 0, r.stderr);
    assertSettled(fromStdin);
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-pw-')), 'pw');
    fs.writeFileSync(file, 'File-Passw0rd!y\n', { mode: 0o600 });
    r = await run(['rotate', REC, ...FAST, '--password-file', file]);
    assert.equal(r.code, 0, r.stderr);
    assertSettled('File-Passw0rd!y');
    passwords.add(fromStdin).add('File-Passw0rd!y');
  });

  it('--dry-run runs the checks, prints the plan and changes nothing', async () => {
    const before = stored();
    const mark = sim.audit.mark();
    const r = await run(['rotate', REC, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Nothing was changed/);
    assertSettled(before);
    const writes = sim.audit
      .since(mark)
      .filter((e) => e.kind === 'api' && e.method !== 'GET' && !e.uri.includes('selfsubjectaccessreviews') && !e.uri.startsWith('/apis/events.k8s.io/'));
    assert.deepEqual(writes, []);
  });

  it('--no-wait stops with both passwords valid; finish completes later', async () => {
    const old = stored();
    let r = await run(['rotate', REC, ...FAST, '--no-wait']);
    assert.equal(r.code, 0, r.stderr);
    const fresh = stored();
    assert.notEqual(fresh, old);
    assert.deepEqual(validPasswords(sim, REC, email()).sort(), [old, fresh].sort());
    assert.equal(journalRecord()?.phase, 'stored');
    const status = await run(['status', REC, '-o', 'json']);
    assert.equal(ResultSchema.parse(JSON.parse(status.stdout)).journal?.phase, 'stored');
    r = await run(['finish', REC]);
    assert.equal(r.code, 0, r.stderr);
    assertSettled(fresh);
  });

  it('refuses a second rotation while one is in progress (exit 4, naming the holder)', async () => {
    let r = await run(['rotate', REC, ...FAST, '--no-wait']);
    assert.equal(r.code, 0, r.stderr);
    const second = await run(['rotate', REC, ...FAST]);
    assert.equal(second.code, 4);
    assert.match(second.stderr, /already in progress .*held by .*pid \d+/);
    r = await run(['abort', REC]);
    assert.equal(r.code, 0, r.stderr);
    assertSettled();
  });

  // Each boundary: the sim SIGKILLs the plugin as it sees this event, before answering the request.
  const boundaries: Array<{ name: string; at: (e: KillEvent) => boolean }> = [
    { name: 'journal created', at: (e) => journalPhaseOf(e.store) === 'recorded' && e.store?.type === 'ADDED' },
    { name: 'inside the add (POST received, reply not sent)', at: (e) => e.audit?.kind === 'rest' && e.audit.method === 'POST' && e.audit.path === '/v1/users/password' },
    { name: 'journal phase added', at: (e) => journalPhaseOf(e.store) === 'added' },
    {
      name: 'inside the store update (Secret written, reply not sent)',
      at: (e) => e.store?.resource === 'secrets' && e.store.object.metadata.name === REC && e.store.type === 'MODIFIED',
    },
    { name: 'journal phase stored', at: (e) => journalPhaseOf(e.store) === 'stored' },
    { name: 'journal phase propagated', at: (e) => journalPhaseOf(e.store) === 'propagated' },
    { name: 'inside the removal (DELETE received, reply not sent)', at: (e) => e.audit?.kind === 'rest' && e.audit.method === 'DELETE' && e.audit.path === '/v1/users/password' },
    { name: 'journal phase removed', at: (e) => journalPhaseOf(e.store) === 'removed' },
    { name: 'journal deleted', at: (e) => journalPhaseOf(e.store) === 'deleted' },
  ];
  for (const b of boundaries) {
    for (const recovery of ['finish', 'abort'] as const) {
      it(`SIGKILL at "${b.name}", then ${recovery}`, async () => {
        const old = stored();
        const f0 = failures();
        const killed = await run(['rotate', REC, ...FAST], { killWhen: b.at });
        assert.equal(killed.killed, true, `the kill point was reached: ${killed.stderr}`);
        assert.equal(killed.signal, 'SIGKILL');
        const record = journalRecord();
        const r = await run([recovery, REC, '--settle', '3s']);
        assert.equal(r.code, 0, r.stderr);
        assertSettled();
        if (record) {
          const pastRemoval = record.phase === 'removed';
          const expected = recovery === 'finish' || pastRemoval ? record.newPassword : record.oldPassword;
          assert.equal(stored(), expected);
        } else {
          // Killed after the journal was deleted: the rotation was complete.
          assert.notEqual(stored(), old);
        }
        assert.deepEqual(failures(), f0, 'no failed authentication anywhere');
      });
    }
  }

  it('rotates over exec protocol v4 only (stdin is never half-closed)', async () => {
    sim.setExecProtocols(['v4']);
    try {
      const before = stored();
      const r = await run(['rotate', REC, ...FAST]);
      assert.equal(r.code, 0, r.stderr);
      assert.notEqual(stored(), before);
      assertSettled();
    } finally {
      sim.setExecProtocols(['v5', 'v4']);
    }
  });

  it("follows the 307 from a non-master pod by exec'ing into the master", async () => {
    sim.redis(REC).masterPod = `${REC}-2`;
    try {
      const mark = sim.audit.mark();
      const r = await run(['rotate', REC, ...FAST]);
      assert.equal(r.code, 0, r.stderr);
      assertSettled();
      const rest = sim.audit.since(mark).filter((e) => e.kind === 'rest');
      assert.ok(rest.some((e) => e.kind === 'rest' && e.status === 307));
      assert.ok(rest.filter((e) => e.kind === 'rest' && e.method === 'POST').every((e) => e.kind === 'rest' && (e.pod === `${REC}-2` || e.status === 307)));
    } finally {
      sim.redis(REC).masterPod = `${REC}-0`;
    }
  });

  it('an exec answer lost after the POST ran is never taken as success: exit 3, then finish', async () => {
    const f0 = failures();
    const before = stored();
    // The session's connection is cut right after the pod's REST API ran the POST that adds the password,
    // before its reply reaches the plugin.
    let phase: string | undefined;
    const w = watchExecRequests(sim.audit, sim.faults, { label: () => phase });
    const stopPhases = sim.store.onChange((e) => {
      if (e.object.metadata.name !== `${REC}-reccred-journal`) return;
      phase = journalPhaseOf(e) ?? phase;
    });
    const cutAt = { match: /^POST \/v1\/users\/password$/, remaining: 1 };
    sim.faults.dropExecAtRest = [cutAt];
    const r = await run(['rotate', REC, ...FAST]);
    sim.faults.dropExecAtRest = [];
    w.stop();
    stopPhases();
    assert.equal(cutAt.remaining, 0, `the cut was made: ${r.stderr}`);
    const named = w.requests.filter((x) => x.rest.includes('POST /v1/users/password'));
    assert.deepEqual(
      named.map((x) => x.label),
      ['recorded'],
      'one request carried the POST, once the journal was recorded',
    );
    // The POST ran to its end and only its reply was lost: the run cannot know, so it stops resumable.
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /without an exit status/);
    assert.match(r.stderr, /kubectl reccred finish rec -n default/);
    assert.equal(journalExists(sim, NS, REC), true, 'the journal is left to resume from');
    assert.equal(stored(), before, 'the store was not touched on an unconfirmed add');
    assert.deepEqual(validPasswords(sim, REC, email()).sort(), [before, journalRecord().newPassword].sort(), 'both passwords are valid while resumable');
    const f = await run(['finish', REC]);
    assert.equal(f.code, 0, f.stderr);
    assertSettled();
    assert.notEqual(stored(), before, 'finish completed the rotation');
    assert.deepEqual(failures(), f0);
  });

  it('a pod that never sees the new secret: propagation times out with exit 3; finish completes once it syncs', async () => {
    sim.faults.frozenPods.add(`${NS}/${REC}-1`);
    const r = await run(['rotate', REC, '--settle', '3s', '--propagation-timeout', '3s']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /rec-1/);
    assert.match(r.stderr, /kubectl reccred finish rec -n default/);
    assert.equal(validPasswords(sim, REC, email()).length, 2, 'both passwords stay valid');
    sim.faults.frozenPods.delete(`${NS}/${REC}-1`);
    const f = await run(['finish', REC]);
    assert.equal(f.code, 0, f.stderr);
    assertSettled();
  });

  it('Ctrl-C during the settle wait leaves a resumable state (exit 3)', async () => {
    const { child, result } = startReccred(sim, ['rotate', REC, '--settle', '60s', '--propagation-timeout', '30s']);
    // One Ctrl-C: every later write of the journal in that phase (the lease's renewal and release) would send a
    // second, which quits at once (exit 3, no message), as a second Ctrl-C is meant to.
    let sent = false;
    const stop = sim.store.onChange((e) => {
      if (sent || journalPhaseOf(e) !== 'propagated') return;
      sent = true;
      setTimeout(() => child.kill('SIGINT'), 300);
    });
    const r = await result;
    outputs.push(r.stdout, r.stderr);
    stop();
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /interrupted/);
    const a = await run(['abort', REC, '--settle', '3s']);
    assert.equal(a.code, 0, a.stderr);
    assertSettled();
  });

  it('status shows per-pod propagation and the last rotation', async () => {
    const r = await run(['status', REC]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Last rotation: +20\d\d-/);
    assert.match(r.stdout, /rec-2 +Ready +current/);
  });

  it('no password appears in request URIs, pod argv, or the plugin output', () => {
    sim.collectArgv();
    assert.ok(sim.sandboxes.tracesExecs, "every process exec'd in a pod is traced (install strace)");
    assert.deepEqual(sim.sandboxes.lostTraces, [], 'every exec left a trace');
    assert.ok(passwords.size >= 10, `passwords seen: ${passwords.size}`);
    const texts = [...sim.audit.texts(), ...outputs];
    assert.ok(
      sim.audit.events().some((e) => e.kind === 'argv' && e.argv.some((a) => a.includes('curl'))),
      'argv of curl was recorded',
    );
    assert.deepEqual(leaksIn(texts, [...passwords]), []);
  });
});
