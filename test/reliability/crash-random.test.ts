// Crash matrix beyond the step boundaries of test/e2e: SIGKILL at a seeded random event after the
// journal exists, for rotate, change-user, reset and user rotate (with its user finish); then the
// documented recovery. Also reset and user rotate at their own step boundaries. After every recovery:
// exactly the right passwords are valid, the store's are accepted, no journal is left, nothing was lost;
// every run passes the lockout guard, and the file ends with the secret-hygiene scan over all of it.
//
// An event is one thing the simulated cluster records while the plugin runs, delivered synchronously: a
// store write (the journal, the store Secret, the REC, a --to-secret Secret; whoever wrote it) before its
// reply, a Kubernetes API request as its response closes, an exec session as it starts, its output and
// each program it ran in the pod as it ends, a REST call in a pod before its reply. At a write or a REST
// call the plugin is waiting; at the others it may have its answer and its next request on the way,
// which the simulator applies after the kill (so the journal may be one phase on). Only the
// events from the journal's creation (its Secret ADDED) to its deletion (its Secret DELETED) are kill
// points: before the journal nothing has changed, after it nothing is left to recover. Each such
// event carries the journal phase current at it: the last phase written, the phase being written for a
// journal write, and "deleting" for the journal's deletion.
// A calibration run per command counts the events of each phase; the random points are then drawn
// per phase (every phase gets one while the points last, in phase order; the rest fall on events
// drawn uniformly), each the Nth event of its phase (or the first after it, should a run have fewer
// events in that phase than the calibration). Every scenario asserts the kill happened and in which
// phase, and the file prints the kills per command and phase as a [figures] line.
// Replay a failure with RECCRED_SEED=<seed printed in the test title>.
import assert from 'node:assert/strict';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { journalExists, journalPhaseOf, validPasswords, type KillEvent } from '../e2e/harness.js';
import { Guard, SEED, printTally, prng, type GuardedRun } from './guard.js';

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

/** The label of the journal's deletion: the journal is gone, the plugin has not had the reply. */
const DELETING = 'deleting';

/**
 * Follows the journal through the events of one or more runs: no label before the journal exists or
 * after its deletion; otherwise the phase current at the event. Also keeps the last record written.
 */
class PhaseTracker {
  private current: string | undefined;
  last: Journal | undefined;
  constructor(private readonly isJournal: (name: string) => boolean) {}

  label(e: KillEvent): string | undefined {
    const s = e.store;
    if (s?.resource !== 'secrets' || !this.isJournal(s.object.metadata.name)) return this.current;
    if (s.type === 'DELETED') {
      this.current = undefined;
      return DELETING;
    }
    const data = (s.object as unknown as { data?: Record<string, string> }).data?.['journal.json'];
    if (data) {
      this.last = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as Journal;
      this.current = this.last.phase;
    }
    return this.current;
  }
}

/** Kill at the Nth event (1-based) of a phase; `of` is how many events the calibration saw in it. */
interface KillPoint {
  phase: string;
  nth: number;
  of: number;
}

/**
 * Stratified points: one per phase in phase order while they last (a seeded subset of the phases if there
 * are fewer points than phases), the rest on events drawn uniformly over the whole window.
 */
function stratify(counts: Map<string, number>, points: number, rand: () => number): KillPoint[] {
  const phases = [...counts.keys()];
  let chosen = [...phases];
  if (points < phases.length) {
    const order = phases.map((p) => ({ p, r: rand() })).sort((x, y) => x.r - y.r);
    const keep = new Set(order.slice(0, points).map((x) => x.p));
    chosen = phases.filter((p) => keep.has(p));
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  while (chosen.length < points) {
    let x = Math.floor(rand() * total);
    const phase = phases.find((p) => (x -= counts.get(p)!) < 0)!;
    chosen.push(phase);
  }
  return chosen.map((phase) => {
    const of = counts.get(phase)!;
    return { phase, of, nth: 1 + Math.floor(rand() * of) };
  });
}

/** Each command draws from its own seeded sequence, so a --grep of one command replays the same points. */
const randFor = (command: string) => prng((SEED + [...command].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)) >>> 0);

