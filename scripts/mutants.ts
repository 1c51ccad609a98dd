// `npx tsx scripts/mutants.ts`: proves the tests named in test/mutations/*.json can fail. For each entry it
// copies the repository to a temporary folder, applies the one textual mutation there (never in the
// working tree: other runs may be testing it), runs `mocha TEST --grep GREP` through the development entry
// and reports "caught" only when mocha reports a failing test (a file that no longer loads proves nothing).
//   --only ID[,ID]   run these entries          --seed N --count K   K entries drawn with seed N
//   --list           print test/README.md's table from the entries, run nothing
//   --baseline       also run each test unmutated first: it must pass, or the entry proves nothing
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadMutations, problemsOf, type Mutation } from './mutants/catalogue.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TIMEOUT_MS = Number(process.env.RECCRED_MUTANT_TIMEOUT_MS) || 20 * 60_000;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The tracked and untracked-but-not-ignored files: what a clean clone plus the work in progress holds. */
function copyRepo(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-mutant-'));
  const listed = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repo, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    const from = path.join(repo, file);
    if (!fs.existsSync(from)) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(from, path.join(dir, file));
    fs.chmodSync(path.join(dir, file), fs.statSync(from).mode);
  }
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function applyMutation(dir: string, m: Mutation): void {
  const file = path.join(dir, m.file);
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(
    file,
    text.replace(m.find, () => m.replace),
  );
}

interface Outcome {
  /** Failed tests (and per-test "after each" checks) whose failure is an assertion. */
  assertions: string[];
  /** Failures that prove nothing about the mutation: set-up hooks, time-outs, errors that are not assertions. */
  other: string[];
  passing: number;
  code: number | null;
  seconds: number;
  tail: string;
}

const MochaReportSchema = z.object({
  stats: z.object({ passes: z.number(), failures: z.number() }),
  failures: z.array(z.object({ fullTitle: z.string(), err: z.object({ code: z.string().optional(), message: z.string().optional() }).passthrough() })),
});

function runTest(dir: string, m: Mutation): Promise<Outcome> {
  const env = { ...process.env };
  delete env.RECCRED_EXECUTABLE; // the development entry runs the mutated sources
  env.RECCRED_SPREAD = 'all'; // a mutant meets every case of its test, not this commit's turn (test/spread.ts)
  const report = path.join(dir, '.mutant-report.json');
  // --grep=VALUE: a pattern that starts with "-" (--finish, --canary) would be read as an option of its own.
  const args = ['mocha', m.test, ...(m.grep === undefined ? [] : [`--grep=${m.grep}`]), '--reporter', 'json', '--reporter-option', `output=${report}`];
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn('npx', args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const timer = setTimeout(() => {
      out += `\n(timed out after ${TIMEOUT_MS / 1000} s)`;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = Math.round((Date.now() - t0) / 1000);
      const tail = out.slice(-3000);
      let parsed: z.infer<typeof MochaReportSchema> | undefined;
      try {
        parsed = MochaReportSchema.parse(JSON.parse(fs.readFileSync(report, 'utf8')));
      } catch {
        parsed = undefined; // no report: the run did not get as far as the tests
      }
      const failures = parsed?.failures ?? [];
      // A failing set-up hook or a time-out says the run broke, not that an assertion caught the defect.
      const isAssertion = (f: (typeof failures)[number]) => f.err.code === 'ERR_ASSERTION' && !/"before (all|each)" hook/.test(f.fullTitle);
      resolve({
        assertions: failures.filter(isAssertion).map((f) => f.fullTitle),
        other: failures.filter((f) => !isAssertion(f)).map((f) => `${f.fullTitle}: ${f.err.message ?? ''}`.slice(0, 300)),
        passing: parsed?.stats.passes ?? 0,
        code,
        seconds,
        tail,
      });
    });
  });
}

function pick(all: Mutation[]): Mutation[] {
  const only = option('--only');
  if (only !== undefined) {
    const ids = only.split(',');
    const unknown = ids.filter((id) => !all.some((m) => m.id === id));
    if (unknown.length > 0) throw new Error(`no mutation with id ${unknown.join(', ')}`);
    return all.filter((m) => ids.includes(m.id));
  }
  const count = option('--count');
  if (count === undefined) return all;
  let seed = Number(option('--seed') ?? Date.now()) >>> 0;
  const rest = [...all];
  const chosen: Mutation[] = [];
  while (chosen.length < Number(count) && rest.length > 0) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    chosen.push(...rest.splice(seed % rest.length, 1));
  }
  process.stdout.write(`seed ${option('--seed') ?? '(time)'}: ${chosen.map((m) => m.id).join(', ')}\n`);
  return chosen;
}

function table(all: Mutation[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = all.map((m) => `| \`${m.id}\` | \`${m.file}\` | ${cell(m.catches)} | \`${m.test}\`${m.grep === undefined ? '' : ` (${cell(m.grep)})`} |`);
  return ['| mutation | in | what it breaks, and the assertion that fails | caught by |', '|---|---|---|---|', ...rows].join('\n');
}

const all = loadMutations(repo);
const problems = all.flatMap((m) => problemsOf(repo, m));
if (problems.length > 0) throw new Error(`test/mutations: ${problems.join('; ')}`);
if (process.argv.includes('--list')) {
  process.stdout.write(`${table(all)}\n`);
} else {
  let survived = 0;
  for (const m of pick(all)) {
    const dir = copyRepo();
    try {
      if (process.argv.includes('--baseline')) {
        const base = await runTest(dir, m);
        if (base.code !== 0 || base.passing === 0) {
          survived += 1;
          const failing = base.assertions.length + base.other.length;
          process.stdout.write(`BASELINE FAILS  ${m.id}: the unmutated test does not pass (${base.passing} passing, ${failing} failing)\n${base.tail}\n`);
          continue;
        }
      }
      applyMutation(dir, m);
      const r = await runTest(dir, m);
      if (r.code !== 0 && r.assertions.length > 0) {
        process.stdout.write(`caught    ${m.id}: ${r.assertions.length} failing on an assertion, ${r.passing} passing, ${r.seconds} s (${m.test})\n`);
      } else {
        survived += 1;
        // A grep that matches no test passes with nothing run: the entry went stale as the test was renamed.
        const stale = r.code === 0 && r.passing === 0;
        const why = stale
          ? `no test ran: its grep ${JSON.stringify(m.grep ?? '')} matches no test of ${m.test}`
          : r.code === 0
            ? 'every test passed'
            : r.other.length > 0
              ? `no assertion failed; other failures prove nothing: ${r.other.join('; ')}`
              : 'mocha failed without a failing test (the mutation broke loading, which proves nothing)';
        process.stdout.write(`${stale ? 'STALE    ' : 'SURVIVED '} ${m.id}: ${why}, ${r.seconds} s\n${r.tail}\n`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  process.exitCode = survived === 0 ? 0 : 1;
}
