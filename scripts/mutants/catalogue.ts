// The mutation catalogue (test/mutations/*.json): each entry is one deliberate defect and the test that must
// catch it. Loaded by scripts/mutants.ts and checked on every test run (test/unit/mutations.test.ts), so an
// entry whose text no longer exists in the code fails at once instead of silently proving nothing.
import fs from 'node:fs';
import path from 'node:path';
import { transformSync } from 'esbuild';
import { z } from 'zod';

const MutationSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
    file: z.string().min(1),
    find: z.string().min(1),
    replace: z.string(),
    test: z.string().regex(/^test\/.+\.test\.ts$/),
    grep: z.string().min(1).optional(),
    catches: z.string().min(10),
  })
  .strict();
export type Mutation = z.infer<typeof MutationSchema>;

/** Every entry of every catalogue file, in file then entry order. */
export function loadMutations(repo: string): Mutation[] {
  const dir = path.join(repo, 'test', 'mutations');
  const out: Mutation[] = [];
  for (const name of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const parsed = z.array(MutationSchema).safeParse(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')));
    if (!parsed.success) throw new Error(`test/mutations/${name}: ${parsed.error.message}`);
    out.push(...parsed.data);
  }
  return out;
}

/** What is wrong with an entry against the repository as it is (empty when it applies cleanly). */
export function problemsOf(repo: string, m: Mutation): string[] {
  const problems: string[] = [];
  const file = path.join(repo, m.file);
  if (!fs.existsSync(file)) return [`${m.id}: ${m.file} does not exist`];
  if (!fs.existsSync(path.join(repo, m.test))) problems.push(`${m.id}: ${m.test} does not exist`);
  const text = fs.readFileSync(file, 'utf8');
  const occurrences = text.split(m.find).length - 1;
  if (occurrences !== 1) problems.push(`${m.id}: the text to mutate occurs ${occurrences} times in ${m.file} (must be exactly once)`);
  if (m.find === m.replace) problems.push(`${m.id}: the mutation changes nothing`);
  if (occurrences === 1 && /\.(ts|mts|js|mjs)$/.test(m.file)) {
    // A mutant that does not parse is "caught" by every test and proves nothing.
    try {
      transformSync(
        text.replace(m.find, () => m.replace),
        { loader: m.file.endsWith('ts') ? 'ts' : 'js', sourcefile: m.file },
      );
    } catch (e) {
      problems.push(`${m.id}: the mutated ${m.file} does not parse: ${(e as Error).message.split('\n')[0] ?? ''}`);
    }
  }
  return problems;
}
