// Fault matrix: a rotation hit mid-run by each of the sim's injectors (API 500/429 bursts on reads and
// on the Secret patch, 409 on the store and on the journal, a pod restarted during propagation, exec
// refused, the API server failing or hanging, REST 500, exec sessions dropped before their status,
// Vault sealed, the Vault token revoked). Each run ends complete (exit 0, settled) or resumable (exit 3,
// the message names the fault and the finish/abort command); finish or abort then settles it. A run
// never exits 1 while a journal is left (1 means nothing is left changed). Lockout guard on every run;
// secret hygiene over the whole file at the end.
// A fault counts as survived only once it is shown to have fired (the injector's remaining count or its
// log of the requests it hit, or the status the audit log recorded since it was armed), and only after
// the final state is checked. A fault that never fired fails its scenario.
import assert from 'node:assert/strict';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import { watchExecRequests, type ExecDropPoint, type ExecRequestSeen, type RouteFault } from '../sim/faults.js';
import { journalExists, journalPhaseOf, validPasswords } from '../e2e/harness.js';
import { Guard, SEED, printTally, prng } from './guard.js';

const NS = 'default';
const REC = 'rec';
const VREC = 'rec-vault';
const FAST = ['--settle', '1s', '--propagation-timeout', '20s'];

interface Scenario {
  name: string;
  rec?: string;
  /** Journal phase (of this REC's journal) at which the fault is switched on. */
  at: 'recorded' | 'added' | 'stored' | 'propagated';
  arm: (sim: SimCluster) => void | Promise<void>;
  clear: (sim: SimCluster) => void;
  /**
   * What the fault hit, read before `clear` from the injector (remaining count, fired log) or from the
   * audit log since it was armed; undefined when it never fired.
   */
  hit: (sim: SimCluster, armed: Armed) => string | undefined | Promise<string | undefined>;
  /** What the run may end with: complete, or resumable with this message. */
  expect: 'ok' | 'resumable' | 'either';
  message?: RegExp;
  args?: string[];
  env?: () => Record<string, string>;
  /** Requests the sim still holds (a hang) are answered this much later: the API "comes back" before the recovery. */
  drainMs?: number;
  recoveryEnv?: () => Record<string, string>;
}

/** When the fault was switched on: audit events from `mark` on happened while it was armed. */
interface Armed {
  time: number;
  mark: number;
}

/** A 500/429/503 on the routes `match` selects, and which requests it answered (the injector's fired log). */
function routeFault(list: 'apiErrors' | 'restErrors', match: RegExp, status: RouteFault['status'], remaining: number) {
  let fault: RouteFault | undefined;
  return {
    arm: (s: SimCluster) => {
      fault = { match, status, remaining };
      s.faults[list].push(fault);
    },
    clear: (s: SimCluster) => void (s.faults[list] = []),
    hit: (s: SimCluster) => {
      const hits = fault ? s.faults.hits(fault) : [];
      return hits.length > 0 ? `${hits.length} x ${status}: ${[...new Set(hits)].join(', ')}` : undefined;
    },
  };
}

/** Audit events since the fault was armed whose status is `status`, on a URI `uri` matches. */
function auditHits(sim: SimCluster, armed: Armed, kind: 'api' | 'vault', status: number, uri: RegExp): string | undefined {
  const hits = sim.audit
    .since(armed.mark)
    .flatMap((e) =>
      (e.kind === 'api' || e.kind === 'vault') && e.kind === kind && e.status === status && uri.test(e.uri.split('?')[0]!) ? [`${e.method} ${e.uri.split('?')[0]!}`] : [],
    );
  return hits.length > 0 ? `${hits.length} x ${status}: ${[...new Set(hits)].join(', ')}` : undefined;
}

