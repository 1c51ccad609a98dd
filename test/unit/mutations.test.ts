// The mutation catalogue stays true to the code: every entry still applies to exactly one place and parses
// once mutated, and test/README.md lists every entry. Running the mutants is `npx tsx scripts/mutants.ts`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMutations, problemsOf } from '../../scripts/mutants/catalogue.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('mutation catalogue (test/mutations)', () => {
  const all = loadMutations(repo);

  it('every entry applies to exactly one place of the current code and still parses', () => {
    assert.ok(all.length > 0, 'the catalogue is not empty');
    assert.deepEqual(
      all.flatMap((m) => problemsOf(repo, m)),
      [],
    );
  });

  it('ids are unique', () => {
    const ids = all.map((m) => m.id);
    assert.deepEqual(
      ids.filter((id, i) => ids.indexOf(id) !== i),
      [],
    );
  });

  it("test/README.md's table names every entry", () => {
    const readme = fs.readFileSync(path.join(repo, 'test', 'README.md'), 'utf8');
    assert.deepEqual(
      all.filter((m) => !readme.includes(`\`${m.id}\``)).map((m) => m.id),
      [],
    );
  });
});
