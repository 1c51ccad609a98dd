// The operator as documented (issue 14, item 7): a renamed credential Secret, Vault RECs whose pods mount no
// credentials, and the .minimal image that may lack any command the in-pod script runs.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SimCluster } from '../sim/cluster.js';
import { startSimCluster } from '../sim/cluster.js';
import type { KubeObject } from '../sim/kube/store.js';
import { POD_TOOLS } from '../../src/pod/in-pod-script.js';
import { journalExists, reccred, validPasswords, type RunResult } from './harness.js';

const NS = 'default';
// Long enough for a plugin run to start and stop while the switch is pending, on a loaded machine too.
const RENAME_MS = 10_000;
const MINIMAL_IMAGE = 'redislabs/redis:8.0.18-23.11.minimal';
/** One REC, each pod lacking two of the script's commands: every command is asked for in one preflight. */
// rec-min-2 lacks only commands the in-pod script does not run: it must not be named.
const MISSING: Record<string, string[]> = { 'rec-min-0': ['curl'], 'rec-min-1': ['sha256sum', 'head'], 'rec-min-2': ['cat', 'base64', 'tr'] };

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the operator as documented (end to end)', function () {
  this.timeout(300_000);
  let sim: SimCluster;
  let vaultEnv: Record<string, string>;
  const run = (args: string[], opts: Parameters<typeof reccred>[2] = {}): Promise<RunResult> => reccred(sim, [...args, '-n', NS], opts);

  before(async () => {
    sim = await startSimCluster({
      recs: [
        { name: 'rec-rename', namespace: NS, pods: 2, secretRenameMs: RENAME_MS },
        { name: 'rec-fixed', namespace: NS, pods: 1, credentialSecretNaming: 'fixed' },
        { name: 'rec-nostatus', namespace: NS, pods: 1, credentialSecretNaming: 'no-status' },
        { name: 'rec-vfiles', namespace: NS, pods: 2, secretType: 'vault', vaultMountedCredentials: false },
        { name: 'rec-nofiles', namespace: NS, pods: 1 },
        { name: 'rec-min', namespace: NS, pods: 3, missingTools: MISSING },
      ],
      syncDelayMs: 500,
      operatorIntervalMs: 250,
      vaultCacheSeconds: 3,
    });
    vaultEnv = { VAULT_ADDR: sim.vault.addr, VAULT_TOKEN: sim.vault.token, VAULT_CACERT: sim.vault.caFile };
  });
  after(async () => sim?.stop());

  const secretData = (name: string) => (sim.store.get('secrets', NS, name)?.data ?? {}) as Record<string, string>;
  const rec = (name: string) => sim.store.mustGet('redisenterpriseclusters', NS, name);
  const statusSecret = (name: string) => (rec(name).status as { clusterCredentialSecretName?: string }).clusterCredentialSecretName;
  const pointSpecAt = (name: string, secretName: string) => {
    const o = rec(name);
    sim.store.update('redisenterpriseclusters', {
      ...o,
      metadata: { ...o.metadata, resourceVersion: undefined },
      spec: { ...(o.spec as object), clusterCredentialSecretName: secretName },
    });
  };
  /** A second Secret with the same (working) credentials, as the CRD requires of a new name. */
  const copySecret = (from: string, to: string) => {
    const c = sim.credentials(from)!;
    sim.store.create('secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: to, namespace: NS },
      type: 'Opaque',
      data: { username: b64(c.username), password: b64(c.password) },
    } as KubeObject);
  };
  const snapshot = (name: string, secrets: string[]) => ({
    secrets: secrets.map(secretData),
    valid: validPasswords(sim, name, sim.credentials(name)!.username).sort(),
    journal: journalExists(sim, NS, name),
    // User operations keep their own journals, named after the REC's.
    journals: sim.store
      .list('secrets', NS)
      .map((s) => s.metadata.name)
      .filter((n) => n.startsWith(`${name}-reccred-journal`)),
  });

  describe('credential Secret rename (crds/rec_crd.yaml from v8.0.18-11)', () => {
    it('during a rename: refused (exit 4) naming both Secrets and how to wait, nothing changed', async () => {
      assert.equal(statusSecret('rec-rename'), 'rec-rename', 'the status names the Secret in use');
      copySecret('rec-rename', 'rec-rename-v2');
      pointSpecAt('rec-rename', 'rec-rename-v2');
      const before = snapshot('rec-rename', ['rec-rename', 'rec-rename-v2']);
      const r = await run(['rotate', 'rec-rename', '--settle', '1s']);
      assert.equal(statusSecret('rec-rename'), 'rec-rename', `the run ended before the operator switched (raise RENAME_MS): ${r.stderr}`);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /"rec-rename-v2"/);
      assert.match(r.stderr, /"rec-rename"/);
      assert.match(r.stderr, /kubectl get rec rec-rename -n default -o jsonpath=\{\.status\.clusterCredentialSecretName\}/);
      assert.deepEqual(snapshot('rec-rename', ['rec-rename', 'rec-rename-v2']), before);
      assert.equal(before.journal, false);
    });

    it('after the rename: rotate works on the new Secret, the old one is untouched', async () => {
      const deadline = Date.now() + RENAME_MS + 5000;
      while (statusSecret('rec-rename') !== 'rec-rename-v2') {
        assert.ok(Date.now() < deadline, 'the operator switched to the new Secret');
        await sleep(100);
      }
      await sim.waitForSync();
      const oldSecret = secretData('rec-rename');
      const username = sim.credentials('rec-rename')!.username;
      const previous = sim.credentials('rec-rename')!.password;
      const r = await run(['rotate', 'rec-rename', '--settle', '1s']);
      assert.equal(r.code, 0, r.stderr);
      const now = sim.credentials('rec-rename')!;
      assert.equal(Buffer.from(secretData('rec-rename-v2').password!, 'base64').toString('utf8'), now.password, 'the Secret in use holds the new password');
      assert.notEqual(now.password, previous);
      assert.deepEqual(secretData('rec-rename'), oldSecret, 'the old Secret is untouched');
      assert.deepEqual(validPasswords(sim, 'rec-rename', username), [now.password], 'the cluster accepts only the new password');
      assert.equal(journalExists(sim, NS, 'rec-rename'), false);
      assert.equal(sim.operator.failures('rec-rename').length, 0, 'the operator never failed to authenticate');
    });

    it('an operator that never switches (status set at creation): refused, saying to set the spec back', async () => {
      copySecret('rec-fixed', 'rec-fixed-v2');
      pointSpecAt('rec-fixed', 'rec-fixed-v2');
      const before = snapshot('rec-fixed', ['rec-fixed', 'rec-fixed-v2']);
      const r = await run(['rotate', 'rec-fixed', '--settle', '1s']);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /before 8\.0\.18-11 never switch/);
      assert.match(r.stderr, /back to rec-fixed/);
      assert.deepEqual(snapshot('rec-fixed', ['rec-fixed', 'rec-fixed-v2']), before);
    });

    it('an operator without the status field: the spec names the Secret', async () => {
      assert.equal(statusSecret('rec-nostatus'), undefined);
      const r = await run(['rotate', 'rec-nostatus', '--settle', '1s']);
      assert.equal(r.code, 0, r.stderr);
      const now = sim.credentials('rec-nostatus')!;
      assert.deepEqual(validPasswords(sim, 'rec-nostatus', now.username), [now.password]);
    });
  });

  describe('Vault REC whose pods mount no credentials (silent: content/operate/kubernetes/security/vault.md)', () => {
    const REC = 'rec-vfiles';
    const creds = () => sim.credentials(REC)!;
    const journalRecord = () => {
      const j = sim.store.get('secrets', NS, `${REC}-reccred-journal`) as unknown as { data: Record<string, string> } | undefined;
      return j && (JSON.parse(Buffer.from(j.data['journal.json']!, 'base64').toString('utf8')) as { newPassword: string; oldPassword: string });
    };
    const assertSettled = (expected: string) => {
      assert.equal(creds().password, expected, 'Vault holds the expected password');
      assert.deepEqual(validPasswords(sim, REC, creds().username), [expected], 'the cluster accepts exactly the password Vault holds');
      assert.equal(journalExists(sim, NS, REC), false, 'no journal is left');
      assert.equal(sim.operator.failures(REC).length, 0, 'the operator never failed to authenticate');
      assert.equal(sim.audit.failedRestAuths(REC), 0, 'no failed login');
    };

    it('the pods really have no credential files', () => {
      for (const pod of ['rec-vfiles-0', 'rec-vfiles-1']) assert.equal(sim.podCredentials(NS, pod), undefined);
    });

    it('rotate: the settle stands in for propagation, and the run says so', async () => {
      const before = creds().password;
      const started = Date.now();
      const r = await run(['rotate', REC, '--settle', '1s'], { env: vaultEnv });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /mount no credential files/);
      assert.match(r.stderr, /settle raised to 3s/);
      assert.ok(Date.now() - started >= 3000, 'waited at least the Vault cache time');
      assert.notEqual(creds().password, before);
      assertSettled(creds().password);
    });

    for (const recovery of ['finish', 'abort'] as const) {
      it(`SIGKILL right after the Vault write, then ${recovery}`, async () => {
        const old = creds().password;
        const killed = await run(['rotate', REC, '--settle', '1s'], { env: vaultEnv, killWhen: (e) => e.audit?.kind === 'vault' && e.audit.method === 'POST' });
        assert.equal(killed.killed, true, killed.stderr);
        const record = journalRecord();
        assert.ok(record, 'the journal survived the crash');
        const r = await run([recovery, REC], { env: vaultEnv });
        assert.equal(r.code, 0, r.stderr);
        assertSettled(recovery === 'finish' ? record.newPassword : old);
      });
    }

    it('a Kubernetes-Secret REC without the files is still refused', async () => {
      const dir = sim.podCredentialsDir(NS, 'rec-nofiles-0');
      for (const f of ['username', 'password']) rmSync(join(dir, f));
      const before = snapshot('rec-nofiles', ['rec-nofiles']);
      const r = await run(['rotate', 'rec-nofiles', '--settle', '1s']);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /propagation incomplete: rec-nofiles-0 \(pending\)/);
      assert.deepEqual(snapshot('rec-nofiles', ['rec-nofiles']), before);
    });
  });

  describe('minimal image (silent: content/operate/kubernetes/security/minimal-base-image)', () => {
    const REC = 'rec-min';
    before(() => {
      for (const pod of Object.keys(MISSING)) {
        const o = sim.store.mustGet('pods', NS, pod);
        const spec = o.spec as { containers: { name: string; image: string }[] };
        for (const c of spec.containers) if (c.name === 'redis-enterprise-node') c.image = MINIMAL_IMAGE;
        sim.store.update('pods', { ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
      }
    });

    it('the commands are really absent from the pods', async () => {
      for (const [pod, tools] of Object.entries(MISSING)) {
        for (const tool of POD_TOOLS) {
          const p = sim.sandboxes.exec({ namespace: NS, pod, container: 'redis-enterprise-node', command: ['sh', '-c', `command -v ${tool}`], stdin: false });
          p.stdout.resume();
          p.stderr.resume();
          const { code } = await p.exit;
          assert.equal(code === 0, !tools.includes(tool), `${tool} in ${pod}`);
        }
      }
    });

    for (const command of [
      ['rotate', REC, '--settle', '1s'],
      ['user', 'rotate', REC, '--user', 'app@example.com', '--current-password-stdin'],
    ]) {
      it(`${command.slice(0, command[0] === 'user' ? 2 : 1).join(' ')}: refused before anything changes, naming each pod, command and the image`, async () => {
        const admin = sim.credentials(REC)!;
        const app = sim.redis(REC).findUser('app@example.com') ?? sim.redis(REC).createUser({ email: 'app@example.com', password: 'App-Passw0rd-1', role: 'db_viewer' });
        const before = { ...snapshot(REC, [REC]), app: [...app.passwords] };
        const restCalls = sim.audit.events().filter((e) => e.kind === 'rest').length;
        const r = await run(command, { stdin: 'App-Passw0rd-1\n' });
        assert.equal(r.code, 4, r.stderr);
        for (const [pod, tools] of Object.entries(MISSING)) {
          const used = tools.filter((t) => (POD_TOOLS as readonly string[]).includes(t));
          if (used.length) assert.match(r.stderr, new RegExp(`pod ${pod} \\(image ${MINIMAL_IMAGE.replace(/\./g, '\\.')}\\) has no ${used.join(', ')}`));
          else assert.doesNotMatch(r.stderr, new RegExp(`pod ${pod}\\b`), `${pod} lacks nothing the plugin runs`);
        }
        assert.match(r.stderr, /redis-enterprise-node/);
        assert.match(r.stderr, /without "\.minimal"/);
        assert.match(r.stderr, /manual procedure/);
        assert.deepEqual({ ...snapshot(REC, [REC]), app: [...sim.redis(REC).findUser('app@example.com')!.passwords] }, before, 'Secret, passwords and journals unchanged');
        assert.equal(sim.credentials(REC)!.password, admin.password);
        assert.equal(sim.audit.events().filter((e) => e.kind === 'rest').length, restCalls, 'not one REST call');
      });
    }
  });
});
