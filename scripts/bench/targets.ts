// The targets of issue 22 in one table, as the sections before it (file-name order: this one runs last) measured
// them in this run; each section prints the same verdicts beside its figures. Run alone, it has nothing to show:
// `npm run bench` runs every section.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { standalone } from './support/machine.js';
import { recordedTargets, verdict } from './support/targets.js';

export function run(): Promise<string> {
  const results = recordedTargets();
  if (!results.length) return Promise.resolve('### Targets (issue 22)\n\nNo section ran in this process: run `npm run bench`.');
  const met = results.filter((r) => r.met === true).length;
  const measured = results.filter((r) => r.met !== undefined).length;
  return Promise.resolve(
    [
      '### Targets (issue 22)',
      '',
      `${met} of ${measured} measured targets met${measured < results.length ? `, ${results.length - measured} not measured in this run` : ''}.`,
      '',
      '| figure | measured | target | verdict | section |',
      '|---|---|---|---|---|',
      ...results.map((r) => `| ${r.figure} | ${r.value} | ${r.target} | ${verdict(r.met)} | ${r.section} |`),
    ].join('\n'),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.stdout.write(await standalone(run));
}
