#!/usr/bin/env node
// A client-go exec credential plugin for the simulated API server (kubernetes/kubernetes
// staging/src/k8s.io/client-go/plugin/pkg/client/auth/exec/exec.go runs it; the ExecCredential it prints is
// staging/src/k8s.io/client-go/pkg/apis/clientauthentication/v1/types.go). It mints a fresh token from the
// sim's test-only path, prints it in the apiVersion KUBERNETES_EXEC_INFO asks for, and appends one JSON line
// per run to SIM_EXEC_LOG so a test can count the runs and read what it was given.
//
// Environment (written by test/sim/kube/exec-credential.ts into the kubeconfig's exec.env):
//   SIM_EXEC_MINT_URL, SIM_EXEC_MINT_CA, SIM_EXEC_MINT_KEY  where and how to mint
//   SIM_EXEC_USER, SIM_EXEC_GROUPS (comma-separated), SIM_EXEC_TTL_MS  the token asked for
//   SIM_EXEC_LOG  the log file; SIM_EXEC_RECORD_ENV  comma-separated names whose values are logged
//   SIM_EXEC_FAIL  print it to stderr and exit 1 (no token)
//   SIM_EXEC_OUTPUT_API_VERSION  answer in this apiVersion instead of the one asked for
//   SIM_EXEC_NO_EXPIRY  "1": no status.expirationTimestamp
import { appendFileSync, readFileSync } from 'node:fs';
import { request } from 'node:https';

const env = process.env;
const DEFAULT_API_VERSION = 'client.authentication.k8s.io/v1beta1';

function parseExecInfo(raw) {
  if (raw === undefined) return null;
  try {
    return JSON.parse(raw);
  } catch {
    return { unparsable: raw };
  }
}

const execInfoRaw = env.KUBERNETES_EXEC_INFO;
const execInfo = parseExecInfo(execInfoRaw);
const askedApiVersion = (execInfo && typeof execInfo.apiVersion === 'string' && execInfo.apiVersion) || DEFAULT_API_VERSION;
const apiVersion = env.SIM_EXEC_OUTPUT_API_VERSION || askedApiVersion;

const recorded = {};
for (const name of (env.SIM_EXEC_RECORD_ENV ?? '').split(',').filter(Boolean)) recorded[name] = env[name] ?? null;

function log(entry) {
  if (!env.SIM_EXEC_LOG) return;
  const line = {
    time: Date.now(),
    pid: process.pid,
    argv: process.argv.slice(2),
    execInfo,
    env: recorded,
    stdinIsTTY: !!process.stdin.isTTY,
    user: env.SIM_EXEC_USER ?? null,
    apiVersion,
    ...entry,
  };
  appendFileSync(env.SIM_EXEC_LOG, `${JSON.stringify(line)}\n`);
}

function fail(message) {
  log({ error: message });
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function mint() {
  const body = JSON.stringify({
    user: env.SIM_EXEC_USER,
    ...(env.SIM_EXEC_GROUPS ? { groups: env.SIM_EXEC_GROUPS.split(',').filter(Boolean) } : {}),
    ...(env.SIM_EXEC_TTL_MS ? { ttlMs: Number(env.SIM_EXEC_TTL_MS) } : {}),
  });
  return new Promise((resolve, reject) => {
    const req = request(
      env.SIM_EXEC_MINT_URL,
      {
        method: 'POST',
        ca: readFileSync(env.SIM_EXEC_MINT_CA),
        headers: { 'Content-Type': 'application/json', 'X-Sim-Mint-Key': env.SIM_EXEC_MINT_KEY ?? '' },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text)) : reject(new Error(`minting a token failed: HTTP ${res.statusCode} ${text}`))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('minting a token timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

if (env.SIM_EXEC_FAIL) fail(env.SIM_EXEC_FAIL);
if (!env.SIM_EXEC_MINT_URL || !env.SIM_EXEC_MINT_CA || !env.SIM_EXEC_USER) fail('sim exec plugin: SIM_EXEC_MINT_URL, SIM_EXEC_MINT_CA and SIM_EXEC_USER must be set');

try {
  const { token, expiresAt } = await mint();
  // Whole seconds, rounded down: the client refreshes at or before the moment the server stops accepting it.
  const expirationTimestamp =
    env.SIM_EXEC_NO_EXPIRY === '1' || expiresAt === undefined ? undefined : new Date(Math.floor(expiresAt / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  log({ expirationTimestamp: expirationTimestamp ?? null });
  process.stdout.write(`${JSON.stringify({ kind: 'ExecCredential', apiVersion, spec: {}, status: { token, ...(expirationTimestamp ? { expirationTimestamp } : {}) } })}\n`);
} catch (e) {
  fail(`sim exec plugin: ${e.message}`);
}