describe('reliability: crash matrix at random points inside steps', function () {
  this.timeout(600_000);
  let sim: SimCluster;
  let g: Guard;
  const t0 = Date.now();
  let scenarios = 0;
  let boundaryKills = 0;

  const creds = () => sim.credentials(REC)!;
  const journalOf = (name: string): Journal | undefined => {
    const s = sim.store.get('secrets', NS, name) as unknown as { data?: Record<string, string> } | undefined;
    return s?.data ? JSON.parse(Buffer.from(s.data['journal.json']!, 'base64').toString('utf8')) : undefined;
  };
  const journal = () => journalOf(`${REC}-reccred-journal`);
  const operatorFailures = () => sim.operator.failures(REC).length;

  /** The kill hook of a run aimed at a point; remembers the phase it killed in. */
  const killer = (point: KillPoint, isJournal: (name: string) => boolean) => {
    const tracker = new PhaseTracker(isJournal);
    let seen = 0;
    const state: { phase?: string; rearmed?: boolean } = {};
    const fn = (e: KillEvent): boolean => {
      const label = tracker.label(e);
      if (label === undefined) return false;
      if (label === point.phase) seen++;
      // The Nth event of the phase, or the first one after it if this run had fewer events in that phase.
      const hit = state.rearmed === true || (label === point.phase ? seen === point.nth : seen > 0);
      if (hit) Object.assign(state, { phase: label, rearmed: false });
      return hit;
    };
    /** The kill came after the run had ended on its own: the next event of the next run is the point. */
    const rearm = () => (state.rearmed = true);
    return { fn, state, tracker, rearm };
  };
  /**
   * The run was killed, by the signal, at the point's phase (or a later one); the journal left is in that phase or,
   * when the event was one the plugin did not wait for, the next. Returns the phase the journal was left in.
   */
  const assertKilled = (run: GuardedRun, k: ReturnType<typeof killer>, point: KillPoint, left: Journal | undefined, order: readonly string[]): string => {
    assert.equal(run.killed, true, `the kill point (${point.phase} event ${point.nth}/${point.of}) was reached: exit ${run.code}\n${run.stderr}`);
    assert.equal(run.signal, 'SIGKILL', 'the plugin died of the kill, not on its own');
    const at = k.state.phase!;
    if (at !== point.phase) process.stdout.write(`      [kill] landed in ${at}: this run had fewer than ${point.nth} events in ${point.phase}\n`);
    const landed = left?.phase ?? DELETING;
    if (landed !== at) {
      // Some events come after the plugin had its answer (an API response as it closes, a pod program's end):
      // its next journal write may already be on its way, and the simulator applies it after the kill, as a real
      // API server applies a request whose client died after sending it. Only that one write can follow.
      assert.equal(
        landed,
        order[order.indexOf(at) + 1],
        `the journal left behind is in the phase the kill landed in (${at}), or the next one, whose write was sent before the kill`,
      );
      process.stdout.write(`      [kill] at an event of ${at} the plugin was not waiting for: its write of ${landed} was already sent\n`);
    }
    return landed;
  };
  /** Events per phase of full runs (one command, or user rotate then user finish), in phase order. */
  const calibrate = async (runs: string[][], isJournal: (name: string) => boolean): Promise<Map<string, number>> => {
    const tracker = new PhaseTracker(isJournal);
    const counts = new Map<string, number>();
    const count = (e: KillEvent) => {
      const label = tracker.label(e);
      if (label !== undefined) counts.set(label, (counts.get(label) ?? 0) + 1);
      return false;
    };
    for (const args of runs) {
      const r = await g.run(args, { killWhen: count });
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal([...counts.keys()][0], 'recorded', 'the journal was created in phase recorded');
    assert.equal([...counts.keys()].at(-1), DELETING, 'the journal was deleted');
    return counts;
  };
  const kills: Record<string, Record<string, number>> = {};
  const calibrated: Record<string, Record<string, number>> = {};
  /** Counted once a scenario's checks passed. */
  const countKill = (command: string, phase: string) => {
    const c = (kills[command] ??= {});
    c[phase] = (c[phase] ?? 0) + 1;
    scenarios++;
  };
  const isRecJournal = (name: string) => name === `${REC}-reccred-journal`;

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
    let plan: KillPoint[] = [];
    let order: string[] = [];
    it('calibration: a full rotation, counting the events of each journal phase', async () => {
      const counts = await calibrate([['rotate', REC, ...FAST]], isRecJournal);
      assertSettled();
      assert.deepEqual([...counts.keys()], ['recorded', 'added', 'stored', 'propagated', 'removed', DELETING]);
      calibrated.rotate = Object.fromEntries(counts);
      order = [...counts.keys()];
      plan = stratify(counts, POINTS, randFor('rotate'));
    });
    for (let i = 0; i < POINTS; i++) {
      const recovery = i % 2 === 0 ? 'finish' : 'abort';
      it(`SIGKILL at random event #${i + 1} (seed ${SEED}), then ${recovery}`, async function () {
        const point = plan[i]!;
        this.test!.title += ` [${point.phase} event ${point.nth}/${point.of}]`;
        const f0 = operatorFailures();
        const k = killer(point, isRecJournal);
        const killed = await g.run(['rotate', REC, ...FAST], { killWhen: k.fn });
        const record = journal();
        const phase = assertKilled(killed, k, point, record, order);
        const r = await g.run([recovery, REC, '--settle', '1s']);
        assert.equal(r.code, 0, r.stderr);
        assertSettled();
        if (record) {
          const forward = recovery === 'finish' || record.phase === 'removed';
          assert.equal(creds().password, forward ? record.newPassword : record.oldPassword);
        } else {
          // Killed at the journal's deletion: the rotation was complete.
          assert.equal(creds().password, k.tracker.last!.newPassword, 'killed at the deletion of the journal: the new password stays');
        }
        assert.equal(operatorFailures(), f0, 'the operator never met a password the cluster refused');
        countKill('rotate', phase);
      });
    }
  });

  describe('change-user', () => {
    let plan: KillPoint[] = [];
    let order: string[] = [];
    let n = 0;
    const nextName = () => `crash${++n}-${SEED % 1000}@example.com`;
    it('calibration: a full change-user', async () => {
      const counts = await calibrate([['change-user', REC, '--username', nextName(), ...FAST]], isRecJournal);
      assertSettled();
      assert.deepEqual([...counts.keys()], ['recorded', 'added', 'stored', 'propagated', 'removed', DELETING]);
      calibrated['change-user'] = Object.fromEntries(counts);
      order = [...counts.keys()];
      plan = stratify(counts, POINTS, randFor('change-user'));
    });
    for (let i = 0; i < POINTS; i++) {
      // Starts with abort where rotate starts with finish: over the two, each phase meets both recoveries.
      const recovery = i % 2 === 0 ? 'abort' : 'finish';
      it(`SIGKILL at random event #${i + 1} (seed ${SEED}), then ${recovery}`, async function () {
        const point = plan[i]!;
        this.test!.title += ` [${point.phase} event ${point.nth}/${point.of}]`;
        const old = creds();
        const name = nextName();
        const f0 = operatorFailures();
        const k = killer(point, isRecJournal);
        const killed = await g.run(['change-user', REC, '--username', name, ...FAST], { killWhen: k.fn });
        const record = journal();
        const phase = assertKilled(killed, k, point, record, order);
        const r = await g.run([recovery, REC, '--settle', '1s']);
        assert.equal(r.code, 0, r.stderr);
        assertSettled();
        let expected: string;
        if (record) {
          // Once the deletion of the old user may have been sent, abort goes forward (it may complete late).
          const oldGone = record.phase === 'removed' || record.oldUserDeleteSentAt !== undefined;
          expected = recovery === 'finish' || oldGone ? name : old.username;
        } else expected = name; // killed at the deletion of the journal: the change was complete
        assert.equal(creds().username, expected);
        const other = expected === name ? old.username : name;
        assert.equal(sim.redis(REC).findUser(other), undefined, `the other admin user ${other} is gone: nothing half-created is left`);
        assert.equal(operatorFailures(), f0, 'the operator never met credentials the cluster refused');
        countKill('change-user', phase);
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
    /** The journal after the kill, or (killed at its deletion) the last record written. */
    const check = (recovery: string, record: Journal | undefined, last: Journal | undefined, old: string) => {
      if (recovery === 'abort') assert.equal(creds().password, old);
      else if (record) assert.equal(creds().password, record.newPassword);
      else {
        assert.ok(last, 'the journal was deleted: the last record written is known');
        assert.equal(creds().password, last.newPassword, 'killed at the deletion of the journal: the new password stays');
      }
    };

    let plan: KillPoint[] = [];
    let order: string[] = [];
    it('calibration: a full reset', async () => {
      const counts = await calibrate([['reset', REC, '--yes']], isRecJournal);
      assertSettled();
      assert.deepEqual([...counts.keys()], ['recorded', 'added', 'stored', 'propagated', DELETING]);
      calibrated.reset = Object.fromEntries(counts);
      order = [...counts.keys()];
      plan = stratify(counts, POINTS, randFor('reset'));
    });
    for (let i = 0; i < POINTS; i++) {
      it(`SIGKILL at random event #${i + 1} (seed ${SEED}), then finish (or abort where the PUT never left)`, async function () {
        const point = plan[i]!;
        this.test!.title += ` [${point.phase} event ${point.nth}/${point.of}]`;
        const old = creds().password;
        const k = killer(point, isRecJournal);
        const killed = await g.run(['reset', REC, '--yes'], { killWhen: k.fn });
        const record = journal();
        const phase = assertKilled(killed, k, point, record, order);
        const recovery = await recover(record, i % 2 === 1);
        if (recovery === 'abort') assert.ok(record && record.phase === 'recorded', 'abort only where the PUT never applied');
        check(recovery, record, k.tracker.last, old);
        countKill('reset', phase);
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
        boundaryKills++;
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
    const isUserJournal = (name: string) => name.startsWith(`${REC}-reccred-journal-user-`);
    /** Phase of a store event on a user journal (harness's journalPhaseOf knows only the REC journal). */
    const userJournalPhaseOf = (e: KillEvent): string | undefined => {
      const o = e.store?.object as unknown as { metadata: { name: string }; data?: Record<string, string> } | undefined;
      if (!o || e.store?.type === 'DELETED' || !isUserJournal(o.metadata.name) || !o.data?.['journal.json']) return undefined;
      return JSON.parse(Buffer.from(o.data['journal.json'], 'base64').toString('utf8')).phase;
    };
    const ARGS = ['user', 'rotate', REC, '--user', EMAIL, '--to-secret', `${NS}/${SECRET}`];
    const FINISH = ['user', 'finish', REC, '--user', EMAIL];
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
    /** Killed inside user rotate: re-running it resumes where the journal says (unless the Secret was written); then user finish. */
    const recoverAndFinish = async (before: string) => {
      const record = userJournal();
      assert.ok(record, 'the journal survived the kill');
      if (record.phase === 'recorded' || record.phase === 'added') {
        const again = await g.run(ARGS);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stderr, /Resuming the rotation/);
      }
      const now = userJournal();
      assert.ok(now, 'the rotation is recorded until finish');
      assert.equal(now.newPassword, record.newPassword, 'the resumed rotation keeps the journaled password: nothing lost');
      assert.equal(secretValue(), now.newPassword, 'the Secret holds the new password');
      assert.deepEqual(validPasswords(sim, REC, EMAIL).sort(), [before, now.newPassword].sort(), 'both passwords work until finish');
      const f = await g.run(['user', 'finish', REC, '--user', EMAIL]);
      assert.equal(f.code, 0, f.stderr);
      assert.deepEqual(validPasswords(sim, REC, EMAIL), [secretValue()], "only the Secret's password works");
      assert.equal(userJournal(), undefined, 'the user journal is gone');
    };
    /** Killed inside user finish: running it again completes it (or finds nothing left, killed at the journal's deletion). */
    const finishAgain = async (record: Journal | undefined, newPassword: string) => {
      if (record) assert.equal(record.newPassword, newPassword);
      assert.equal(secretValue(), newPassword, 'the Secret holds the new password');
      const f = await g.run(FINISH);
      assert.equal(f.code, 0, f.stderr);
      if (!record) assert.match(f.stdout + f.stderr, /has no rotation waiting to be finished/);
      assert.deepEqual(validPasswords(sim, REC, EMAIL), [newPassword], 'only the new password works');
      assert.equal(secretValue(), newPassword);
      assert.equal(userJournal(), undefined, 'the user journal is gone');
    };

    let plan: KillPoint[] = [];
    let order: string[] = [];
    it('calibration: a full user rotate, then user finish (the journal lives from one to the other)', async () => {
      const before = secretValue();
      const counts = await calibrate([ARGS, FINISH], isUserJournal);
      assert.deepEqual([...counts.keys()], ['recorded', 'added', 'stored', 'removed', DELETING]);
      assert.deepEqual(validPasswords(sim, REC, EMAIL), [secretValue()]);
      assert.notEqual(secretValue(), before);
      calibrated['user rotate+finish'] = Object.fromEntries(counts);
      order = [...counts.keys()];
      plan = stratify(counts, POINTS, randFor('user rotate'));
    });
    for (let i = 0; i < POINTS; i++) {
      it(`SIGKILL at random event #${i + 1} (seed ${SEED}) of user rotate then user finish, then the killed command again (and user finish)`, async function () {
        const point = plan[i]!;
        this.test!.title += ` [${point.phase} event ${point.nth}/${point.of}]`;
        const before = secretValue();
        const k = killer(point, isUserJournal);
        let killed = await g.run(ARGS, { killWhen: k.fn });
        let killedIn = 'user rotate';
        // The point lies in user finish, or it is an event that came as user rotate was ending on its own (a
        // pod program's end, the last response as it closed), when the signal no longer changes how it ends.
        const endedOnItsOwn = killed.killed && killed.signal !== 'SIGKILL';
        if (!killed.killed || endedOnItsOwn) {
          // The rotation must have completed its part.
          assert.equal(killed.code, 0, killed.stderr);
          if (endedOnItsOwn) {
            process.stdout.write('      [kill] came after user rotate had ended on its own: the first event of user finish is the point\n');
            k.rearm();
          }
          killed = await g.run(FINISH, { killWhen: k.fn });
          killedIn = 'user finish';
        }
        const record = userJournal();
        const phase = assertKilled(killed, k, point, record, order);
        this.test!.title += ` (in ${killedIn})`;
        if (killedIn === 'user rotate') await recoverAndFinish(before);
        else await finishAgain(record, k.tracker.last!.newPassword);
        countKill(killedIn, phase);
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
        scenarios++;
        boundaryKills++;
      });
    }
  });

  // Nested so that it runs after the matrix (mocha runs a suite's own tests before its sub-suites).
  describe('secret hygiene over the whole matrix', () => {
    it('no password leaked anywhere; no unexpected command ran in a pod', () => {
      const { passwords, texts } = g.assertClean(t0);
      // Printed for the README's Safety table: where the random kills landed, per command and journal phase.
      process.stdout.write(`      [figures] crash-random events per phase (calibration): ${JSON.stringify(calibrated)}\n`);
      process.stdout.write(`      [figures] crash-random kills by phase: ${JSON.stringify(kills)}\n`);
      const randomKills = Object.values(kills).reduce((n, c) => n + Object.values(c).reduce((a, b) => a + b, 0), 0);
      printTally('crash-random', { scenarios, randomKills, boundaryKills, passwordsTracked: passwords, textsScanned: texts });
    });
  });
});
