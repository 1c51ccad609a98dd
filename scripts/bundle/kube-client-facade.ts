// What the plugin takes from @kubernetes/client-node, imported from the modules that define it. The
// package index also re-exports its generated API classes (13 of its 14 MB bundled), which the plugin
// never uses and every start of `get` would otherwise parse. The bundle maps the bare package name here;
// scripts/build-bundle.ts fails if src imports a name this file lacks.
export { KubeConfig } from '@kubernetes/client-node/dist/config.js';
export { Exec } from '@kubernetes/client-node/dist/exec.js';
