// Issue 14: what the REST client concludes from each reply, with the replies of a fake pod transport:
// the removal of a password decided from state (never from a hoped-for error code), the request bodies
// by version, the lockout settings in number or word form, and the version of a pod's image.
import assert from 'node:assert/strict';
import type { Pod } from '../../src/kube/resources.js';
import type { PodTransport, RestCall, RestReply } from '../../src/pod/pod-transport.js';
import { describeLockout, lockoutFromPolicy } from '../../src/rest/lockout-policy.js';
import { RestClient } from '../../src/rest/rest-client.js';
import { AuthenticationFailedError, ForbiddenError, RestApiError, VersionsStraddleError } from '../../src/rest/rest-errors.js';
import { clusterSoftware, podImageVersion, softwareFromImages } from '../../src/rest/software-version.js';

const pod = (name: string, image: string): Pod => ({ metadata: { name }, spec: { containers: [{ name: 'redis-enterprise-node', image }] }, status: { podIP: '10.0.0.1' } }) as Pod;

/** A client whose pod answers with the given replies in turn, recording the calls. */
function client(replies: RestReply[], image = 'redislabs/redis:7.22.0-28') {
  const calls: RestCall[] = [];
  const transport = {
    rest: (_pod: string, call: RestCall) => {
      calls.push(call);
      const reply = replies.shift();
      if (!reply) throw new Error(`no reply left for ${call.method} ${call.path}`);
      return Promise.resolve(reply);
    },
  } as unknown as PodTransport;
  return { rest: new RestClient(transport, [pod('rec-0', image)]), calls };
}
const reply = (status: number, body?: unknown): RestReply => ({ status, body, redirect: '' });
const Y = { username: 'u@example.com', password: 'Known-Good-1' };

