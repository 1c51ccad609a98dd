// .krew.yaml is what krew-release-bot turns into plugins/reccred.yaml of krew-index on each tag
// (.github/workflows/release.yml runs it). Rendered here as the bot renders it (krew-release-bot.ts), with
// the request the bot's action fills in, it must parse and be exactly the manifest `npm run release`
// writes: for the archives the release code makes today, and for the committed plugin.yaml's own sums.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { repoRoot } from '../../scripts/build-bundle.js';
import { validateManifest, type PluginManifest } from '../../scripts/krew/validate-manifest.js';
import { DEFAULT_BASE_URL, krewReleaseBotTemplate, manifestFor, PLUGIN_NAME, releaseVersion } from '../../scripts/release.js';
import { TARGETS } from '../../scripts/sea/runtime.js';
import { freshReleaseArchives } from './built-binaries.js';
import { botIndent, render, type ReleaseRequest } from './krew-release-bot.js';

const read = (f: string) => fs.readFileSync(path.join(repoRoot, f), 'utf8');

/** What the bot's GitHub action passes for a tag of this repository (owner/repo from GITHUB_REPOSITORY, the template under GITHUB_WORKSPACE). */
function botRequest(tag: string): ReleaseRequest {
  const [owner, repo] = new URL(DEFAULT_BASE_URL).pathname.split('/').filter(Boolean) as [string, string];
  return { TagName: tag, PluginName: '', PluginOwner: owner, PluginRepo: repo, PluginReleaseActor: 'a-maintainer', TemplateFile: '/github/workspace/.krew.yaml' };
}

describe('.krew.yaml rendered as krew-release-bot renders it', () => {
  const template = read('.krew.yaml');
  const committed = yaml.load(read('plugin.yaml')) as PluginManifest;
  /** The sums plugin.yaml recorded: the bot hashes the release assets plugin.yaml was generated from. */
  const committedSha256 = (uri: string) => {
    const p = committed.spec!.platforms!.find((x) => x.uri === uri);
    assert.ok(p, `the template names ${uri}, which plugin.yaml does not`);
    return p.sha256!;
  };

  it("the renderer's indent does what the bot's tests say (pkg/source/template_test.go TestFixIndent)", () => {
    assert.equal(botIndent(4, 'uri: u\nsha256: s'), 'uri: u\n    sha256: s');
    assert.equal(botIndent(6, 'uri: u\n    sha256: s'), 'uri: u\n      sha256: s');
  });

  it("the renderer sees the bot's request: PluginName still empty, any other field an error as in text/template", () => {
    assert.equal(render('[{{ .PluginName }}] {{ .PluginOwner }}/{{ .PluginRepo }}', botRequest('v1.0.0'), committedSha256), '[] redis-field/kubectl-reccred');
    assert.throws(() => render('{{ .Version }}', botRequest('v1.0.0'), committedSha256), /can't evaluate field Version in type \*source\.ReleaseRequest/);
  });

  it('is the template npm run release writes (no hand edits drift from scripts/release.ts)', () => {
    assert.equal(template, krewReleaseBotTemplate(committed.spec!.homepage!));
  });

  it('renders, for this version and the archives the release code makes today, to what npm run release writes as plugin.yaml', async function () {
    this.timeout(900_000);
    const archives = await freshReleaseArchives([...TARGETS]);
    const sha256Of = (uri: string) => {
      const a = archives.find((x) => x.platform.uri === uri);
      assert.ok(a, `the template names ${uri}, which is no release archive`);
      return a.sha256;
    };
    const doc = yaml.load(render(krewReleaseBotTemplate(DEFAULT_BASE_URL), botRequest(releaseVersion()), sha256Of));
    assert.deepEqual(validateManifest(doc, PLUGIN_NAME), []);
    assert.deepEqual(
      doc,
      manifestFor(
        releaseVersion(),
        archives.map((a) => a.platform),
        DEFAULT_BASE_URL,
      ),
    );
  });

  it('renders, for the tag plugin.yaml carries, to YAML that parses, passes the validator and equals plugin.yaml', () => {
    const doc = yaml.load(render(template, botRequest(committed.spec!.version!), committedSha256));
    assert.deepEqual(validateManifest(doc, PLUGIN_NAME), []);
    assert.deepEqual(doc, committed);
  });

  it('would not parse without `| indent 6` (the bug of issue 18: sha256 at column four under a selector at six)', () => {
    const unindented = template.replace(/ \| indent 6 \}\}/g, ' }}');
    assert.notEqual(unindented, template);
    assert.throws(() => yaml.load(render(unindented, botRequest(committed.spec!.version!), committedSha256)), /bad indentation|end of the stream|can not read/);
  });
});
