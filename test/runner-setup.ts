// Loaded by mocha before any test file (.mocharc.json "require"): on a machine that cannot make the simulated
// pods' namespaces, the run stops at the first test that needs them, with the plain message and exit code 69,
// instead of every test file failing with the same stack trace. Tests that need no pods still run alone.
import { exitWhenNamespacesUnavailable } from './sim/pods/sandbox.js';

exitWhenNamespacesUnavailable();