describe('DELETE /v1/users/password: the outcome decided from state', () => {
  const cases: [string, RestReply, 'deleted' | 'absent' | (new (...a: never[]) => Error)][] = [
    ['200', reply(200), 'deleted'],
    ['401', reply(401, { error_code: 'unauthorized' }), AuthenticationFailedError],
    ['403', reply(403, { error_code: 'forbidden', description: 'Forbidden' }), ForbiddenError],
    ['404 user_not_exist', reply(404, { error_code: 'user_not_exist', message: 'User does not exist' }), RestApiError],
    ['404 without an error object (an unrouted path)', reply(404, 'Not Found'), RestApiError],
    ['400 without an error object (a proxy page)', reply(400, '<html>bad request</html>'), RestApiError],
    ['500', reply(500, { error_code: 'internal_error', description: 'x' }), RestApiError],
    ['400 with a code nobody knows', reply(400, { error_code: 'sim_unfamiliar_code', description: 'x' }), 'absent'],
    ['400 cannot_delete_last_password', reply(400, { error_code: 'cannot_delete_last_password', message: 'x' }), 'absent'],
  ];
  for (const [name, answer, expected] of cases) {
    it(`${name} -> ${typeof expected === 'string' ? expected : expected.name}`, async () => {
      const { rest } = client([answer]);
      const p = rest.deletePassword(Y, 'Old-Pass-1', () => assert.fail('a non-404 needs no confirmation'));
      if (typeof expected === 'string') assert.equal(await p, expected);
      else await assert.rejects(p, expected);
    });
  }

  it('404 with another error object: "absent" only once the user is shown to exist', async () => {
    let confirmed = 0;
    const { rest } = client([reply(404, { error_code: 'not_found', description: 'x' })]);
    assert.equal(
      await rest.deletePassword(Y, 'Old-Pass-1', () => {
        confirmed++;
        return Promise.resolve();
      }),
      'absent',
    );
    assert.equal(confirmed, 1);
    const failing = client([reply(404, { error_code: 'not_found', description: 'x' })]);
    await assert.rejects(
      failing.rest.deletePassword(Y, 'Old-Pass-1', () => Promise.reject(new Error('no such user'))),
      /no such user/,
    );
  });

  it('by default the confirmation is a login with the known-good password (a 200 proves the user exists)', async () => {
    const { rest, calls } = client([reply(404, { error_code: 'not_found', description: 'x' }), reply(200, {})]);
    assert.equal(await rest.deletePassword(Y, 'Old-Pass-1'), 'absent');
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.path}`),
      ['DELETE /v1/users/password', 'GET /v1/cluster'],
    );
  });
});

describe('request bodies by version', () => {
  it('7.8.2-34 and later: POST/PUT send new_password only, DELETE old_password only', async () => {
    const { rest, calls } = client([reply(200), reply(200), reply(200)], 'redislabs/redis:8.2.0-25');
    await rest.addPassword(Y, 'New-1');
    await rest.replacePasswords(Y, 'New-2');
    await rest.deletePassword(Y, 'Old-1');
    assert.deepEqual(
      calls.map((c) => c.body),
      [{ new_password: 'New-1' }, { new_password: 'New-2' }, { old_password: 'Old-1' }],
    );
  });

  it('before 7.8.2: username everywhere, old_password (a current one) on POST/PUT', async () => {
    const { rest, calls } = client([reply(200), reply(200), reply(200)], 'redislabs/redis:7.4.2-54');
    await rest.addPassword(Y, 'New-1');
    await rest.replacePasswords(Y, 'New-2');
    await rest.deletePassword(Y, 'Old-1');
    assert.deepEqual(
      calls.map((c) => c.body),
      [
        { username: Y.username, old_password: Y.password, new_password: 'New-1' },
        { username: Y.username, old_password: Y.password, new_password: 'New-2' },
        { username: Y.username, old_password: 'Old-1' },
      ],
    );
  });

  it('the version the preflight read wins over the image; nodes on both sides of 7.8.2 stop before any call', async () => {
    const { rest, calls } = client([reply(200)], 'redislabs/redis:7.4.2-54');
    rest.software = clusterSoftware(['8.0.2-17'], 'nodes');
    await rest.addPassword(Y, 'New-1');
    assert.deepEqual(calls[0]!.body, { new_password: 'New-1' });
    rest.software = clusterSoftware(['7.4.2-54', '7.8.2-34'], 'nodes');
    await assert.rejects(rest.addPassword(Y, 'New-2'), VersionsStraddleError);
    assert.equal(calls.length, 1);
  });

  it('image tags: version, .minimal suffix, digest or no tag (unknown: the current API is assumed)', () => {
    assert.equal(podImageVersion(pod('p', 'redislabs/redis:7.22.0-28')), '7.22.0-28');
    assert.equal(podImageVersion(pod('p', 'registry:5000/redislabs/redis:8.0.18-23.11.minimal')), '8.0.18-23.11.minimal');
    assert.equal(podImageVersion(pod('p', 'redislabs/redis@sha256:0123abcd')), undefined);
    assert.equal(podImageVersion(pod('p', 'redislabs/redis:latest')), undefined);
    assert.deepEqual(softwareFromImages([pod('p', 'redislabs/redis:latest')]), { versions: [], source: 'assumed', bodies: 'own', straddles: false });
    assert.equal(softwareFromImages([pod('a', 'redislabs/redis:7.4.2-54'), pod('b', 'redislabs/redis:7.8.2-34')]).straddles, true);
  });
});

describe('GET /v1/cluster/policy: the lockout settings, as numbers or words', () => {
  it('reads numbers, numeric strings and the words rladmin uses', () => {
    assert.deepEqual(lockoutFromPolicy({ login_lockout_threshold: 3, login_lockout_duration: '600', login_lockout_counter_reset_after: 60 }), {
      threshold: 3,
      durationSeconds: 600,
      counterResetAfterSeconds: 60,
      documentedDefaults: false,
    });
    const words = lockoutFromPolicy({ login_lockout_threshold: 'disabled', login_lockout_duration: 'admin-release', login_lockout_counter_reset_after: 900 });
    assert.deepEqual([words.threshold, words.durationSeconds, words.documentedDefaults], [0, 0, false]);
    assert.equal(lockoutFromPolicy({ something: 'else' }).documentedDefaults, true);
  });

  it('words each case, and says when the figures are only the documented defaults', () => {
    assert.match(describeLockout(undefined), /documented defaults .*5 failed logins, each less than 15m after the previous one, lock the account for 30m/);
    assert.match(describeLockout({ threshold: 0, durationSeconds: 0, counterResetAfterSeconds: 900, documentedDefaults: false }), /lockout is disabled/);
    assert.match(
      describeLockout({ threshold: 10, durationSeconds: 0, counterResetAfterSeconds: 300, documentedDefaults: false }),
      /this cluster's settings .*10 failed logins, each less than 5m after the previous one, lock the account until an admin resets the password/,
    );
  });

  it('a 200 of the policy read is the login; a 401 is a refused login carrying what is known of the policy', async () => {
    const { rest } = client([reply(200, { login_lockout_threshold: 7, login_lockout_duration: 60, login_lockout_counter_reset_after: 30 }), reply(401)]);
    assert.equal((await rest.readLockoutPolicy(Y)).threshold, 7);
    const err = await rest.authenticate(Y).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AuthenticationFailedError);
    assert.equal(err.lockout?.threshold, 7);
  });
});
