// Text that is not valid UTF-8 (or, from JSON, not valid Unicode) is refused with exit 2, never
// replaced with U+FFFD (issue 11, defect 5); and a password is registered with the redactor the moment it
// is read (defect 6).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ExitCode, ReccredError } from '../../src/errors/exit-codes.js';
import type { Cluster } from '../../src/kube/cluster.js';
import { decodeSecretKey, type Secret } from '../../src/kube/resources.js';
import { redactor } from '../../src/output/redactor.js';
import { suppliedPassword, readStdinLine } from '../../src/password/password-source.js';
import { SecretStore } from '../../src/store/secret-store.js';
import { VaultStore } from '../../src/store/vault-store.js';
import type { VaultClient } from '../../src/vault/vault-client.js';
import type { VaultEntry } from '../../src/vault/vault-settings.js';

const INVALID = [
  ['a lone continuation byte', Buffer.from([0x80])],
  ['0xFF', Buffer.from([0x41, 0xff, 0x42])],
  ['a truncated sequence', Buffer.from([0x41, 0xc3])],
  ['an overlong encoding', Buffer.from([0xc0, 0xaf])],
  ['an encoded surrogate', Buffer.from([0xed, 0xa0, 0x80])],
] as const;

const secretOf = (data: Record<string, Buffer | string>): Secret => ({
  metadata: { name: 'rec', namespace: 'redis' },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

/** Other tests in the process register secrets too (the redactor is one per process): check absence only. */
const assertScrubbed = (password: string) => {
  const out = redactor.scrub(`before ${password} after`);
  assert.ok(!out.includes(password), out);
  assert.match(out, /\*{8}/);
};

const isUsage = (pattern: RegExp, mustNotContain?: string) => (e: unknown) => {
  assert.ok(e instanceof ReccredError, String(e));
  assert.equal(e.exitCode, ExitCode.Usage);
  assert.match(e.message, pattern);
  if (mustNotContain) assert.ok(!`${e.message} ${e.hint}`.includes(mustNotContain), 'the value is never shown');
  return true;
};

describe('strict UTF-8 for secrets and supplied passwords', () => {
  describe('Secret keys', () => {
    it('decodes valid UTF-8 exactly, a leading BOM included', () => {
      const value = '\ufeffPässwörd-密码-🔑';
      assert.equal(decodeSecretKey(secretOf({ password: value }), 'password'), value);
      assert.equal(decodeSecretKey(secretOf({}), 'password'), undefined);
    });
    for (const [label, bytes] of INVALID) {
      it(`refuses ${label} with exit 2, naming the key and the Secret, not the value`, () => {
        const secret = secretOf({ password: Buffer.concat([Buffer.from('Visible-Part-'), bytes]) });
        assert.throws(() => decodeSecretKey(secret, 'password'), isUsage(/key "password" of secret redis\/rec is not valid UTF-8/, 'Visible-Part-'));
      });
    }
  });

  describe('--password-stdin', () => {
    it('reads UTF-8 split across chunks', async () => {
      const bytes = Buffer.from('Pässwörd-🔑-A1!\n');
      const chunks = [bytes.subarray(0, 2), bytes.subarray(2, 3), bytes.subarray(3, 14), bytes.subarray(14)];
      assert.equal(await readStdinLine(Readable.from(chunks)), 'Pässwörd-🔑-A1!');
    });
    for (const [label, bytes] of INVALID) {
      it(`refuses ${label} with exit 2`, async () => {
        const input = Readable.from([Buffer.concat([Buffer.from('Visible-Part-'), bytes, Buffer.from('\n')])]);
        await assert.rejects(readStdinLine(input), isUsage(/--password-stdin.*not valid UTF-8/, 'Visible-Part-'));
      });
    }
  });

  describe('--password-file', () => {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-pwfile-'))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reads a UTF-8 file and registers the password with the redactor at once', async () => {
      const file = path.join(dir, 'ok');
      fs.writeFileSync(file, 'Fïle-Password-A1!\n');
      const password = await suppliedPassword({ stdin: false, file: file });
      assert.equal(password, 'Fïle-Password-A1!');
      assertScrubbed(password);
    });
    for (const [label, bytes] of INVALID) {
      it(`refuses ${label} with exit 2`, async () => {
        const file = path.join(dir, 'bad');
        fs.writeFileSync(file, Buffer.concat([Buffer.from('Visible-Part-'), bytes, Buffer.from('\n')]));
        await assert.rejects(suppliedPassword({ stdin: false, file: file }), isUsage(/--password-file .*not valid UTF-8/, 'Visible-Part-'));
      });
    }
  });

  describe('credential stores', () => {
    const cluster = (secret: Secret | undefined) => ({ namespace: 'redis', getSecret: async () => secret }) as unknown as Cluster;

    it('SecretStore.read registers the password the moment it is read', async () => {
      const password = 'Registered-At-Read-1!';
      const store = new SecretStore(cluster(secretOf({ username: 'demo@redis.com', password })), 'rec');
      const got = await store.read();
      assert.equal(got.password, password);
      assertScrubbed(password);
    });

    it('SecretStore.read refuses a password that is not UTF-8 (exit 2)', async () => {
      const store = new SecretStore(cluster(secretOf({ username: 'demo@redis.com', password: Buffer.from([0x41, 0xff]) })), 'rec');
      await assert.rejects(store.read(), isUsage(/key "password" of secret redis\/rec/));
    });

    const vault = (data: Record<string, unknown>) =>
      new VaultStore(
        { kvRead: async () => ({ data, version: 3 }) } as unknown as VaultClient,
        { mount: 'secret', path: 'redisenterprise/rec', cacheMs: 0 } as unknown as VaultEntry,
      );

    it('VaultStore.read registers the password the moment it is read', async () => {
      const password = 'Vault-Registered-2!';
      assert.equal((await vault({ username: 'demo@redis.com', password }).read()).password, password);
      assertScrubbed(password);
    });

    it('VaultStore.read refuses a lone surrogate (exit 2); a paired one is fine', async () => {
      await assert.rejects(vault({ username: 'demo@redis.com', password: 'Vault-\ud800-A1!' }).read(), isUsage(/key "password" of vault .* not valid Unicode/));
      await assert.rejects(vault({ username: 'demo\udc00@redis.com', password: 'Fine-A1!' }).read(), isUsage(/key "username"/));
      assert.equal((await vault({ username: 'demo@redis.com', password: 'Emoji-🔑-A1!' }).read()).password, 'Emoji-🔑-A1!');
    });
  });
});
