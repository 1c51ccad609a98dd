// The documented manual procedure, run for real against the simulated cluster, so the bench's comparison counts
// what it costs instead of assuming it: "Change the REC password for the current username" of the operator's
// "Manage REC credentials" page, preceded by its "Retrieve the current username and password", in the revision
// the project was given (formerly content/operate/kubernetes/security/manage_REC_credentials.md). The docs
// mirror's current revision (content/operate/kubernetes/security/authentication/manage-rec-credentials.md)
// names the container, adds `--`, pipes `create --dry-run=client` into `apply -f -` with --from-literal, and keeps
// the POST's prefix assignments: the same API requests, exec sessions and REST calls.
// Each step's commands run as written, through a local sh reading
// them on stdin (as typed into a terminal, so nothing lands in local argv), with `kubectl` being the real binary
// (support/kubectl.ts): `kubectl get secret`, `kubectl exec` with the documented curl typed into the pod's bash
// (real curl against https://localhost:9443 inside the simulated pod), `kubectl create secret --dry-run -o yaml`
// into `kubectl apply`, and the DELETE of the old password. The documented five-minute wait is not run: the bench
// waits until every simulated pod mounts the new Secret and the operator's components have re-read it.
//
// The procedure puts both passwords in curl's argv inside the pod (and so in the audit log): that is part of the
// comparison. It runs against a throwaway simulated cluster only.
//
// `manualProcedure()` is shared with rotation.ts (its one-rotation table); `run()` prints the step-by-step table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomPassword, startSimCluster, type SimCluster, type SimOptions } from '../../test/sim/cluster.js';
import { countAudit, type AuditCounts } from './support/audit-counts.js';
import { realKubectl, type Kubectl } from './support/kubectl.js';
import { measuredSection, standalone } from './support/machine.js';
import { runMeasured } from './support/measured-process.js';

/** The one-REC cluster of the one-rotation comparison (rotation.ts runs the plugin on the same). */
// Untraced pods: strace on every exec is test instrumentation, and would be counted as the cluster's CPU.
export const ONE_REC: SimOptions = { recs: [{ name: 'rec' }], pods: 3, latencyMs: 20, syncDelayMs: 2000, tracePodExecs: false };
const OPERATOR_INTERVAL_MS = 1000; // the simulator's default re-read period of the operator's components

export interface StepResult {
  step: string;
  /** The command line as run (passwords replaced by placeholders). */
  shown: string;
  counts: AuditCounts;
  wallMs: number;
  clientCpuMs: number;
  simCpuMs: number;
}

export interface ManualResult {
  kubectl: Kubectl;
  steps: StepResult[];
  total: AuditCounts & { wallMs: number; clientCpuMs: number; simCpuMs: number };
  /** How long the bench waited instead of the documented five minutes. */
  waitedMs: number;
  operatorFailures: number;
  /** Deviations from the page's text, each with its reason. */
  deviations: string[];
}

const DEVIATIONS = [
  '`kubectl exec -it rec-0 bash` runs as `kubectl exec -i rec-0 -- bash`: kubectl 1.33 refuses the form without `--` ("exec [POD] [COMMAND] is not supported anymore"), and there is no terminal for `-t`; the commands are typed on its stdin.',
  '`base64 --decodexc` (a typo) runs as `base64 --decode`.',
  "`kubectl create secret ... --dry-run -o yaml` and the bare `kubectl apply -f` are joined by a pipe into `kubectl apply -f -`: the page's apply names no file.",
  "`kubectl apply` runs with `--validate=false`: its validation needs the server's OpenAPI document, which the simulated API server does not serve (it answers 404; apply still asks for it, counted as discovery).",
  'In the DELETE, the stray space after `--request DELETE \\` (which ends the command there) and the missing `>` of `<OLD PASSWORD` are corrected.',
  'The five-minute wait is replaced by waiting until every pod mounts the new Secret and the operator has re-read it (the simulated kubelet syncs within 2 s).',
];

/**
 * The page's POST. As written (a line continuation after each assignment) the two assignments only prefix curl's
 * environment, and the shell expands $REC_USER and $REC_PASSWORD in curl's arguments before that: curl sends an
 * empty user and password. With a `;` after each (as the page's DELETE step has) they are set first.
 */
const addPassword = (newPassword: string, separator: string) => `REC_USER="\`cat /opt/redislabs/credentials/username\`"${separator}
REC_PASSWORD="\`cat /opt/redislabs/credentials/password\`"${separator}
curl -k --request POST \\
  --url https://localhost:9443/v1/users/password \\
  -u "$REC_USER:$REC_PASSWORD" \\
  --header 'Content-Type: application/json' \\
  --data "{\\"username\\":\\"$REC_USER\\", \\
\\"old_password\\":\\"$REC_PASSWORD\\", \\
\\"new_password\\":\\"${newPassword}\\"}"
`;

