// Protocol 4 of the in-pod script end to end: the answers read back whatever way the streams are cut
// (a property over the reader), and one session carrying many requests through the simulated API server's
// exec endpoint with a real sh and curl in a real pod sandbox, over exec protocols v4 and v5, its stdin cut
// into WebSocket frames at every kind of place.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KubeApi } from '../../src/kube/api-client.js';
import { resolveKubeconfig } from '../../src/kube/kubeconfig.js';
import { curlConfig, parseCurlOutput } from '../../src/pod/curl-config.js';
import { openExecStream } from '../../src/pod/exec-session.js';
import { IN_POD_COMMAND } from '../../src/pod/in-pod-script.js';
import { PodTransport, REC_CONTAINER, sha256 } from '../../src/pod/pod-transport.js';
import { ScriptSession, takeAnswer, type ScriptAnswer } from '../../src/pod/script-session.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import { NONCE, restRequest } from './in-pod-runner.js';

const SEED = Number(process.env.RECCRED_SEED ?? 0x5eed) | 0;

/** Cuts `b` at the given sizes (the rest in one piece). */
function cut(b: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const s of sizes) {
    if (at >= b.length) break;
    out.push(b.subarray(at, (at = Math.min(b.length, at + s))));
  }
  if (at < b.length) out.push(b.subarray(at));
  return out;
}