describe('reliability: fault matrix', function () {
  this.timeout(600_000);
  let sim: SimCluster;
  let g: Guard;
  let vaultEnv: Record<string, string>;
  const t0 = Date.now();
  /** Faults switched on, shown to have fired, and survived (fired, then the final state checked). */
  let armedFaults = 0;
  let consumedFaults = 0;
  let survived = 0;
  const consumedNames: string[] = [];
  let scenarios = 0;

  const creds = (rec: string) => sim.credentials(rec)!;
  const assertSettled = (rec: string) => {
    assert.equal(journalExists(sim, NS, rec), false, 'no journal is left');
    const { username, password } = creds(rec);
    assert.deepEqual(validPasswords(sim, rec, username), [password], 'the cluster accepts exactly the stored password');
  };

  before(async () => {
    sim = await startSimCluster({
      recs: [
        { name: REC, namespace: NS },
        { name: VREC, namespace: NS, secretType: 'vault' },
        { name: 'rec-hang', namespace: NS, pods: 1 },
      ],
      pods: 2,
      syncDelayMs: 400,
      operatorIntervalMs: 250,
      vaultCacheSeconds: 1,
    });
    vaultEnv = { VAULT_ADDR: sim.vault.addr, VAULT_TOKEN: sim.vault.token, VAULT_CACERT: sim.vault.caFile };
    g = new Guard(sim, vaultEnv);
    g.passwords.add(sim.vault.token);
  });
  after(async () => {
    g?.dispose();
    await sim?.stop();
  });
  afterEach(function () {
    sim.faults.reset();
    if (this.currentTest?.state !== 'failed') return;
    for (const rec of [REC, VREC, 'rec-hang']) {
      const { username, password } = creds(rec);
      sim.redis(rec).setPasswords(username, [password]);
      sim.redis(rec).unlock(username);
      if (journalExists(sim, NS, rec)) sim.store.delete('secrets', NS, `${rec}-reccred-journal`);
    }
  });

  /** The journal phase of the scenario's REC as last written, for the pod-restart scenario. */
  let journalPhaseNow: string | undefined;
  /** How long the hang scenario holds each request; --request-timeout 3s gives up well before. */
  const HANG_MS = 8_000;
  /**
   * Requests for `rec` the client gave up on while the sim still held them: the sim authenticates a
   * request only after the latency, so one closed as "system:anonymous" (the plugin always authenticates)
   * never got past the hold. An exec upgrade held that way is never recorded at all.
   */
  const held = (s: SimCluster, armed: Armed, rec: string) => {
    const hits = s.audit
      .since(armed.mark)
      .flatMap((e) =>
        e.kind === 'api' && e.uri.includes(`/${rec}`) && e.user === 'system:anonymous' ? [`${e.method} ${e.uri.split('?')[0]!} (${e.time - armed.time} ms after the arm)`] : [],
      );
    return hits.length > 0 ? `${hits.length} request(s) given up on while held: ${hits.join(', ')}` : undefined;
  };
  const route = (method: string, path: string) => new RegExp(`^${method} ${path.replace(/[/.]/g, '\\$&')}$`);
  const SECRET_PATH = `/api/v1/namespaces/${NS}/secrets/${REC}`;

  const SECRET_URI = new RegExp(`^${SECRET_PATH.replace(/[/.]/g, '\\$&')}$`);
  const JOURNAL_URI = new RegExp(`^${SECRET_PATH.replace(/[/.]/g, '\\$&')}-reccred-journal$`);
  const conflictOn = (secret: string, uri: RegExp) => ({
    arm: (s: SimCluster) => void Object.assign(s.faults, { secretWriteConflicts: 1, secretWriteConflictName: secret }),
    clear: (s: SimCluster) => void Object.assign(s.faults, { secretWriteConflicts: 0, secretWriteConflictName: undefined }),
    // Consumed (none left), and the 409 the audit log shows is on a write of that Secret.
    hit: (s: SimCluster, armed: Armed) => (s.faults.secretWriteConflicts === 0 ? auditHits(s, armed, 'api', 409, uri) : undefined),
  });
  let restart: { done: Promise<void>; restartsBefore: number; phaseWhenDone?: string } | undefined;
  const restartCount = (s: SimCluster, pod: string) =>
    ((s.store.get('pods', NS, pod)?.status as { containerStatuses?: Array<{ restartCount: number }> } | undefined)?.containerStatuses ?? []).reduce(
      (n, c) => n + c.restartCount,
      0,
    );

  const scenariosList: Scenario[] = [
    {
      name: 'API 500 burst on the store read (GET secret)',
      at: 'added',
      ...routeFault('apiErrors', route('GET', SECRET_PATH), 500, 3),
      expect: 'either',
      message: /500/,
    },
    {
      name: 'API 429 burst on every GET during propagation (exec upgrades included)',
      at: 'stored',
      ...routeFault('apiErrors', /^GET /, 429, 4),
      expect: 'either',
      message: /429|overloaded/,
    },
    {
      name: 'API 500 burst on the secret PATCH',
      at: 'added',
      ...routeFault('apiErrors', route('PATCH', SECRET_PATH), 500, 2),
      expect: 'either',
      message: /500/,
    },
    {
      name: 'API 429 on the secret PATCH',
      at: 'added',
      ...routeFault('apiErrors', route('PATCH', SECRET_PATH), 429, 1),
      expect: 'either',
      message: /429|overloaded/,
    },
    {
      name: '409 Conflict on the store write (re-read, then written once)',
      at: 'added',
      ...conflictOn(REC, SECRET_URI),
      expect: 'ok',
    },
    {
      name: '409 Conflict on a journal write (another writer): stops, resumable',
      at: 'stored',
      ...conflictOn(`${REC}-reccred-journal`, JOURNAL_URI),
      expect: 'either',
      message: /another run took over/,
    },
    {
      name: 'a pod restarted during propagation',
      at: 'stored',
      arm: (s) => {
        const restartsBefore = restartCount(s, `${REC}-1`);
        const state: NonNullable<typeof restart> = { restartsBefore, done: Promise.resolve() };
        state.done = s.restartPod(NS, `${REC}-1`).then(() => void (state.phaseWhenDone = journalPhaseNow));
        restart = state;
      },
      clear: () => undefined,
      // The pod restarted (its containers' restart count went up) and was back before propagation was over.
      hit: async (s) => {
        if (!restart) return undefined;
        await restart.done;
        const after = restartCount(s, `${REC}-1`);
        if (after <= restart.restartsBefore) return undefined;
        assert.equal(restart.phaseWhenDone, 'stored', 'the restart was over while the run was still waiting for propagation');
        return `${REC}-1 restarted (restartCount ${restart.restartsBefore} -> ${after}) while the journal was at ${restart.phaseWhenDone}`;
      },
      expect: 'either',
      message: /propagation|rec-1/,
    },
    {
      name: 'exec refused mid-run (403 on every upgrade)',
      at: 'added',
      arm: (s) => void (s.faults.refuseExec = true),
      clear: (s) => void (s.faults.refuseExec = false),
      hit: (s, armed) => auditHits(s, armed, 'api', 403, new RegExp(`^/api/v1/namespaces/${NS}/pods/${REC}-\\d+/exec$`)),
      expect: 'resumable',
      message: /exec .*forbidden|forbidden/,
    },
    {
      name: 'the cluster API fails every request (503) once the journal exists',
      at: 'recorded',
      ...routeFault('apiErrors', /./, 503, Infinity),
      expect: 'resumable',
      message: /503|unavailable|Unavailable/,
    },
    {
      name: 'the cluster API stops answering once the new password is added (requests hang)',
      // Its own REC: the requests the sim still holds are answered late and must not touch other scenarios.
      rec: 'rec-hang',
      at: 'added',
      arm: (s) => {
        s.faults.apiLatencyMs = HANG_MS;
        s.faults.execLatencyMs = HANG_MS;
      },
      clear: (s) => {
        s.faults.apiLatencyMs = 0;
        s.faults.execLatencyMs = 0;
      },
      hit: (s, armed) => held(s, armed, 'rec-hang'),
      expect: 'resumable',
      message: /timed out|without an exit status|cannot reach/,
      args: ['--request-timeout', '3s'],
      drainMs: 18_000,
    },
    {
      name: 'the cluster REST API answers 500 to the POST that adds the password',
      at: 'recorded',
      ...routeFault('restErrors', /^POST \/v1\/users\/password$/, 500, 1),
      expect: 'resumable',
      message: /500/,
    },
    {
      name: 'Vault sealed mid-run',
      rec: VREC,
      at: 'added',
      arm: (s) => void (s.faults.vaultSealed = true),
      clear: (s) => void (s.faults.vaultSealed = false),
      hit: (s, armed) => auditHits(s, armed, 'vault', 503, /^\/v1\//),
      expect: 'resumable',
      message: /sealed/,
    },
    {
      name: 'Vault token revoked mid-run',
      rec: VREC,
      at: 'added',
      arm: (s) => s.vault.server.revokeToken(revocable),
      clear: () => undefined,
      // The sim's token is valid throughout: a 403 from Vault here is the revoked token's.
      hit: (s, armed) => auditHits(s, armed, 'vault', 403, /^\/v1\//),
      expect: 'resumable',
      message: /token/,
      env: () => ({ VAULT_TOKEN: revocable }),
      recoveryEnv: () => ({ VAULT_TOKEN: sim.vault.token }),
    },
  ];
  let revocable = '';

  /** The checks every run ends with: the exit code, the journal, both passwords while resumable, then the recovery to a settled state. */
  const assertOutcome = async (
    rec: string,
    r: { code: number | null; stderr: string },
    o: { recovery: string; old: string; f0: number; started: number; message?: RegExp; recoveryEnv?: Record<string, string> },
  ) => {
    const left = journalExists(sim, NS, rec);
    assert.notEqual(r.code, 1, `exit 1 claims nothing is left changed, yet the journal ${left ? 'is' : 'is not'} there: ${r.stderr}`);
    assert.ok(r.code === 0 || r.code === 3, `exit ${r.code}: ${r.stderr}`);
    if (o.message && r.code === 3) assert.match(r.stderr, o.message, `the message names the fault:\n${r.stderr}`);
    if (r.code === 3) {
      assert.equal(left, true, 'exit 3 leaves the journal to resume from');
      assert.match(r.stderr, new RegExp(`kubectl reccred finish ${rec} -n ${NS}`), 'names the finish command');
      assert.match(r.stderr, new RegExp(`kubectl reccred abort ${rec} -n ${NS}`), 'names the abort command');
      // Both passwords valid while resumable (or only the old one, if the add never went through).
      const valid = validPasswords(sim, rec, creds(rec).username);
      assert.ok(valid.includes(creds(rec).password), "the store's password is accepted");
      const rec2 = await g.run([o.recovery, rec, '--settle', '1s'], { env: o.recoveryEnv, recs: [rec] });
      assert.equal(rec2.code, 0, rec2.stderr);
    } else {
      assert.equal(left, false, 'exit 0 leaves no journal');
    }
    try {
      assertSettled(rec);
    } catch (err) {
      const trail = sim.audit.events().filter((e) => e.time >= o.started && (e.kind === 'rest' || (e.kind === 'api' && e.method !== 'GET')));
      process.stdout.write(`${trail.map((e) => `${e.time - o.started} ${JSON.stringify(e).slice(0, 160)}`).join('\n')}\n`);
      throw err;
    }
    if (r.code === 0 || o.recovery === 'finish') assert.notEqual(creds(rec).password, o.old, 'rotated');
    else assert.equal(creds(rec).password, o.old, 'rolled back');
    assert.equal(sim.operator.failures(rec).length, o.f0, 'the operator never met a password the cluster refused');
  };

  for (const [i, s] of scenariosList.entries()) {
    const recovery = i % 2 === 0 ? 'finish' : 'abort';
    it(`${s.name}: ${s.expect === 'ok' ? 'completes' : s.expect === 'resumable' ? 'exit 3 with a clear message' : 'completes or exit 3'}, then ${recovery}`, async () => {
      const rec = s.rec ?? REC;
      if (s.env) {
        revocable = sim.vault.server.createToken();
        g.passwords.add(revocable);
      }
      const old = creds(rec).password;
      const f0 = sim.operator.failures(rec).length;
      let armed: Armed | undefined;
      journalPhaseNow = undefined;
      const stop = sim.store.onChange((e) => {
        if (e.object.metadata.name !== `${rec}-reccred-journal`) return;
        journalPhaseNow = journalPhaseOf(e) ?? journalPhaseNow;
        if (!armed && journalPhaseNow === s.at) {
          armed = { time: Date.now(), mark: sim.audit.mark() };
          armedFaults++;
          void s.arm(sim);
        }
      });
      const started = Date.now();
      let r;
      let hit: string | undefined;
      try {
        r = await g.run(['rotate', rec, ...FAST, ...(s.args ?? [])], { env: s.env?.(), recs: [rec] });
      } finally {
        stop();
        // Read before clear: clearing resets the injector's remaining counts.
        if (armed) {
          if (s.drainMs) await new Promise((res) => setTimeout(res, s.drainMs));
          hit = await s.hit(sim, armed);
        }
        s.clear(sim);
      }
      assert.ok(armed, `the fault was switched on (phase ${s.at} reached): ${r.stderr}`);
      assert.ok(hit, `the fault fired: it hit no request of the run (exit ${r.code}): ${r.stderr}`);
      consumedFaults++;
      consumedNames.push(s.name);
      process.stdout.write(`        fault fired: ${hit}\n`);
      if (s.expect === 'ok') assert.equal(r.code, 0, r.stderr);
      if (s.expect === 'resumable') assert.equal(r.code, 3, r.stderr);
      await assertOutcome(rec, r, { recovery, old, f0, started, message: s.message, recoveryEnv: s.recoveryEnv?.() });
      process.stdout.write(`        -> exit ${r.code} in ${Date.now() - started} ms\n`);
      survived++;
      scenarios++;
    });
  }

  // Exec answers cut off at seeded points: the plugin must find out, never guess. Each exec session carries
  // several requests; a drop cuts the session's connection once the chosen request ran (its REST call, or its
  // first output), before its answer reaches the plugin. The points come from calibrated runs: the requests a
  // clean rotation makes while its journal exists (a drop before it changes nothing), named by phase and place
  // in the phase ("the 4th request while the journal is at stored"), so a point stays the same request when an
  // earlier phase polls once more or less.
  describe('exec answers cut off before they arrive', () => {
    const DROPS = 4;
    const CALIBRATIONS = 2;
    const points: Array<{ label: string; ordinal: number; calibrated: ExecRequestSeen }> = [];

    /** A rotation of REC with its exec requests numbered and labelled with the journal phase each came in. */
    const watchedRotation = async (dropAt?: ExecDropPoint) => {
      let phase: string | undefined;
      const w = watchExecRequests(sim.audit, sim.faults, { dropAt, label: () => phase });
      const stopPhases = sim.store.onChange((e) => {
        if (e.object.metadata.name !== `${REC}-reccred-journal`) return;
        phase = journalPhaseOf(e) ?? phase;
        w.labelChanged();
      });
      try {
        const r = await g.run(['rotate', REC, ...FAST], { recs: [REC] });
        return { r, sessions: w.requests };
      } finally {
        w.stop();
        stopPhases();
      }
    };
    const JOURNAL_PHASES = ['recorded', 'added', 'stored', 'propagated', 'removed'];

    before(async () => {
      // Per phase, the requests every calibrated run made in it (a polling phase may make more in one run).
      const perPhase = new Map<string, ExecRequestSeen[]>();
      const totals: number[] = [];
      for (let c = 0; c < CALIBRATIONS; c++) {
        const { r, sessions } = await watchedRotation();
        assert.equal(r.code, 0, r.stderr);
        assertSettled(REC);
        totals.push(sessions.length);
        for (const p of JOURNAL_PHASES) {
          const inPhase = sessions.filter((x) => x.label === p);
          const known = perPhase.get(p);
          if (known === undefined || inPhase.length < known.length) perPhase.set(p, inPhase);
        }
      }
      const phases = JOURNAL_PHASES.filter((p) => perPhase.get(p)!.length > 0);
      // Seeded, one phase after another, so the drops spread over the run rather than bunch in the longest phase.
      const rand = prng(SEED + 7);
      for (let i = 0; points.length < DROPS && i < 100; i++) {
        const label = phases[i % phases.length]!;
        const pool = perPhase
          .get(label)!
          .map((x, n) => ({ label, ordinal: n + 1, calibrated: x }))
          .filter((x) => !points.some((p) => p.label === x.label && p.ordinal === x.ordinal));
        if (pool.length > 0) points.push(pool[Math.floor(rand() * pool.length)]!);
      }
      const meaningful = phases.reduce((n, p) => n + perPhase.get(p)!.length, 0);
      assert.equal(points.length, DROPS, `the calibrated runs made ${meaningful} requests while their journal existed`);
      process.stdout.write(
        `      calibration (${CALIBRATIONS} clean rotations): ${totals.join(' and ')} exec requests, ${meaningful} in every run while the journal exists ` +
          `(${phases.map((p) => `${p} ${perPhase.get(p)!.length}`).join(', ')}); drop points (seed ${SEED}): ` +
          `${points.map((p) => `${p.label} #${p.ordinal} (request #${p.calibrated.index}${p.calibrated.rest.length ? `, ${p.calibrated.rest.join(' ')}` : ', credential hashes'})`).join('; ')}\n`,
      );
    });

    for (let i = 0; i < DROPS; i++) {
      const recovery = i % 2 === 0 ? 'finish' : 'abort';
      it(`drop ${i + 1} of ${DROPS}: a seeded exec request of the run loses its answer (seed ${SEED}): never taken as success; then ${recovery}`, async () => {
        const point = points[i];
        assert.ok(point, 'the calibration drew this point');
        const old = creds(REC).password;
        const f0 = sim.operator.failures(REC).length;
        const started = Date.now();
        const { r, sessions } = await watchedRotation({ label: point.label, ordinal: point.ordinal });
        if (sessions.some((x) => x.label === point.label)) armedFaults++;
        const dropped = sessions.filter((x) => x.dropped);
        const named = sessions.filter((x) => x.label === point.label)[point.ordinal - 1];
        assert.ok(named, `the run reached request #${point.ordinal} of phase ${point.label} (exit ${r.code}): ${r.stderr}`);
        assert.deepEqual(
          dropped.map((x) => x.index),
          [named.index],
          `the drop hit request #${point.ordinal} of phase ${point.label} (#${named.index} of the run) and no other: ${r.stderr}`,
        );
        assert.deepEqual(named.rest, point.calibrated.rest, 'the cut-off request made the REST calls its calibrated counterpart made');
        consumedFaults++;
        consumedNames.push(`exec answer cut off: ${point.label} #${point.ordinal} (${named.rest.join(' ') || 'credential hashes'})`);
        process.stdout.write(
          `        fault fired: request #${named.index} on ${named.pod} (${point.label} #${point.ordinal}, ${named.rest.join(' ') || 'credential hashes'}) lost its answer\n`,
        );
        // A request that carried a REST call (every call is a login) cannot be repeated or read as done: the run
        // stops resumable. One that only read credential hashes may be read again.
        if (named.rest.length > 0) assert.equal(r.code, 3, `the answer of ${named.rest.join(' ')} was lost, yet the run went on: ${r.stderr}`);
        // The journal existed when the request came: the run ends complete or resumable, never "nothing changed".
        await assertOutcome(REC, r, { recovery, old, f0, started, message: /without an exit status/ });
        process.stdout.write(`        -> exit ${r.code} in ${Date.now() - started} ms\n`);
        survived++;
        scenarios++;
      });
    }
  });

  it('a fault during the recovery itself: abort hit by a 500 on the store write stops resumable, abort again settles', async () => {
    const old = creds(REC).password;
    const r = await g.run(['rotate', REC, ...FAST, '--no-wait'], { recs: [REC] });
    assert.equal(r.code, 0, r.stderr);
    const fault = routeFault('apiErrors', route('PATCH', SECRET_PATH), 500, 1);
    fault.arm(sim);
    armedFaults++;
    const a1 = await g.run(['abort', REC, '--settle', '1s'], { recs: [REC] });
    const hit = fault.hit(sim);
    fault.clear(sim);
    assert.ok(hit, `the fault fired during the abort: ${a1.stderr}`);
    consumedFaults++;
    consumedNames.push('API 500 on the secret PATCH during abort');
    process.stdout.write(`        fault fired: ${hit}\n`);
    assert.equal(a1.code, 3, a1.stderr);
    assert.match(a1.stderr, /500/);
    const a2 = await g.run(['abort', REC, '--settle', '1s'], { recs: [REC] });
    assert.equal(a2.code, 0, a2.stderr);
    assertSettled(REC);
    assert.equal(creds(REC).password, old);
    survived++;
    scenarios++;
  });

  describe('secret hygiene over the whole fault matrix', () => {
    it('no password or Vault token leaked anywhere; no unexpected command ran in a pod', () => {
      const { passwords, texts } = g.assertClean(t0);
      // The README's "faults survived" row: armed (switched on), consumed (shown to have hit a request), survived (then settled).
      process.stdout.write(`      [figures] faults: ${JSON.stringify({ armed: armedFaults, consumed: consumedFaults, survived })}\n`);
      process.stdout.write(`      [figures] faults consumed: ${JSON.stringify(consumedNames)}\n`);
      printTally('faults guard', { scenarios, passwordsTracked: passwords, textsScanned: texts });
    });
  });
});