const removePassword = (oldPassword: string) => `REC_USER="\`cat /opt/redislabs/credentials/username\`"; \\
REC_PASSWORD="\`cat /opt/redislabs/credentials/password\`"; \\
curl -k --request DELETE \\
  --url https://localhost:9443/v1/users/password \\
  -u "$REC_USER:$REC_PASSWORD" \\
  --header 'Content-Type: application/json' \\
  --data "{\\"username\\":\\"$REC_USER\\", \\
  \\"old_password\\":\\"${oldPassword}\\"}"
`;

/** A here-document delimiter that cannot occur in the text. */
const heredoc = (command: string, body: string) => `${command} <<'END_OF_TYPING'\n${body}END_OF_TYPING\n`;

async function procedure(sim: SimCluster, kubectl: Kubectl): Promise<ManualResult> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-bench-manual-'));
  try {
    // `kubectl` is the real binary; HOME is fresh, so kubectl starts with an empty discovery cache (~/.kube/cache).
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(kubectl.path, path.join(bin, 'kubectl'));
    const home = path.join(work, 'home');
    const cwd = path.join(work, 'cwd');
    fs.mkdirSync(home);
    fs.mkdirSync(cwd);
    const env = { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, HOME: home, KUBECONFIG: sim.kubeconfig, LANG: 'C' };
    const rec = sim.recs[0]!;
    const pod = `${rec.name}-0`;
    const secrets: string[] = [];
    const steps: StepResult[] = [];

    const step = async (name: string, script: string, shown: string): Promise<string> => {
      const mark = sim.audit.mark();
      const r = await runMeasured(sim, '/bin/sh', ['-s'], { env, cwd, input: `set -e\n${script}` });
      sim.collectArgv();
      if (r.code !== 0) throw new Error(`manual procedure, ${name}: exited ${r.code}:\n${r.stderr.slice(-2000)}`);
      const counts = countAudit(sim.audit.since(mark), secrets);
      if (counts.restFailures) throw new Error(`manual procedure, ${name}: a REST call failed:\n${r.stdout}${r.stderr}`);
      steps.push({ step: name, shown, counts, wallMs: r.wallMs, clientCpuMs: r.clientCpuMs, simCpuMs: r.simCpuMs });
      return r.stdout;
    };

    // Retrieve the current username and password.
    const data = JSON.parse(
      await step('1. retrieve the credentials', `kubectl get secret ${rec.secretName} -o jsonpath='{.data}'\n`, `kubectl get secret ${rec.secretName} -o jsonpath='{.data}'`),
    ) as {
      username: string;
      password: string;
    };
    const username = await step('2. decode the username', `echo ${data.username} | base64 --decode\n`, 'echo <username base64> | base64 --decode');
    const oldPassword = await step('2. decode the password', `echo ${data.password} | base64 --decode\n`, 'echo <password base64> | base64 --decode');
    const newPassword = randomPassword();
    secrets.push(oldPassword, newPassword);
    if (oldPassword !== sim.credentials(rec.name)?.password) throw new Error('manual procedure: the decoded password is not the stored one');

    // Change the REC password for the current username.
    // The POST exactly as the page writes it, once, outside the counts: it authenticates as nobody.
    const literalMark = sim.audit.mark();
    const literal = await runMeasured(sim, '/bin/sh', ['-s'], { env, cwd, input: heredoc(`kubectl exec -i ${pod} -- bash`, addPassword(newPassword, ' \\')) });
    const literalRest = sim.audit.since(literalMark).filter((e) => e.kind === 'rest');
    const postAsWritten = literalRest.length === 1 && literalRest[0]!.kind === 'rest' ? literalRest[0]! : undefined;
    if (literal.code !== 0 || postAsWritten?.status !== 401 || sim.redis(rec.name).findUser(username)!.passwords.length !== 1) {
      throw new Error(`manual procedure: the page's POST as written did not behave as expected (exit ${literal.code}):\n${literal.stdout}${literal.stderr.slice(-2000)}`);
    }
    const asWritten = `The page's POST as written sets REC_USER and REC_PASSWORD only in curl's environment, after the shell has expanded them in curl's \`-u\` and \`--data\`: curl sent user ${JSON.stringify(postAsWritten.user ?? '')} and got HTTP ${postAsWritten.status} (run once, outside the counts). The counted run ends each assignment with \`;\`, as the page's DELETE step does.`;

    await step(
      '3. add the new password (exec, curl POST)',
      heredoc(`kubectl exec -i ${pod} -- bash`, addPassword(newPassword, '; \\')),
      `kubectl exec -i ${pod} -- bash  (typed: curl POST /v1/users/password)`,
    );
    await step(
      '4. save the username and password to files',
      `echo -n "${username}" > username\necho -n "${newPassword}" > password\n`,
      'echo -n "<current_username>" > username; echo -n "<new_password>" > password',
    );
    const update = `kubectl create secret generic ${rec.secretName} --from-file=./username --from-file=./password --dry-run -o yaml | kubectl apply --validate=false -f -`;
    await step('5. update the Secret (create --dry-run, apply)', `${update}\n`, update);

    const waitStarted = Date.now();
    await sim.waitForSync(60_000);
    await new Promise((r) => setTimeout(r, 2 * OPERATOR_INTERVAL_MS));
    const waitedMs = Date.now() - waitStarted;

    await step(
      '6. remove the old password (exec, curl DELETE)',
      heredoc(`kubectl exec -i ${pod} -- bash`, removePassword(oldPassword)),
      `kubectl exec -i ${pod} -- bash  (typed: curl DELETE /v1/users/password)`,
    );

    // The end state the procedure promises: the Secret holds the new password and the cluster accepts only it.
    const stored = sim.credentials(rec.name);
    const user = sim.redis(rec.name).findUser(username);
    if (stored?.username !== username || stored.password !== newPassword) throw new Error('manual procedure: the Secret does not hold the new password');
    if (!user || user.passwords.length !== 1 || user.passwords[0] !== newPassword) throw new Error('manual procedure: the cluster does not accept exactly the new password');

    const sum = (f: (s: StepResult) => number) => steps.reduce((a, s) => a + f(s), 0);
    const countKeys: (keyof AuditCounts)[] = ['requests', 'execUpgrades', 'discovery', 'execSessions', 'rest', 'restFailures', 'passwordRecords'];
    const totalCounts = Object.fromEntries(countKeys.map((k) => [k, sum((s) => s.counts[k])])) as unknown as AuditCounts;
    return {
      kubectl,
      steps,
      total: { ...totalCounts, wallMs: sum((s) => s.wallMs), clientCpuMs: sum((s) => s.clientCpuMs), simCpuMs: sum((s) => s.simCpuMs) },
      waitedMs,
      operatorFailures: sim.operator.failures(rec.name).length,
      deviations: [asWritten, ...DEVIATIONS],
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

let once: Promise<ManualResult> | undefined;

/** Runs the procedure once per process (rotation.ts and run() share the result). */
export function manualProcedure(): Promise<ManualResult> {
  once ??= (async () => {
    const kubectl = await realKubectl();
    const sim = await startSimCluster(ONE_REC);
    try {
      return await procedure(sim, kubectl);
    } finally {
      await sim.stop();
    }
  })();
  return once;
}

const ms = (x: number) => x.toFixed(0);

export function run(): Promise<string> {
  return measuredSection(steps);
}

async function steps(): Promise<string> {
  const m = await manualProcedure();
  const c = (x: AuditCounts) => `${x.requests} | ${x.execUpgrades} | ${x.discovery} | ${x.execSessions} | ${x.rest} | ${x.passwordRecords}`;
  return [
    `### The documented manual procedure, run (1 REC, ${ONE_REC.pods} pods, ${ONE_REC.latencyMs} ms latency; \`${m.kubectl.path}\` ${m.kubectl.version})`,
    '',
    '| step | command | API requests | exec upgrades | discovery | exec sessions | REST calls | audit records with a password | wall ms | client CPU ms | simulated cluster CPU ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...m.steps.map((s) => `| ${s.step} | \`${s.shown.replace(/\|/g, '\\|')}\` | ${c(s.counts)} | ${ms(s.wallMs)} | ${ms(s.clientCpuMs)} | ${ms(s.simCpuMs)} |`),
    `| **total** | | ${c(m.total)} | ${ms(m.total.wallMs)} | ${ms(m.total.clientCpuMs)} | ${ms(m.total.simCpuMs)} |`,
    '',
    `Counted from the simulated cluster's audit log. Discovery is what kubectl reads to learn the server: the API list it caches in ~/.kube/cache (empty at the start; a warm cache skips it) and the OpenAPI documents \`kubectl apply\` asks for; it is shown apart and left out of the comparison. Instead of the documented five minutes the bench waited ${(m.waitedMs / 1000).toFixed(1)} s (pods mounting the new Secret, the operator re-reading it). Operator authentication failures during the procedure: ${m.operatorFailures}. End state checked: the Secret holds the new password, the cluster accepts it and no other. Client CPU is the local sh with kubectl (or base64) from wait4; the simulated cluster's excludes it.`,
    '',
    'Where the run departs from the page as written:',
    '',
    ...m.deviations.map((d) => `- ${d}`),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.stdout.write(await standalone(run));
}