describe('in-pod script protocol 4: answers read back, however the streams are cut', () => {
  it('takeAnswer recovers every answer exactly from any cut of stdout and stderr', () => {
    const bytes = fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a));
    // Bodies may hold newlines, digits and pieces of the nonce; never the whole marker (a reply cannot know it).
    const body = fc.oneof(bytes, fc.constantFrom(`\n${NONCE.slice(0, 10)} 0\n`, '\n0 \n', `${NONCE} 0\n`, '\n\n', '')).map((x) => Buffer.from(x));
    const answer = fc.record({ stdout: body, stderr: body, exitCode: fc.integer({ min: 0, max: 255 }) });
    fc.assert(
      fc.property(
        fc.array(answer, { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 9 })),
        fc.array(fc.integer({ min: 1, max: 9 })),
        (answers, outCuts, errCuts) => {
          const out = Buffer.concat(answers.flatMap((a) => [a.stdout, Buffer.from(`\n${NONCE} ${a.exitCode}\n`)]));
          const err = Buffer.concat(answers.flatMap((a) => [a.stderr, Buffer.from(`\n${NONCE}\n`)]));
          const outPieces = cut(out, outCuts);
          const errPieces = cut(err, errCuts);
          let o: Buffer = Buffer.alloc(0);
          let e: Buffer = Buffer.alloc(0);
          const got: ScriptAnswer[] = [];
          // Pieces arrive alternately; after each, every answer that is whole is taken.
          for (let i = 0; i < Math.max(outPieces.length, errPieces.length); i++) {
            o = Buffer.concat([o, outPieces[i] ?? Buffer.alloc(0)]);
            e = Buffer.concat([e, errPieces[i] ?? Buffer.alloc(0)]);
            for (let t = takeAnswer(o, e, NONCE); t; t = takeAnswer(o, e, NONCE)) {
              got.push(t.answer);
              [o, e] = [t.out, t.err];
            }
          }
          assert.deepEqual(
            got.map((a) => ({ stdout: a.stdout.toString('hex'), stderr: a.stderr.toString('hex'), exitCode: a.exitCode })),
            answers.map((a) => ({ stdout: a.stdout.toString('hex'), stderr: a.stderr.toString('hex'), exitCode: a.exitCode })),
          );
          assert.equal(o.length + e.length, 0, 'nothing left over');
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('in-pod script protocol 4 through the exec endpoint (real sh, curl, pod sandbox)', function () {
  this.timeout(180_000);
  let sim: SimCluster;
  let api: KubeApi;
  const NS = 'default';
  const POD = 'rec-0';
  before(async () => {
    sim = await startSimCluster({ recs: [{ name: 'rec' }], pods: 1 });
    api = await KubeApi.connect(resolveKubeconfig({ kubeconfig: sim.kubeconfig }), 10_000, () => {});
  });
  after(async () => {
    await sim?.stop();
  });

  const request = fc.oneof(
    fc.constant({ kind: 'tools' as const }),
    fc.constant({ kind: 'hash' as const }),
    fc.constantFrom('/v1/cluster', '/v1/users', '/v1/nope').map((path) => ({ kind: 'rest' as const, path })),
  );
  const payloadOf = (r: { kind: 'tools' | 'hash' | 'rest'; path?: string }, auth: { username: string; password: string }) =>
    r.kind === 'rest' ? restRequest(curlConfig({ method: 'GET', url: `https://localhost:9443${r.path}`, basicAuth: auth, maxTimeSeconds: 5 })) : Buffer.from(`${r.kind}\n`);

  for (const protocol of ['v4', 'v5'] as const) {
    it(`${protocol}: a conversation cut into frames anywhere gets every answer, in order; stop ends it with exit 0`, async () => {
      sim.setExecProtocols([protocol]);
      const auth = sim.credentials('rec')!;
      const expectedHash = `username ${sha256(auth.username)}\npassword ${sha256(auth.password)}\n`;
      await fc.assert(
        fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 12 }), async (requests, frames) => {
          const stdin = Buffer.concat([Buffer.from(`reccred ${NONCE}\n`), ...requests.map((r) => payloadOf(r, auth)), Buffer.from('stop\n')]);
          let out: Buffer = Buffer.alloc(0);
          let err: Buffer = Buffer.alloc(0);
          const answers: ScriptAnswer[] = [];
          const ended = new Promise<{ exitCode: number } | { error: Error }>((resolve) => {
            void openExecStream(api, { namespace: NS, pod: POD, container: REC_CONTAINER }, IN_POD_COMMAND, 10_000, {
              stdout: (c) => {
                out = Buffer.concat([out, c]);
                for (let t = takeAnswer(out, err, NONCE); t; t = takeAnswer(out, err, NONCE)) [answers[answers.length], out, err] = [t.answer, t.out, t.err];
              },
              stderr: (c) => {
                err = Buffer.concat([err, c]);
                for (let t = takeAnswer(out, err, NONCE); t; t = takeAnswer(out, err, NONCE)) [answers[answers.length], out, err] = [t.answer, t.out, t.err];
              },
              end: resolve,
            }).then(
              async (stream) => {
                for (const piece of cut(stdin, frames)) {
                  stream.send(piece);
                  await new Promise((r) => setTimeout(r, 1));
                }
              },
              (e: Error) => resolve({ error: e }),
            );
          });
          const end = await ended;
          assert.deepEqual(end, { exitCode: 0 }, 'stop ends the session with exit 0');
          assert.equal(answers.length, requests.length, 'one answer per request');
          requests.forEach((r, i) => {
            const a = answers[i]!;
            if (r.kind === 'tools') assert.equal(a.stdout.toString(), 'checked\n');
            else if (r.kind === 'hash') assert.equal(a.stdout.toString(), expectedHash);
            else {
              assert.equal(a.exitCode, 0, a.stderr.toString());
              assert.equal(parseCurlOutput(a.stdout.toString())?.status, r.path === '/v1/nope' ? 404 : 200);
            }
          });
        }),
        { seed: SEED, numRuns: 12 },
      );
    });
  }

  it('ScriptSession: many requests, one exec session; close sends stop', async () => {
    sim.setExecProtocols(['v5', 'v4']);
    const auth = sim.credentials('rec')!;
    const mark = sim.audit.mark();
    const s = await ScriptSession.open(api, { namespace: NS, pod: POD, container: REC_CONTAINER }, 10_000);
    const replies = await Promise.all([1, 2, 3].map(() => s.request(payloadOf({ kind: 'rest', path: '/v1/cluster' }, auth), 10_000)));
    const hash = await s.request(Buffer.from('hash\n'), 10_000);
    await s.close();
    assert.deepEqual(
      replies.map((r) => parseCurlOutput(r.stdout.toString())?.status),
      [200, 200, 200],
    );
    assert.equal(hash.stdout.toString(), `username ${sha256(auth.username)}\npassword ${sha256(auth.password)}\n`);
    assert.equal(s.closed, true);
    const execs = sim.audit.since(mark).filter((e) => e.kind === 'exec');
    assert.equal(execs.length, 1, 'one exec session carried them all');
  });

  describe('PodTransport: one session per pod, a sign of life before a change, stopped when released', () => {
    const execs = (mark: number) => sim.audit.since(mark).filter((e) => e.kind === 'exec').length;

    it('concurrent requests to one pod share its session; release() waits for the one in flight, then stops it', async () => {
      const t = new PodTransport(api, NS, 10_000);
      const mark = sim.audit.mark();
      const [a, b, tools] = await Promise.all([t.credentialHashes(POD), t.credentialHashes(POD), t.missingTools(POD)]);
      assert.deepEqual(a, b);
      assert.deepEqual(tools, []);
      const inFlight = t.credentialHashes(POD);
      await t.release();
      assert.deepEqual(await inFlight, a, 'the request in flight when release() was called got its answer');
      assert.equal(execs(mark), 1, 'one exec session carried all four');
      const outputs = sim.audit.since(mark).filter((e) => e.kind === 'exec-output');
      assert.equal(outputs.length, 1, 'and it ended (stopped), within the release');
    });

    it('a change after the session idled is preceded by a sign of life: a session lost then is replaced, and the change is sent once, on the new one', async () => {
      const t = new PodTransport(api, NS, 10_000);
      const auth = sim.credentials('rec')!;
      await t.credentialHashes(POD);
      await new Promise((r) => setTimeout(r, 1200));
      const mark = sim.audit.mark();
      // The next request to arrive loses its answer: it must be the sign of life, not the change.
      sim.faults.dropExecRequest = 1;
      const reply = await t.rest(POD, { method: 'PUT', path: '/v1/cluster' }, auth).catch((e: Error) => assert.fail(`the change's answer was lost: ${e.message}`));
      sim.faults.dropExecRequest = 0;
      assert.ok(reply.status > 0, 'the change got an answer');
      const cut = sim.audit.since(mark).filter((e) => e.kind === 'exec-cut');
      assert.equal(cut.length, 1, 'the sign of life was cut off');
      const rest = sim.audit.since(mark).filter((e) => e.kind === 'rest');
      assert.equal(rest.length, 1, 'the change reached the REST API exactly once');
      assert.equal(execs(mark), 1, 'on one new session');
      await t.release();
    });
  });
});
