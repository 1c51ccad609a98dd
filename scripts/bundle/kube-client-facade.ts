// What the plugin takes from @kubernetes/client-node, imported from the modules that define it: the
// kube-client script's entry (scripts/build-bundle.ts), loaded for auth-provider users only. The package
// index also re-exports its generated API classes (13 of its 14 MB bundled), which the plugin never uses.
// The bundle maps every import of the package here; scripts/build-bundle.ts fails if src imports a name
// this file lacks.
export { KubeConfig } from '@kubernetes/client-node/dist/config.js';
export { newClusters, newContexts, newUsers } from '@kubernetes/client-node/dist/config_types.js';
