// The simulated API server against the real kubectl binaries and @kubernetes/client-node.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { WebSocket } from 'ws';
import { AuditLog } from './audit.js';
import { Faults } from './faults.js';
import { kubectlBinary, localShell, recSecret, runProcess, seedRecObjects, type RecSecret } from './kube/api-fixture.js';
import { startApiServer, type ApiServer } from './kube/apiserver.js';
import { encodeSelfSubjectAccessReview } from './kube/protobuf.js';
import { KubeStore } from './kube/store.js';
import type { PodExecutor } from './pods/executor.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Commands the server killed (the client went away first). */
const killed: string[][] = [];

/** localShell, noting in `killed` each command the server kills. */
const localShellNotingKills: PodExecutor = {
  exec(r) {
    const child = localShell.exec(r);
    return {
      ...child,
      kill: () => {
        killed.push(r.command);
        child.kill();
      },
    };
  },
};

const SECRET_CONTENT: RecSecret = { labels: { app: 'redis-enterprise' }, data: { username: 'demo@redis.com', password: 's3cret-one' } };
const SECRET = recSecret(SECRET_CONTENT);

/** Each call names its kubeconfig: the runner's KUBECONFIG must not count. */
const run = (bin: string, args: string[], input?: string) => runProcess(bin, args, { input: input ?? '', env: { ...process.env, KUBECONFIG: '' } });

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function raw(
  api: ApiServer,
  ca: Buffer,
  method: string,
  path: string,
  opts: { token?: string | null; body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<Raw> {
  const token = opts.token === undefined ? api.users['admin']!.token : opts.token;
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, { method, ca, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(opts.headers ?? {}) } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

// `kubectl` on PATH dispatches on /version; the versioned binaries sit beside its real path.
const kubectlDir = dirname(kubectlBinary('1.33'));
// Every version the machine image provides; a missing one fails below instead of shrinking the matrix unseen.
const VERSIONS = ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33'];
// kubectl before 1.30 execs over SPDY (WebSockets became its default in 1.30, KEP-4006); the simulated API
// server serves exec over WebSocket only, as the plugin uses it. Those versions get the refusal asserted instead.
const SPDY_EXEC = new Set(['1.27', '1.28', '1.29']);
const KUBECTLS = [
  { label: 'kubectl (dispatcher)', bin: 'kubectl', spdyExec: false },
  ...VERSIONS.map((v) => ({ label: `kubectl.${v}`, bin: kubectlBinary(v), spdyExec: SPDY_EXEC.has(v) })),
];

describe('simulated kube-apiserver', function () {
  this.timeout(20_000);
  let dir: string;
  let store: KubeStore;
  let audit: AuditLog;
  let faults: Faults;
  let api: ApiServer;
  let ca: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-apiserver-'));
    store = new KubeStore();
    seedRecObjects(store, {
      secret: SECRET_CONTENT,
      pods: [
        { name: 'rec-0', labels: { app: 'redis-enterprise', 'redis.io/cluster': 'rec' } },
        { name: 'other-0', labels: { app: 'something-else' } },
      ],
      podIP: '10.0.0.10',
      bootstrapper: true,
    });
    audit = new AuditLog();
    faults = new Faults();
    api = await startApiServer({ store, executor: localShellNotingKills, audit, faults, dir });
    ca = await readFile(api.caFile);
  });

  after(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    faults.reset();
    api.setExecProtocols(['v5', 'v4']);
  });

  function resetSecret() {
    const cur = store.get('secrets', 'default', 'rec')!;
    store.update('secrets', { ...structuredClone(SECRET), metadata: { ...cur.metadata } });
  }

  it(`every kubectl ${VERSIONS[0]}..${VERSIONS.at(-1)} is installed beside the dispatcher (${kubectlDir})`, () => {
    assert.deepEqual(
      KUBECTLS.filter((k) => k.bin !== 'kubectl' && !existsSync(k.bin)).map((k) => k.label),
      [],
    );
  });

  for (const { label, bin, spdyExec } of KUBECTLS) {
    describe(label, () => {
      const kubectl = async (user: string, args: string[], input?: string) => {
        const cache = await mkdtemp(join(dir, 'cache-'));
        return run(bin, ['--kubeconfig', api.users[user]!.kubeconfig, '--cache-dir', cache, ...args], input);
      };
      beforeEach(resetSecret);

      it('get rec prints the RedisEnterpriseCluster table', async () => {
        const r = await kubectl('admin', ['get', 'rec']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^NAME\s+NODES\s+VERSION\s+STATE\s+SPEC STATUS\s+AGE/m);
        assert.match(r.stdout, /^rec\s+3\s+7\.8\.2-34\s+Running\s+Valid\s+\d+s/m);
        const state = await kubectl('admin', ['get', 'rec', 'rec', '-o', 'jsonpath={.status.state}']);
        assert.equal(state.stdout, 'Running', state.stderr);
      });

      it('get secret -o jsonpath returns the base64 password', async () => {
        const r = await kubectl('admin', ['get', 'secret', 'rec', '-o', 'jsonpath={.data.password}']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, b64('s3cret-one'));
      });

      it('patch secret --type merge folds stringData into data', async () => {
        const r = await kubectl('admin', ['patch', 'secret', 'rec', '--type', 'merge', '-p', '{"stringData":{"password":"x"}}']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /secret\/rec patched/);
        const s = store.get('secrets', 'default', 'rec')!;
        assert.deepEqual(s['data'], { username: b64('demo@redis.com'), password: b64('x') });
        assert.equal(s['stringData'], undefined);
      });

      it('patch secret is forbidden for no-secret-patch', async () => {
        const r = await kubectl('no-secret-patch', ['patch', 'secret', 'rec', '--type', 'merge', '-p', '{"stringData":{"password":"x"}}']);
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          /Error from server \(Forbidden\): secrets "rec" is forbidden: User "no-secret-patch" cannot patch resource "secrets" in API group "" in the namespace "default"/,
        );
      });

      it('auth can-i answers from the user rules', async () => {
        const yes = await kubectl('admin', ['auth', 'can-i', 'create', 'pods/exec']);
        assert.equal(yes.code, 0, yes.stderr);
        assert.equal(yes.stdout.trim(), 'yes');
        const noExec = await kubectl('no-exec', ['auth', 'can-i', 'create', 'pods', '--subresource=exec']);
        assert.equal(noExec.stdout.trim(), 'no');
        assert.equal(noExec.code, 1);
        const noPatch = await kubectl('no-secret-patch', ['auth', 'can-i', 'patch', 'secrets']);
        assert.equal(noPatch.stdout.trim(), 'no');
        assert.equal(noPatch.code, 1);
        const readOnly = await kubectl('read-only', ['auth', 'can-i', 'create', 'pods', '--subresource=exec']);
        assert.equal(readOnly.stdout.trim(), 'no');
      });

      it('`can-i create pods/exec` asks about a pod named "exec", not the subresource', async () => {
        const mark = audit.mark();
        const r = await kubectl('no-exec', ['auth', 'can-i', 'create', 'pods/exec']);
        // RBAC semantics: no-exec may create pods, so a pod named "exec" is allowed.
        assert.equal(r.stdout.trim(), 'yes', r.stderr);
        assert.ok(audit.since(mark).some((e) => e.kind === 'api' && e.uri.endsWith('/selfsubjectaccessreviews') && e.status === 201));
      });

      if (spdyExec)
        it('exec over SPDY is refused with a clear upgrade error (this version does not speak WebSocket exec)', async () => {
          const r = await kubectl('admin', ['exec', 'rec-0', '-c', 'redis-enterprise-node', '--', 'echo', 'ok']);
          assert.equal(r.code, 1, r.stderr);
          assert.equal(r.stdout, '');
          assert.match(r.stderr, /unable to upgrade connection/);
        });
      else
        it('exec -i pipes stdin and returns the exit code', async () => {
          const mark = audit.mark();
          const r = await kubectl('admin', ['exec', '-i', 'rec-0', '-c', 'redis-enterprise-node', '--', 'sh', '-c', 'cat; echo to-stderr >&2; exit 3'], 'hello from stdin\n');
          assert.equal(r.code, 3, r.stderr);
          assert.equal(r.stdout, 'hello from stdin\n');
          assert.match(r.stderr, /to-stderr/);
          const ev = audit.since(mark).find((e) => e.kind === 'exec');
          assert.deepEqual(ev && ev.kind === 'exec' && [ev.user, ev.pod, ev.container, ev.command], [
            'admin',
            'rec-0',
            'redis-enterprise-node',
            ['sh', '-c', 'cat; echo to-stderr >&2; exit 3'],
          ]);
        });

      if (!spdyExec)
        it('exec succeeds with exit 0', async () => {
          const r = await kubectl('admin', ['exec', 'rec-0', '-c', 'redis-enterprise-node', '--', 'echo', 'ok']);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, 'ok\n');
        });

      it('exec into an unknown container fails', async () => {
        const r = await kubectl('admin', ['exec', 'rec-0', '-c', 'nope', '--', 'true']);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /container nope is not valid for pod rec-0/);
      });

      it('exec is forbidden for no-exec', async () => {
        const r = await kubectl('no-exec', ['exec', 'rec-0', '-c', 'redis-enterprise-node', '--', 'true']);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /pods "rec-0" is forbidden: User "no-exec" cannot create resource "pods\/exec" in API group "" in the namespace "default"/);
      });

      it('exec fails on a cluster without v5 (SPDY fallback answered with a Status)', async () => {
        api.setExecProtocols(['v4']);
        const r = await kubectl('admin', ['exec', 'rec-0', '-c', 'redis-enterprise-node', '--', 'true']);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /v4\.channel\.k8s\.io/);
      });

      it('get of a missing secret is NotFound', async () => {
        const r = await kubectl('admin', ['get', 'secret', 'missing']);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /Error from server \(NotFound\): secrets "missing" not found/);
      });

      it('replace with a stale resourceVersion is a Conflict', async () => {
        const cur = store.get('secrets', 'default', 'rec')!;
        const stale = { ...cur, metadata: { ...cur.metadata, resourceVersion: '1' } };
        const r = await kubectl('admin', ['replace', '--validate=false', '-f', '-'], JSON.stringify(stale));
        assert.equal(r.code, 1);
        assert.match(r.stderr, /Error from server \(Conflict\).*the object has been modified/);
      });

      it('get pods -l filters by label', async () => {
        const r = await kubectl('admin', ['get', 'pods', '-l', 'app=redis-enterprise', '-o', 'name']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'pod/rec-0\n');
        const t = await kubectl('admin', ['get', 'pods']);
        assert.match(t.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
        assert.match(t.stdout, /^rec-0\s+2\/2\s+Running\s+0\s+/m);
      });
    });
  }

  describe('raw HTTP semantics', () => {
    beforeEach(resetSecret);

    it('401 without or with a bad token, public /version', async () => {
      const a = await raw(api, ca, 'GET', '/api/v1/namespaces/default/secrets', { token: null });
      assert.equal(a.status, 401);
      assert.equal(a.json().reason, 'Unauthorized');
      const b = await raw(api, ca, 'GET', '/api/v1/namespaces/default/secrets', { token: 'bogus' });
      assert.equal(b.status, 401);
      const v = await raw(api, ca, 'GET', '/version', { token: null });
      assert.equal(v.json().minor, '31');
    });

    it('aggregated discovery follows Accept, legacy otherwise', async () => {
      const accept =
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
      const v2 = await raw(api, ca, 'GET', '/apis', { headers: { Accept: accept } });
      assert.equal(v2.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
      assert.equal(v2.json().apiVersion, 'apidiscovery.k8s.io/v2');
      const rec = v2.json().items.find((g: { metadata: { name: string } }) => g.metadata.name === 'app.redislabs.com').versions[0].resources[0];
      assert.deepEqual(rec.shortNames, ['rec']);
      const beta = await raw(api, ca, 'GET', '/api', { headers: { Accept: accept.split(',').slice(1).join(',') } });
      assert.equal(beta.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList');
      const legacy = await raw(api, ca, 'GET', '/api', { headers: { Accept: 'application/json' } });
      assert.equal(legacy.json().kind, 'APIVersions');
      const v1 = await raw(api, ca, 'GET', '/apis/app.redislabs.com/v1');
      assert.equal(v1.json().resources[0].name, 'redisenterpriseclusters');
      assert.equal((await raw(api, ca, 'GET', '/apis/nope.example.com/v1')).status, 404);
    });

    it('unknown paths are NotFound Status', async () => {
      const r = await raw(api, ca, 'GET', '/api/v1/namespaces/default/widgets');
      assert.equal(r.status, 404);
      assert.equal(r.json().kind, 'Status');
      assert.equal(r.json().reason, 'NotFound');
    });

    it('lists carry a resourceVersion and honour label selectors', async () => {
      const r = await raw(api, ca, 'GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dredis-enterprise');
      assert.equal(r.json().kind, 'PodList');
      assert.ok(r.json().metadata.resourceVersion);
      assert.deepEqual(
        r.json().items.map((p: { metadata: { name: string } }) => p.metadata.name),
        ['rec-0'],
      );
      const all = await raw(api, ca, 'GET', '/api/v1/pods?labelSelector=app+in+(redis-enterprise,something-else)');
      assert.equal(all.json().items.length, 2);
    });

    it('Table responses carry rows with objects', async () => {
      const r = await raw(api, ca, 'GET', '/api/v1/namespaces/default/secrets/rec', { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
      assert.equal(r.json().kind, 'Table');
      assert.deepEqual(
        r.json().columnDefinitions.map((c: { name: string }) => c.name),
        ['Name', 'Type', 'Data', 'Age'],
      );
      assert.equal(r.json().rows[0].object.metadata.name, 'rec');
    });

    it('secrets: create with stringData, JSON patch, strategic merge, delete', async () => {
      const created = await raw(api, ca, 'POST', '/api/v1/namespaces/default/secrets', {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tmp' }, stringData: { a: 'b' } }),
      });
      assert.equal(created.status, 201, created.body);
      assert.deepEqual(created.json().data, { a: b64('b') });
      const again = await raw(api, ca, 'POST', '/api/v1/namespaces/default/secrets', {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tmp' } }),
      });
      assert.equal(again.status, 409);
      assert.equal(again.json().reason, 'AlreadyExists');
      const jp = await raw(api, ca, 'PATCH', '/api/v1/namespaces/default/secrets/tmp', {
        headers: { 'Content-Type': 'application/json-patch+json' },
        body: JSON.stringify([
          { op: 'add', path: '/data/c', value: b64('d') },
          { op: 'remove', path: '/data/a' },
        ]),
      });
      assert.equal(jp.status, 200, jp.body);
      assert.deepEqual(jp.json().data, { c: b64('d') });
      const smp = await raw(api, ca, 'PATCH', '/api/v1/namespaces/default/secrets/tmp', {
        headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
        body: JSON.stringify({ stringData: { e: 'f' } }),
      });
      assert.deepEqual(smp.json().data, { c: b64('d'), e: b64('f') });
      const del = await raw(api, ca, 'DELETE', '/api/v1/namespaces/default/secrets/tmp');
      assert.equal(del.json().status, 'Success');
      assert.equal(store.get('secrets', 'default', 'tmp'), undefined);
    });

    it('secrets: resourceVersion precondition in a patch and the conflict fault', async () => {
      const stale = await raw(api, ca, 'PATCH', '/api/v1/namespaces/default/secrets/rec', {
        headers: { 'Content-Type': 'application/merge-patch+json' },
        body: JSON.stringify({ metadata: { resourceVersion: '1' }, stringData: { password: 'y' } }),
      });
      assert.equal(stale.status, 409);
      assert.equal(stale.json().reason, 'Conflict');
      faults.secretWriteConflicts = 1;
      const p = () =>
        raw(api, ca, 'PATCH', '/api/v1/namespaces/default/secrets/rec', {
          headers: { 'Content-Type': 'application/merge-patch+json' },
          body: JSON.stringify({ stringData: { password: 'y' } }),
        });
      assert.equal((await p()).status, 409);
      assert.equal((await p()).status, 200);
    });

    it('custom resources: merge patch works, strategic merge is 415, status is kept', async () => {
      const smp = await raw(api, ca, 'PATCH', '/apis/app.redislabs.com/v1/namespaces/default/redisenterpriseclusters/rec', {
        headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
        body: '{"spec":{"nodes":5}}',
      });
      assert.equal(smp.status, 415);
      assert.equal(smp.json().reason, 'UnsupportedMediaType');
      const mp = await raw(api, ca, 'PATCH', '/apis/app.redislabs.com/v1/namespaces/default/redisenterpriseclusters/rec', {
        headers: { 'Content-Type': 'application/merge-patch+json' },
        body: '{"spec":{"nodes":5},"status":{"state":"Hacked"}}',
      });
      assert.equal(mp.status, 200);
      assert.equal(mp.json().spec.nodes, 5);
      assert.equal(mp.json().status.state, 'Running');
      const st = await raw(api, ca, 'PATCH', '/apis/app.redislabs.com/v1/namespaces/default/redisenterpriseclusters/rec/status', {
        headers: { 'Content-Type': 'application/json-patch+json' },
        body: '[{"op":"replace","path":"/status/state","value":"Running"}]',
      });
      assert.equal(st.status, 200, st.body);
      const nf = await raw(api, ca, 'GET', '/apis/app.redislabs.com/v1/namespaces/default/redisenterpriseclusters/nope');
      assert.equal(nf.json().message, 'redisenterpriseclusters.app.redislabs.com "nope" not found');
    });

    it('pods are read-only: 405 MethodNotAllowed', async () => {
      const r = await raw(api, ca, 'DELETE', '/api/v1/namespaces/default/pods/rec-0');
      assert.equal(r.status, 405);
      assert.equal(r.json().reason, 'MethodNotAllowed');
    });

    it('SelfSubjectAccessReview in protobuf and JSON', async () => {
      const proto = await raw(api, ca, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        token: api.users['no-exec']!.token,
        headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/vnd.kubernetes.protobuf, */*' },
        body: encodeSelfSubjectAccessReview({ namespace: 'default', verb: 'create', resource: 'pods', subresource: 'exec' }),
      });
      assert.equal(proto.status, 201, proto.body);
      assert.equal(proto.json().status.allowed, false);
      assert.equal(proto.json().spec.resourceAttributes.subresource, 'exec');
      const json = await raw(api, ca, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        token: api.users['read-only']!.token,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          kind: 'SelfSubjectAccessReview',
          apiVersion: 'authorization.k8s.io/v1',
          spec: { resourceAttributes: { namespace: 'default', verb: 'get', resource: 'secrets' } },
        }),
      });
      assert.equal(json.json().status.allowed, true);
    });

    it('forbidden list at the namespace scope, read-only user', async () => {
      const r = await raw(api, ca, 'POST', '/api/v1/namespaces/default/configmaps', {
        token: api.users['read-only']!.token,
        headers: { 'Content-Type': 'application/json' },
        body: '{"metadata":{"name":"x"}}',
      });
      assert.equal(r.status, 403);
      assert.equal(r.json().message, 'configmaps is forbidden: User "read-only" cannot create resource "configmaps" in API group "" in the namespace "default"');
    });

    it('injected 429 with Retry-After, 500, and audited URIs', async () => {
      faults.apiErrors.push({ match: /^GET \/api\/v1\/namespaces\/default\/secrets\/rec$/, status: 429, remaining: 1 });
      faults.apiErrors.push({ match: /^GET \/api\/v1\/namespaces\/default\/configmaps$/, status: 500, remaining: 1 });
      const mark = audit.mark();
      const a = await raw(api, ca, 'GET', '/api/v1/namespaces/default/secrets/rec?x=1');
      assert.equal(a.status, 429);
      assert.equal(a.headers['retry-after'], '1');
      assert.equal((await raw(api, ca, 'GET', '/api/v1/namespaces/default/configmaps')).status, 500);
      assert.equal((await raw(api, ca, 'GET', '/api/v1/namespaces/default/secrets/rec')).status, 200);
      const uris = audit.since(mark).map((e) => (e.kind === 'api' ? `${e.user} ${e.method} ${e.uri} ${e.status}` : ''));
      assert.deepEqual(uris, [
        'admin GET /api/v1/namespaces/default/secrets/rec?x=1 429',
        'admin GET /api/v1/namespaces/default/configmaps 500',
        'admin GET /api/v1/namespaces/default/secrets/rec 200',
      ]);
    });

    it('watch streams changes', async () => {
      const events: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const req = request(
          `${api.url}/api/v1/namespaces/default/secrets?watch=true&fieldSelector=metadata.name%3Drec`,
          { ca, headers: { Authorization: `Bearer ${api.users['admin']!.token}` } },
          (res) => {
            res.on('data', (d: Buffer) => {
              for (const line of d.toString().split('\n').filter(Boolean)) events.push(JSON.parse(line).type);
              if (events.length === 1) resetSecret();
              if (events.length === 2) {
                req.destroy();
                resolve();
              }
            });
          },
        );
        req.on('error', (e) => (events.length >= 2 ? resolve() : reject(e)));
        req.end();
      });
      assert.deepEqual(events, ['ADDED', 'MODIFIED']);
    });
  });

  describe('exec through @kubernetes/client-node', () => {
    function clientExec(command: string[], stdin: Readable | null) {
      const kc = new KubeConfig();
      kc.loadFromFile(api.users['admin']!.kubeconfig);
      const out = new PassThrough();
      const err = new PassThrough();
      let stdout = '';
      let stderr = '';
      out.on('data', (d: Buffer) => (stdout += d.toString()));
      err.on('data', (d: Buffer) => (stderr += d.toString()));
      return new Promise<{ status: V1Status; stdout: string; stderr: string; protocol: string }>((resolve, reject) => {
        let protocol = '';
        new Exec(kc)
          .exec('default', 'rec-0', 'redis-enterprise-node', command, out, err, stdin, false, (status) => {
            setImmediate(() => resolve({ status, stdout, stderr, protocol }));
          })
          .then((ws) => {
            protocol = ws.protocol;
          }, reject);
      });
    }

    it('v5: stdin close signal, stdout, non-zero status', async () => {
      const r = await clientExec(['sh', '-c', 'cat; echo err >&2; exit 7'], Readable.from([Buffer.from('abc')]));
      assert.equal(r.protocol, 'v5.channel.k8s.io');
      assert.equal(r.stdout, 'abc');
      assert.equal(r.stderr, 'err\n');
      assert.deepEqual(r.status, {
        metadata: {},
        status: 'Failure',
        message: 'command terminated with non-zero exit code: error executing command [sh -c cat; echo err >&2; exit 7], exit code 7',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '7' }] },
      });
    });

    it('v4 only: no stdin close signal, Success status', async () => {
      api.setExecProtocols(['v4']);
      const r = await clientExec(['sh', '-c', 'printf "%s" "$((6*7))"'], null);
      assert.equal(r.protocol, 'v4.channel.k8s.io');
      assert.equal(r.stdout, '42');
      assert.deepEqual(r.status, { metadata: {}, status: 'Success' });
    });

    it('large output is flushed before the status', async () => {
      const r = await clientExec(['sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" x'], null);
      assert.equal(r.stdout.length, 300000);
      assert.equal(r.status.status, 'Success');
    });

    it('dropExecBeforeStatus ends the socket after the output, without a status frame', async () => {
      faults.dropExecBeforeStatus = 1;
      const cache = await mkdtemp(join(dir, 'cache-'));
      const r = await run('kubectl', [
        '--kubeconfig',
        api.users['admin']!.kubeconfig,
        '--cache-dir',
        cache,
        'exec',
        'rec-0',
        '-c',
        'redis-enterprise-node',
        '--',
        'sh',
        '-c',
        'echo done; exit 4',
      ]);
      assert.equal(r.stdout, 'done\n');
      // The exit code is lost with the status frame; kubectl sees an abnormal closure.
      assert.equal(r.code, 1);
      assert.match(r.stderr, /abnormal closure/);
      assert.equal(faults.dropExecBeforeStatus, 0);
    });

    it('raw v5 client: resize frames ignored, stdin close, early close kills the command', async () => {
      const token = api.users['admin']!.token;
      const base = `${api.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/rec-0/exec?container=redis-enterprise-node&stdin=true&stdout=true&stderr=true`;
      const ws = new WebSocket(`${base}&command=cat`, ['v5.channel.k8s.io'], { ca, headers: { Authorization: `Bearer ${token}` } });
      const frames: Buffer[] = [];
      ws.on('message', (d: Buffer) => frames.push(d));
      await new Promise((r) => ws.once('open', r));
      ws.send(Buffer.from([4, ...Buffer.from('{"Width":80,"Height":24}')]));
      ws.send(Buffer.from([0, ...Buffer.from('hi')]));
      ws.send(Buffer.from([255, 0]));
      const code = await new Promise((r) => ws.once('close', r));
      assert.equal(code, 1000);
      assert.equal(Buffer.concat(frames.filter((f) => f[0] === 1).map((f) => f.subarray(1))).toString(), 'hi');
      assert.deepEqual(JSON.parse(frames.at(-1)!.subarray(1).toString()), { metadata: {}, status: 'Success' });
      assert.equal(frames.at(-1)![0], 3);

      // v4 has no close signal: the command only ends when the client goes away.
      api.setExecProtocols(['v4']);
      const mark = audit.mark();
      const ws4 = new WebSocket(`${base}&command=sleep&command=30`, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], { ca, headers: { Authorization: `Bearer ${token}` } });
      await new Promise((r) => ws4.once('open', r));
      assert.equal(ws4.protocol, 'v4.channel.k8s.io');
      const started = Date.now();
      ws4.close();
      await new Promise((r) => ws4.once('close', r));
      assert.ok(audit.since(mark).some((e) => e.kind === 'exec' && e.command[0] === 'sleep'));
      while (!killed.some((c) => c[0] === 'sleep')) await new Promise((r) => setTimeout(r, 10));
      assert.ok(Date.now() - started < 5000);

      const refused = new WebSocket(`${base}&command=true`, ['v5.channel.k8s.io'], { ca, headers: { Authorization: `Bearer ${token}` } });
      const status = await new Promise<number>((r) => refused.once('unexpected-response', (_req, res) => r(res.statusCode ?? 0)));
      assert.equal(status, 400);
    });

    it('refuseExec answers 403 before the upgrade', async () => {
      faults.refuseExec = true;
      const r = await raw(api, ca, 'GET', '/api/v1/namespaces/default/pods/rec-0/exec?command=true&stdout=true&container=redis-enterprise-node', {
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Protocol': 'v5.channel.k8s.io',
        },
      });
      assert.equal(r.status, 403);
      assert.equal(r.json().reason, 'Forbidden');
    });
  });
});
