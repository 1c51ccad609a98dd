// Platform-team operations over a fleet, through the real kubectl: waves (--canary, --max-failures), the janitor
// (finish over several RECs acts only where the holder is gone; --max-overlap bounds a --no-wait pause), and
// the health check (status -A --check and each of its three conditions).
import assert from 'node:assert/strict';
import { FleetResultSchema, type FleetResult } from '../../src/output/result.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import type { KubeObject } from '../sim/kube/store.js';
import { journalExists, journalPhaseOf, reccred, startReccred, validPasswords, waitFor } from './harness.js';

const NAMESPACES = ['ns-a', 'ns-b', 'ns-c', 'ns-d'];
const RECS = Array.from({ length: 20 }, (_, i) => ({ name: `rec-${String(i).padStart(2, '0')}`, namespace: NAMESPACES[i % NAMESPACES.length]! }));
/** The order a fleet run takes them in: namespace, then name. */
const ORDERED = [...RECS].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
const FAST = ['--settle', '1s', '--propagation-timeout', '10s'];

describe('platform operations over a fleet of 20 RECs: waves, the janitor, the health check (real kubectl)', function () {
  this.timeout(600_000);
  let sim: SimCluster;

  before(async () => {
    sim = await startSimCluster({ recs: RECS, namespaces: NAMESPACES, pods: 2, fleet: true, syncDelayMs: 300, operatorIntervalMs: 250 });
  });
  after(async () => sim?.stop());

  const fleetDoc = (stdout: string): FleetResult => FleetResultSchema.parse(JSON.parse(stdout));
  const phases = (doc: FleetResult) => doc.results.map((r) => `${r.rec} ${r.phase} ${r.exitCode}`);
  const rotated = (rec: { name: string }, before: string) => {
    const now = sim.credentials(rec.name)!;
    return now.password !== before && validPasswords(sim, rec.name, now.username).join() === now.password;
  };
  /** A rotation left on purpose with both passwords valid (--no-wait): its journal stays, paused. */
  const pause = async (rec: { name: string; namespace: string }) => {
    const r = await reccred(sim, ['rotate', rec.name, '-n', rec.namespace, ...FAST, '--no-wait']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(journalExists(sim, rec.namespace, rec.name));
  };
  const finish = async (rec: { name: string; namespace: string }) => {
    const r = await reccred(sim, ['finish', rec.name, '-n', rec.namespace, ...FAST]);
    assert.equal(r.code, 0, r.stderr);
  };

  describe('waves', () => {
    it('--canary 2 --max-failures 1: the canaries complete, the first failure stops every later start; each REC reports its phase', async () => {
      const failing = ORDERED[4]!;
      await pause(failing); // its journal makes the fleet's rotation of it refused at once (exit 4)
      const before = new Map(RECS.map((r) => [r.name, sim.credentials(r.name)!.password]));
      const r = await reccred(sim, ['rotate', '-A', ...FAST, '--canary', '2', '--max-failures', '1', '--concurrency', '1', '-o', 'json']);
      const doc = fleetDoc(r.stdout);
      assert.equal(r.code, 4, r.stderr);
      assert.deepEqual(phases(doc), [
        ...ORDERED.slice(0, 4).map((x) => `${x.name} completed 0`),
        `${failing.name} not-started 4`,
        ...ORDERED.slice(5).map((x) => `${x.name} skipped 4`),
      ]);
      assert.deepEqual({ succeeded: doc.summary.succeeded, refused: doc.summary.refused, skipped: doc.summary.skipped }, { succeeded: 4, refused: 1, skipped: 15 });
      for (const x of ORDERED.slice(0, 4)) assert.ok(rotated(x, before.get(x.name)!), `${x.name} rotated`);
      for (const x of ORDERED.slice(5)) {
        assert.equal(sim.credentials(x.name)!.password, before.get(x.name), `${x.name} untouched`);
        assert.equal(journalExists(sim, x.namespace, x.name), false);
      }
      assert.match(doc.results[5]!.message, /not started: --max-failures 1 reached \(1 failed\)/);
      await finish(failing);
    });

    it('--canary 2 with a failing canary: no other REC starts', async () => {
      const failing = ORDERED[1]!;
      await pause(failing);
      const before = new Map(RECS.map((r) => [r.name, sim.credentials(r.name)!.password]));
      const r = await reccred(sim, ['rotate', '-A', ...FAST, '--canary', '2', '-o', 'json']);
      const doc = fleetDoc(r.stdout);
      assert.equal(r.code, 4, r.stderr);
      assert.deepEqual(phases(doc), [`${ORDERED[0]!.name} completed 0`, `${failing.name} not-started 4`, ...ORDERED.slice(2).map((x) => `${x.name} skipped 4`)]);
      assert.match(doc.results[2]!.message, new RegExp(`not started: canary ${failing.namespace}/${failing.name} failed`));
      for (const x of ORDERED.slice(2)) assert.equal(sim.credentials(x.name)!.password, before.get(x.name), `${x.name} untouched`);
      await finish(failing);
    });
  });

  describe('the janitor', () => {
    it('finish over several RECs: completes a rotation whose process was SIGKILLed, leaves a live one and a --no-wait one alone', async () => {
      const [killed, live, paused] = [ORDERED[0]!, ORDERED[1]!, ORDERED[2]!];
      const before = sim.credentials(killed.name)!.password;
      const k = startReccred(sim, ['rotate', killed.name, '-n', killed.namespace, ...FAST], {
        killWhen: (e) =>
          journalPhaseOf(e.store) === 'stored' && e.store?.object.metadata.namespace === killed.namespace && e.store.object.metadata.name === `${killed.name}-reccred-journal`,
      });
      assert.equal((await k.result).signal, 'SIGKILL');
      // A live holder: settling for 20 s, renewing its lease all along.
      const running = startReccred(sim, ['rotate', live.name, '-n', live.namespace, '--settle', '20s']);
      await waitFor(() => ['stored', 'propagated'].includes(storedPhase(sim, live) ?? ''), 'the live rotation is past its store update');
      await pause(paused);
      const names = [killed, live, paused].map((x) => `${x.namespace}/${x.name}`);
      const r = await reccred(sim, ['finish', '-A', ...FAST, '-o', 'json']);
      const doc = fleetDoc(r.stdout);
      const of = (x: { name: string }) => doc.results.find((d) => d.rec === x.name)!;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(of(killed).phase, 'completed', of(killed).message);
      assert.ok(rotated(killed, before), 'the killed rotation was completed');
      assert.equal(of(live).phase, 'held', of(live).message);
      assert.match(of(live).message, /Left alone: .* alive/);
      assert.equal(of(paused).phase, 'paused');
      assert.ok(journalExists(sim, paused.namespace, paused.name), 'the paused rotation is left alone');
      for (const x of RECS.filter((x) => !names.includes(`${x.namespace}/${x.name}`))) assert.equal(of(x).phase, 'none');
      const l = await running.result;
      assert.equal(l.code, 0, `the live rotation completed on its own: ${l.stderr}`);
    });

    it('--max-overlap: a --no-wait rotation past it is finished when every pod mounts the new password, reported (exit 3, a Warning Event) when one does not; a younger one is left alone', async () => {
      // `ready` was paused by the test before; `lagging` is paused now with a pod that never sees the new Secret.
      const [ready, lagging, young] = [ORDERED[2]!, ORDERED[3]!, ORDERED[5]!];
      sim.faults.frozenPods.add(`${lagging.namespace}/${lagging.name}-1`);
      try {
        await pause(lagging);
        await new Promise((res) => setTimeout(res, 5500));
        await pause(young);
        const r = await reccred(sim, ['finish', '-A', '--max-overlap', '5s', ...FAST, '-o', 'json']);
        const doc = fleetDoc(r.stdout);
        const of = (x: { name: string }) => doc.results.find((d) => d.rec === x.name)!;
        assert.equal(r.code, 3, r.stderr);
        assert.equal(of(ready).phase, 'completed', of(ready).message);
        assert.equal(journalExists(sim, ready.namespace, ready.name), false);
        assert.equal(of(lagging).exitCode, 3);
        assert.match(of(lagging).message, new RegExp(`beyond --max-overlap 5s, and not every pod mounts the new credentials \\(${lagging.name}-1 pending\\)`));
        assert.ok(journalExists(sim, lagging.namespace, lagging.name), 'nothing was finished');
        assert.deepEqual(
          sim
            .events({ namespace: lagging.namespace, name: lagging.name })
            .filter((e) => e.type === 'Warning')
            .map((e) => e.reason),
          ['MaxOverlapExceeded'],
        );
        assert.equal(of(young).phase, 'paused', of(young).message);
        assert.deepEqual(
          doc.results.filter((d) => ![ready, lagging, young].some((x) => x.name === d.rec)).map((d) => d.phase),
          Array(17).fill('none'),
        );
      } finally {
        sim.faults.frozenPods.clear();
      }
      await finish(lagging);
      await finish(young);
    });
  });

  describe('status -A --check', () => {
    const check = async (extra: string[] = []) => {
      const r = await reccred(sim, ['status', '-A', '--check', '-o', 'json', ...extra]);
      return { r, doc: fleetDoc(r.stdout) };
    };
    const failedChecks = (doc: FleetResult) =>
      doc.results
        .filter((x) => x.exitCode !== 0)
        .map(
          (x) =>
            `${x.rec}: ${(x.checks ?? [])
              .filter((c) => !c.ok)
              .map((c) => c.name)
              .join(',')}`,
        );

    it('a clean fleet: exit 0, every check ok for every REC', async () => {
      const { r, doc } = await check();
      assert.equal(r.code, 0, r.stderr);
      assert.equal(doc.results.length, 20);
      for (const x of doc.results)
        assert.deepEqual(
          (x.checks ?? []).map((c) => `${c.name} ${c.ok}`),
          ['operation-age true', 'pods-current true', 'store-authenticates true'],
        );
    });

    it('an unfinished operation older than --max-operation-age: exit 1, named', async () => {
      const x = ORDERED[6]!;
      await pause(x);
      await new Promise((res) => setTimeout(res, 1500));
      const { r, doc } = await check(['--max-operation-age', '1s']);
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(failedChecks(doc), [`${x.name}: operation-age`]);
      const { r: within } = await check(['--max-operation-age', '1h']);
      assert.equal(within.code, 0, within.stderr);
      await finish(x);
    });

    it('a pod whose mounted credentials differ from the store: exit 1, named', async () => {
      const x = ORDERED[7]!;
      sim.faults.frozenPods.add(`${x.namespace}/${x.name}-0`);
      try {
        // The store moves to another password the cluster accepts; the frozen pod keeps the old one.
        const creds = sim.credentials(x.name)!;
        const next = 'Another-Valid-Passw0rd!7';
        sim.redis(x.name).addPassword(sim.redis(x.name).findUser(creds.username)!.uid, next);
        writeStorePassword(sim, x, next);
        await new Promise((res) => setTimeout(res, 1000));
        const { r, doc } = await check();
        assert.equal(r.code, 1, r.stderr);
        assert.deepEqual(failedChecks(doc), [`${x.name}: pods-current`]);
      } finally {
        sim.faults.frozenPods.clear();
      }
    });

    it('a store whose credentials do not authenticate: exit 1, named', async () => {
      const x = ORDERED[8]!;
      writeStorePassword(sim, x, 'Not-The-Passw0rd!8');
      await new Promise((res) => setTimeout(res, 1500));
      const { r, doc } = await check();
      assert.equal(r.code, 1, r.stderr);
      assert.ok(failedChecks(doc).includes(`${x.name}: store-authenticates`), failedChecks(doc).join('; '));
    });
  });
});

function writeStorePassword(sim: SimCluster, rec: { name: string; namespace: string }, password: string): void {
  const s = sim.store.mustGet('secrets', rec.namespace, rec.name) as KubeObject & { data: Record<string, string> };
  sim.store.update('secrets', {
    ...s,
    metadata: { ...s.metadata, resourceVersion: undefined },
    data: { ...s.data, password: Buffer.from(password).toString('base64') },
  } as KubeObject);
}

function storedPhase(sim: SimCluster, rec: { name: string; namespace: string }): string | undefined {
  const s = sim.store.get('secrets', rec.namespace, `${rec.name}-reccred-journal`) as (KubeObject & { data?: Record<string, string> }) | undefined;
  const data = s?.data?.['journal.json'];
  return data ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { phase: string }).phase : undefined;
}
