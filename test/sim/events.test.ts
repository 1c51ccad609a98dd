// Kubernetes Events in the simulated API server (test/sim/kube/events.ts), read with the real kubectl 1.27 and 1.33:
// an events.k8s.io/v1 Event regarding a REC shows in `kubectl describe rec` and `kubectl get events` (the core v1
// view), a series bump shows as "(xN over ...)", field selectors select as kube-apiserver's do, an invalid Event is
// refused (400 for what the decoder refuses, 422 for what validation refuses) and RBAC keeps the two groups apart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimCluster, type SimCluster } from './cluster.js';
import { kubectlBinary, runProcess } from './kube/api-fixture.js';
import type { KubeObject } from './kube/store.js';

const VERSIONS = ['1.27', '1.33'];
const CONTROLLER = 'reccred.redis.io/kubectl-reccred';
const INSTANCE = 'kubectl-reccred-runner-1';
const NOTE = 'Rotation of the REC admin demo@redis.com started (phase: started)';

/** A MicroTime as the API server parses it: RFC 3339 with exactly six fractional digits. */
const microTime = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('Simulated Kubernetes Events (events.k8s.io/v1 and core v1) with kubectl 1.27 and 1.33', function () {
  this.timeout(60_000);
  let sim: SimCluster;
  let dir: string;
  let ca: Buffer;
  let ns: string;
  let rec: KubeObject;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-events-'));
    sim = await startSimCluster({ recs: [{ name: 'rec', pods: 1 }] });
    ca = readFileSync(sim.caFile);
    ns = sim.recs[0]!.namespace;
    rec = sim.store.mustGet('redisenterpriseclusters', ns, 'rec');
  });

  after(async () => {
    await sim?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function api(method: string, path: string, body?: unknown, opts: { token?: string; contentType?: string } = {}): Promise<Reply> {
    const token = opts.token ?? sim.users['admin']!.token;
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (data !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
    return new Promise((resolve, reject) => {
      const req = request(`${sim.apiUrl}${path}`, { method, ca, headers }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  const eventsV1Path = (name = '') => `/apis/events.k8s.io/v1/namespaces/${ns}/events${name ? `/${name}` : ''}`;
  const coreEventsPath = (name = '') => `/api/v1/namespaces/${ns}/events${name ? `/${name}` : ''}`;

  const regarding = () => ({ kind: 'RedisEnterpriseCluster', namespace: ns, name: 'rec', uid: rec.metadata.uid!, apiVersion: 'app.redislabs.com/v1' });

  /** A valid events.k8s.io/v1 Event regarding the REC, as a controller records it. */
  const eventV1 = (name: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name, namespace: ns },
    eventTime: microTime(),
    reportingController: CONTROLLER,
    reportingInstance: INSTANCE,
    action: 'Rotate',
    reason: 'RotationStarted',
    regarding: regarding(),
    note: NOTE,
    type: 'Normal',
    ...extra,
  });

  async function kubectl(version: string, args: string[]): Promise<string> {
    const r = await runProcess(kubectlBinary(version), ['--kubeconfig', sim.kubeconfig, '--cache-dir', join(dir, `cache-${version}`), '-n', ns, ...args], {
      env: { ...process.env, KUBECONFIG: '' },
    });
    assert.equal(r.code, 0, `kubectl ${version} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** The rows of the Events section of `kubectl describe`. */
  const describedEvents = (out: string) => {
    const section = out.slice(out.indexOf('\nEvents:'));
    assert.match(section, /^\nEvents:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n\s+----\s+------\s+----\s+----\s+-------\n/, out);
    return section.split('\n').slice(4).filter(Boolean);
  };

  it('stores one Event seen through both groups, converted field by field, and the accessor reads it', async () => {
    const created = await api('POST', eventsV1Path(), eventV1('rec.started'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.apiVersion, 'events.k8s.io/v1');
    assert.match(created.body.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(created.body.metadata.generation, undefined, 'Events have no generation');
    assert.ok('f:note' in created.body.metadata.managedFields[0].fieldsV1, 'fields tracked in the request version');
    assert.deepEqual(created.body.deprecatedSource, {});
    assert.equal(created.body.deprecatedFirstTimestamp, null);

    const core = await api('GET', coreEventsPath('rec.started'));
    assert.equal(core.status, 200);
    assert.equal(core.body.apiVersion, 'v1');
    assert.deepEqual(core.body.involvedObject, regarding());
    assert.equal(core.body.message, NOTE);
    assert.equal(core.body.reportingComponent, CONTROLLER);
    assert.equal(core.body.reportingInstance, INSTANCE);
    assert.equal(core.body.action, 'Rotate');
    assert.equal(core.body.eventTime, created.body.eventTime);
    assert.deepEqual([core.body.firstTimestamp, core.body.lastTimestamp, core.body.count, core.body.note], [null, null, undefined, undefined]);
    assert.deepEqual(core.body.source, {});

    const seen = sim.events({ namespace: ns, name: 'rec', kind: 'RedisEnterpriseCluster' });
    assert.deepEqual(
      seen.map((e) => [e.metadata.name, e.reason, e.note, e.reportingController, e.regarding.uid]),
      [['rec.started', 'RotationStarted', NOTE, CONTROLLER, rec.metadata.uid]],
    );
    assert.deepEqual(sim.events({ namespace: ns, name: 'other' }), []);
  });

  it('selects Events by the fields kube-apiserver supports per group, and refuses the others with 400', async () => {
    const list = async (path: string, selector: string) => {
      const r = await api('GET', `${path}?fieldSelector=${encodeURIComponent(selector)}`);
      return r.status === 200 ? (r.body.items as KubeObject[]).map((o) => o.metadata.name) : r;
    };
    const uid = rec.metadata.uid!;
    assert.deepEqual(await list(coreEventsPath(), `involvedObject.kind=RedisEnterpriseCluster,involvedObject.name=rec,involvedObject.namespace=${ns},involvedObject.uid=${uid}`), [
      'rec.started',
    ]);
    assert.deepEqual(await list(coreEventsPath(), `reportingComponent=${CONTROLLER},source=${CONTROLLER},type=Normal`), ['rec.started']);
    assert.deepEqual(await list(coreEventsPath(), 'type=Warning'), []);
    assert.deepEqual(await list(eventsV1Path(), `regarding.name=rec,regarding.uid=${uid},reportingController=${CONTROLLER},reason=RotationStarted`), ['rec.started']);
    assert.deepEqual(await list(eventsV1Path(), 'reason!=RotationStarted'), []);
    for (const [path, label] of [
      [eventsV1Path(), 'involvedObject.name'],
      [coreEventsPath(), 'regarding.name'],
      [coreEventsPath(), 'note'],
    ] as const) {
      const refused = (await list(path, `${label}=rec`)) as Reply;
      assert.equal(refused.status, 400, `${path} ${label}`);
      assert.equal(refused.body.reason, 'BadRequest');
      assert.equal(refused.body.message, `field label not supported: ${label}`);
    }
  });

  for (const version of VERSIONS) {
    it(`kubectl ${version}: describe rec shows the Event, get events lists its core view`, async () => {
      const rows = describedEvents(await kubectl(version, ['describe', 'rec', 'rec']));
      assert.equal(rows.length, 1, rows.join('\n'));
      assert.match(rows[0]!, new RegExp(`^\\s+Normal\\s+RotationStarted\\s+\\d+s\\s+${CONTROLLER}\\s+${NOTE.replace(/[()]/g, '\\$&')}$`));

      const table = await kubectl(version, ['get', 'events']);
      assert.match(table, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
      assert.match(table, new RegExp(`\\n\\d+s\\s+Normal\\s+RotationStarted\\s+redisenterprisecluster/rec\\s+${NOTE.replace(/[()]/g, '\\$&')}\\n`));
      assert.equal(await kubectl(version, ['get', 'ev', 'rec.started', '-o', 'jsonpath={.message}']), NOTE);
      assert.equal(await kubectl(version, ['get', 'events.events.k8s.io', 'rec.started', '-o', 'jsonpath={.note}/{.regarding.name}']), `${NOTE}/rec`);
    });
  }

  it('a PATCH bumping series.count shows as (xN over ...) in describe and as the count of get events -o wide', async () => {
    const bumped = await api('PATCH', eventsV1Path('rec.started'), { series: { count: 3, lastObservedTime: microTime() } }, { contentType: 'application/merge-patch+json' });
    assert.equal(bumped.status, 200, JSON.stringify(bumped.body));
    assert.equal(bumped.body.series.count, 3);
    for (const version of VERSIONS) {
      const rows = describedEvents(await kubectl(version, ['describe', 'rec', 'rec']));
      assert.match(rows[0]!, /^\s+Normal\s+RotationStarted\s+\d+s \(x3 over \d+s\)\s+reccred\.redis\.io\/kubectl-reccred\s+Rotation of/, rows.join('\n'));
      const wide = await kubectl(version, ['get', 'events', '-o', 'wide']);
      assert.match(wide, new RegExp(`redisenterprisecluster/rec\\s+${CONTROLLER}, ${INSTANCE}\\s+Rotation of .*\\)\\s+\\d+s\\s+3\\s+rec\\.started\\n`), wide);
    }
    // Only the series may change through events.k8s.io/v1, and a series counts at least 2.
    const changed = await api('PATCH', eventsV1Path('rec.started'), { note: 'rewritten' }, { contentType: 'application/merge-patch+json' });
    assert.equal(changed.status, 422);
    assert.deepEqual(
      changed.body.details.causes.map((c: { field: string }) => c.field),
      ['message'],
    );
    assert.match(changed.body.message, /^Event "rec.started" is invalid: message: Invalid value: "rewritten": field is immutable$/);
    const single = await api(
      'PATCH',
      eventsV1Path('rec.started'),
      { series: { count: 1, lastObservedTime: microTime() } },
      { contentType: 'application/strategic-merge-patch+json' },
    );
    assert.equal(single.status, 422);
    assert.equal(single.body.message, 'Event "rec.started" is invalid: series.count: Invalid value: "": should be at least 2');
    assert.equal(sim.events({ namespace: ns, name: 'rec' })[0]!.series?.count, 3);
    assert.equal(sim.events({ namespace: ns, name: 'rec' })[0]!.note, NOTE);
  });

  it('refuses an invalid events.k8s.io/v1 Event: 422 for what validation refuses, 400 for a time it cannot parse', async () => {
    const refusedCreate = async (name: string, extra: Record<string, unknown>, status: number) => {
      const body = eventV1(name, extra) as Record<string, unknown>;
      for (const [k, v] of Object.entries(extra)) if (v === undefined) delete body[k];
      const r = await api('POST', eventsV1Path(), body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal((await api('GET', eventsV1Path(name))).status, 404, 'nothing stored');
      return r.body;
    };
    const bad = await refusedCreate('bad', { reportingController: undefined, action: undefined, type: 'Info', deprecatedCount: 2 }, 422);
    assert.equal(bad.reason, 'Invalid');
    assert.deepEqual(
      bad.details.causes.map((c: { field: string; reason: string }) => `${c.field}/${c.reason}`),
      [
        'reportingController/FieldValueRequired',
        'reportingController/FieldValueInvalid',
        'reportingController/FieldValueInvalid',
        'action/FieldValueRequired',
        'type/FieldValueInvalid',
        'count/FieldValueInvalid',
      ],
    );
    assert.match(bad.message, /^Event "bad" is invalid: \[reportingController: Required value, /);
    assert.match(bad.message, /type: Invalid value: "": has invalid value: Info, count: Invalid value: "": needs to be unset\]$/);

    const long = await refusedCreate('long', { note: 'é'.repeat(513) }, 422);
    assert.equal(long.message, 'Event "long" is invalid: message: Invalid value: "": can have at most 1024 characters', 'bytes are counted');
    const noTime = await refusedCreate('no-time', { eventTime: undefined, reportingController: 'a/b/c' }, 422);
    assert.deepEqual(
      noTime.details.causes.map((c: { field: string }) => c.field),
      ['eventTime'],
      'without eventTime the legacy rules apply, then eventTime is required',
    );
    const jsTime = await refusedCreate('js-time', { eventTime: new Date().toISOString() }, 400);
    assert.equal(jsTime.reason, 'BadRequest');
    assert.match(
      jsTime.message,
      /^Event in version "v1" cannot be handled as a Event: parsing time ".*" as "2006-01-02T15:04:05\.000000Z07:00": cannot parse "\.\d{3}Z" as "\.000000"$/,
    );
  });

  it('RBAC keeps events and events.events.k8s.io apart: each grant allows its own group only', async () => {
    const core = sim.addUser('core-events', [{ verbs: ['create'], apiGroups: [''], resources: ['events'], namespaces: [ns] }]);
    const v1 = sim.addUser('new-events', [{ verbs: ['create'], apiGroups: ['events.k8s.io'], resources: ['events'], namespaces: [ns] }]);
    const coreBody = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: regarding(),
      reason: 'RotationStarted',
      message: NOTE,
      type: 'Normal',
      eventTime: microTime(),
      action: 'Rotate',
      reportingComponent: CONTROLLER,
      reportingInstance: INSTANCE,
    });

    const denied = await api('POST', eventsV1Path(), eventV1('by-core-user'), { token: core.token });
    assert.equal(denied.status, 403);
    assert.equal(
      denied.body.message,
      `events.events.k8s.io is forbidden: User "core-events" cannot create resource "events" in API group "events.k8s.io" in the namespace "${ns}"`,
    );
    assert.equal((await api('POST', coreEventsPath(), coreBody('by-core-user'), { token: core.token })).status, 201);

    const deniedCore = await api('POST', coreEventsPath(), coreBody('by-new-user'), { token: v1.token });
    assert.equal(deniedCore.status, 403);
    assert.equal(deniedCore.body.message, `events is forbidden: User "new-events" cannot create resource "events" in API group "" in the namespace "${ns}"`);
    assert.equal((await api('POST', eventsV1Path(), eventV1('by-new-user'), { token: v1.token })).status, 201);

    const names = sim.events({ namespace: ns, name: 'rec' }).map((e) => e.metadata.name);
    assert.ok(names.includes('by-core-user') && names.includes('by-new-user'), names.join());
    assert.equal((await api('GET', eventsV1Path('by-core-user'))).body.note, NOTE, 'an Event created through core v1 reads back through events.k8s.io/v1');
  });
});
