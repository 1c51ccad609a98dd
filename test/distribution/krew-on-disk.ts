// krew's install and upgrade applied to a real KREW_ROOT (Unix), for the install test: the in-memory
// install of scripts/krew/install.ts (planInstall) written out as krew writes it, and what `krew install`
// prints. Sources, in kubernetes-sigs/krew:
// - internal/installation/install.go: the version folder store/<name>/<version>, then the link
//   bin/kubectl-<name> (createOrUpdateLink: an old link is replaced, anything else there is an error;
//   pluginNameToBin), then the receipt;
// - internal/installation/upgrade.go: only to a higher version (semver.Less), installed into its own
//   folder, relinked, the receipt rewritten, and the old version's folder removed last;
// - cmd/krew/cmd/install.go and info.go indent(): the message printed after an install, caveats included.
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { KrewRefusal, planInstall, type InstallablePlatform } from '../../scripts/krew/install.js';
import { lessThan, parseKrewVersion } from '../../scripts/krew/semver.js';

const INSTALL = 'krew internal/installation/install.go';
const UPGRADE = 'krew internal/installation/upgrade.go';

/** install.go pluginNameToBin: the link krew puts in bin/. */
export const pluginLinkName = (plugin: string, windows: boolean) => `kubectl-${plugin.replace(/-/g, '_')}${windows ? '.exe' : ''}`;

export interface KrewPlugin {
  metadata: { name: string };
  spec: { version: string; homepage?: string; caveats?: string };
}

const versionDir = (root: string, plugin: KrewPlugin, version = plugin.spec.version) => path.join(root, 'store', plugin.metadata.name, version);
const receiptPath = (root: string, name: string) => path.join(root, 'receipts', `${name}.yaml`);

function writeVersion(root: string, plugin: KrewPlugin, platform: InstallablePlatform, archive: Buffer): void {
  const plan = planInstall(platform, archive);
  const target = versionDir(root, plugin);
  fs.rmSync(target, { recursive: true, force: true });
  for (const [rel, f] of plan.files) {
    fs.mkdirSync(path.dirname(path.join(target, rel)), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(target, rel), f.data, { mode: f.mode });
    fs.chmodSync(path.join(target, rel), f.mode);
  }
  if (plan.linked) {
    const link = path.join(root, 'bin', pluginLinkName(plugin.metadata.name, false));
    fs.mkdirSync(path.dirname(link), { recursive: true });
    const old = fs.lstatSync(link, { throwIfNoEntry: false });
    if (old && !old.isSymbolicLink()) throw new KrewRefusal(`file ${JSON.stringify(link)} is not a symlink`, INSTALL);
    if (old) fs.rmSync(link);
    fs.symlinkSync(path.join(target, plan.bin), link);
  }
  fs.mkdirSync(path.dirname(receiptPath(root, plugin.metadata.name)), { recursive: true });
  fs.writeFileSync(receiptPath(root, plugin.metadata.name), yaml.dump({ ...plugin, status: { source: { name: 'default' } } }));
}

/** `krew install` into KREW_ROOT=root (Unix); returns what it prints once installed (stderr). */
export function installOnDisk(root: string, plugin: KrewPlugin, platform: InstallablePlatform, archive: Buffer): string {
  if (fs.existsSync(receiptPath(root, plugin.metadata.name))) throw new KrewRefusal("can't install, the newest version is already installed", INSTALL);
  writeVersion(root, plugin, platform, archive);
  return installMessage(plugin);
}

/** `krew upgrade` in KREW_ROOT=root (Unix): only to a higher version; the old version's folder is removed last. Prints no caveats. */
export function upgradeOnDisk(root: string, plugin: KrewPlugin, platform: InstallablePlatform, archive: Buffer): void {
  const receipt = yaml.load(fs.readFileSync(receiptPath(root, plugin.metadata.name), 'utf8')) as KrewPlugin;
  const current = receipt.spec.version;
  if (!lessThan(parseKrewVersion(current), parseKrewVersion(plugin.spec.version))) throw new KrewRefusal("can't upgrade, the newest version is already installed", UPGRADE);
  writeVersion(root, plugin, platform, archive);
  fs.rmSync(versionDir(root, plugin, current), { recursive: true, force: true });
}

/** cmd/krew/cmd/info.go indent: trailing white space trimmed, every line prefixed " | ", between "\" and "/" lines. */
function indent(s: string): string {
  return `\\\n${s.trimEnd().replace(/^/gm, ' | ')}\n/`;
}

/** cmd/krew/cmd/install.go after a successful install: the caveats indented by indent(), then the whole message again. */
function installMessage(plugin: KrewPlugin): string {
  let output = `Use this plugin:\n\tkubectl ${plugin.metadata.name}\n`;
  if (plugin.spec.homepage) output += `Documentation:\n\t${plugin.spec.homepage}\n`;
  if (plugin.spec.caveats) output += `Caveats:\n${indent(plugin.spec.caveats)}\n`;
  return `Installed plugin: ${plugin.metadata.name}\n${indent(output)}\n`;
}
