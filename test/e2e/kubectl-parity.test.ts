// The plugin connects where kubectl connects, as whom kubectl connects, in the namespace kubectl uses,
// for the same kubeconfig files, environment and flags. The real kubectl is the oracle: each case runs
// `kubectl get rec rec` and `kubectl reccred get rec` with the same connection flags and compares what
// the simulated API server saw (the address the client targeted, the authenticated and impersonated
// identity, the namespace) and how each ended (success, or the same kind of failure).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import type { AuditEvent } from '../sim/audit.js';
import { startSimCluster, type SimCluster } from '../sim/cluster.js';
import { kubectlBinary, runProcess } from '../sim/kube/api-fixture.js';
import { ensurePluginExecutable, EXEC_PLUGIN } from '../sim/kube/exec-credential.js';
import { startProxy, type TestProxy } from '../sim/proxy/proxy.js';
import { pluginBinDir } from './harness.js';

const KUBECTL = kubectlBinary('1.33');

type Kind = 'ok' | 'forbidden' | 'unauthorized' | 'not-found' | 'tls' | 'unreachable' | 'credentials' | 'config';

interface Observed {
  kind: Kind;
  /** host | user | impersonated user and groups | namespace, of each GET of the REC the server answered. */
  identities: string[];
  stderr: string;
}

interface Setup {
  args: string[];
  /** The flags before the command (`kubectl FLAGS get ...`, `kubectl reccred FLAGS get ...`), where a greedy parser would take the command. */
  flagsFirst?: boolean;
  env?: Record<string, string>;
  /** Relative to the case folder. */
  cwd?: string;
}

interface Ctx {
  sim: SimCluster;
  /** The case's own folder (relative paths in cases are relative to it). */
  dir: string;
  /** The API server as https://127.0.0.1:PORT and as https://localhost:PORT: two addresses the audit tells apart. */
  ip: string;
  local: string;
  ca: string;
  token(user: string): string;
  write(file: string, text: string): string;
  kubeconfig(file: string, doc: KubeconfigDoc): string;
  proxy: TestProxy;
}

interface KubeconfigDoc {
  current?: string;
  clusters?: Record<string, Record<string, unknown>>;
  users?: Record<string, Record<string, unknown>>;
  contexts?: Record<string, { cluster?: string; user?: string; namespace?: string }>;
}

interface Case {
  name: string;
  setup: (c: Ctx) => Setup;
  /** What both must also print (a hint kubectl gives). */
  bothSay?: RegExp;
}

const toYaml = (doc: KubeconfigDoc) =>
  yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    ...(doc.current !== undefined ? { 'current-context': doc.current } : {}),
    clusters: Object.entries(doc.clusters ?? {}).map(([name, cluster]) => ({ name, cluster })),
    users: Object.entries(doc.users ?? {}).map(([name, user]) => ({ name, user })),
    contexts: Object.entries(doc.contexts ?? {}).map(([name, context]) => ({ name, context })),
  });

/** One ordinary kubeconfig: cluster `sim` (127.0.0.1), cluster `alt` (localhost), users admin and read-only, contexts for each. */
function standard(c: Ctx, overrides: Partial<KubeconfigDoc> = {}): KubeconfigDoc {
  return {
    current: 'admin@sim',
    clusters: { sim: { server: c.ip, 'certificate-authority': c.ca }, alt: { server: c.local, 'certificate-authority': c.ca } },
    users: { admin: { token: c.token('admin') }, 'read-only': { token: c.token('read-only') }, breakglass: { token: c.token('breakglass') } },
    contexts: {
      'admin@sim': { cluster: 'sim', user: 'admin', namespace: 'ns-a' },
      'ro@alt': { cluster: 'alt', user: 'read-only', namespace: 'ns-b' },
      'admin@alt-nons': { cluster: 'alt', user: 'admin' },
      'breakglass@sim': { cluster: 'sim', user: 'breakglass', namespace: 'ns-a' },
    },
    ...overrides,
  };
}

const CASES: Case[] = [
  { name: '--kubeconfig: its current context', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c))] }) },
  { name: 'KUBECONFIG one file', setup: (c) => ({ args: [], env: { KUBECONFIG: c.kubeconfig('kc', standard(c)) } }) },
  {
    name: '~/.kube/config when nothing else is given',
    setup: (c) => {
      c.kubeconfig('home/.kube/config', standard(c));
      return { args: [], env: { KUBECONFIG: '' } };
    },
  },
  {
    name: 'KUBECONFIG two files with clashing names: the first current-context and the first definition win',
    setup: (c) => {
      const a = c.kubeconfig('a', standard(c, { current: 'ro@alt' }));
      const b = c.kubeconfig('b', {
        current: 'admin@sim',
        clusters: { alt: { server: c.ip, 'certificate-authority': c.ca } },
        users: { 'read-only': { token: c.token('admin') } },
        contexts: { 'ro@alt': { cluster: 'alt', user: 'read-only', namespace: 'default' } },
      });
      return { args: [], env: { KUBECONFIG: `${a}:${b}` } };
    },
  },
  {
    name: 'KUBECONFIG: the second file supplies what the first lacks',
    setup: (c) => {
      const a = c.kubeconfig('a', { current: 'split', contexts: { split: { cluster: 'sim', user: 'read-only', namespace: 'ns-b' } } });
      const b = c.kubeconfig('b', standard(c));
      return { args: [], env: { KUBECONFIG: `${a}:${b}` } };
    },
  },
  { name: 'KUBECONFIG with a missing file first', setup: (c) => ({ args: [], env: { KUBECONFIG: `${path.join(c.dir, 'missing')}:${c.kubeconfig('kc', standard(c))}` } }) },
  { name: 'KUBECONFIG naming only missing files', setup: (c) => ({ args: [], env: { KUBECONFIG: `${path.join(c.dir, 'missing-1')}:${path.join(c.dir, 'missing-2')}` } }) },
  {
    name: 'KUBECONFIG naming a folder: an error, not skipped',
    setup: (c) => {
      fs.mkdirSync(path.join(c.dir, 'a-folder'), { recursive: true });
      return { args: [], env: { KUBECONFIG: `${path.join(c.dir, 'a-folder')}:${c.kubeconfig('kc', standard(c))}` } };
    },
  },
  { name: '--context given twice: the last wins', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--context', 'nope', '--context', 'ro@alt'] }) },
  { name: '-n given twice: the last wins', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '-n', 'ns-b', '-n', 'default'] }) },
  {
    name: '--as-group (repeated) before the command takes one value each',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--as', 'someone', '--as-group', 'rec-operators', '--as-group', 'team-x'], flagsFirst: true }),
  },
  {
    name: 'a tokenFile that does not exist (and no inline token)',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { users: { admin: { tokenFile: path.join(c.dir, 'no-token') } } }))] }),
  },
  {
    name: 'a tokenFile that does not exist beside an inline token: the token is used',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { users: { admin: { token: c.token('read-only'), tokenFile: path.join(c.dir, 'no-token') } } }))] }),
  },
  { name: '--client-key without a certificate is ignored', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--client-key', 'nowhere.key'] }) },
  {
    name: 'a cluster with both certificate-authority and certificate-authority-data',
    setup: (c) => ({
      args: [
        '--kubeconfig',
        c.kubeconfig(
          'kc',
          standard(c, { clusters: { sim: { server: c.ip, 'certificate-authority': c.ca, 'certificate-authority-data': fs.readFileSync(c.ca).toString('base64') } } }),
        ),
      ],
    }),
  },
  { name: '--kubeconfig naming a missing file', setup: (c) => ({ args: ['--kubeconfig', path.join(c.dir, 'missing')] }) },
  { name: '--context another context', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--context', 'ro@alt'] }) },
  { name: '--context that does not exist', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--context', 'nope'] }) },
  { name: 'a current-context that does not exist', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { current: 'gone' }))] }) },
  {
    name: 'a context naming a cluster that does not exist',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { contexts: { x: { cluster: 'gone', user: 'admin' } }, current: 'x' }))] }),
  },
  { name: '--cluster another cluster', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--cluster', 'alt'] }) },
  { name: '--cluster that does not exist', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--cluster', 'nope'] }) },
  { name: '--user another user', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--user', 'read-only'] }) },
  { name: '--user that does not exist', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--user', 'nope'] }) },
  {
    name: '--context, --cluster and --user together',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--context', 'ro@alt', '--cluster', 'sim', '--user', 'admin'] }),
  },
  { name: 'the context namespace', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--context', 'ro@alt'] }) },
  { name: '-n over the context namespace', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '-n', 'ns-b'] }) },
  { name: '--namespace= (empty) keeps the context namespace', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--namespace='] }) },
  { name: 'no namespace anywhere: default', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--context', 'admin@alt-nons'] }) },
  { name: '-s another server (tls-server-name reset)', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '-s', c.local] }) },
  {
    name: '--server, --token and --certificate-authority with no kubeconfig at all',
    setup: (c) => ({ args: ['--server', c.ip, '--token', c.token('read-only'), '--certificate-authority', c.ca, '-n', 'ns-b'], env: { KUBECONFIG: '' } }),
  },
  { name: '--server with no kubeconfig and no credentials', setup: (c) => ({ args: ['--server', c.ip, '--certificate-authority', c.ca], env: { KUBECONFIG: '' } }) },
  {
    name: '--server --insecure-skip-tls-verify with no kubeconfig',
    setup: (c) => ({ args: ['-s', c.local, '--insecure-skip-tls-verify', '--token', c.token('admin')], env: { KUBECONFIG: '' } }),
  },
  { name: '--token over the kubeconfig user', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--token', c.token('read-only')] }) },
  { name: '--token that the server does not know', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--token', 'not-a-token'] }) },
  {
    name: '--token with a kubeconfig user holding basic auth',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { users: { admin: { username: 'u', password: 'p' } } })), '--token', c.token('admin')] }),
  },
  {
    name: '--certificate-authority of another CA',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--certificate-authority', c.write('other-ca.crt', OTHER_CA)] }),
  },
  {
    name: '--certificate-authority naming a missing file',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--certificate-authority', 'missing-ca.crt'] }),
  },
  {
    name: '--certificate-authority with --insecure-skip-tls-verify',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--certificate-authority', c.ca, '--insecure-skip-tls-verify'] }),
  },
  { name: '--insecure-skip-tls-verify over a kubeconfig CA', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--insecure-skip-tls-verify'] }) },
  {
    name: 'a kubeconfig with both a CA and insecure-skip-tls-verify',
    setup: (c) => ({
      args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { clusters: { sim: { server: c.ip, 'certificate-authority': c.ca, 'insecure-skip-tls-verify': true } } }))],
    }),
  },
  {
    name: 'a kubeconfig without a CA trusts the system roots (SSL_CERT_FILE)',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { clusters: { sim: { server: c.ip } } }))], env: { SSL_CERT_FILE: c.ca } }),
  },
  {
    name: 'a kubeconfig without a CA, untrusted',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { clusters: { sim: { server: c.ip } } }))], env: { SSL_CERT_FILE: '/dev/null' } }),
  },
  { name: '--tls-server-name localhost for 127.0.0.1', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--tls-server-name', 'localhost'] }) },
  {
    name: '--tls-server-name the certificate does not hold',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--tls-server-name', 'elsewhere.example'] }),
  },
  {
    name: 'kubeconfig tls-server-name, then --server resets it',
    setup: (c) => ({
      args: [
        '--kubeconfig',
        c.kubeconfig('kc', standard(c, { clusters: { sim: { server: c.ip, 'certificate-authority': c.ca, 'tls-server-name': 'elsewhere.example' } } })),
        '--server',
        c.ip,
      ],
    }),
  },
  {
    name: 'relative certificate-authority and tokenFile, resolved against the kubeconfig folder',
    setup: (c) => {
      c.write('conf/pki/ca.crt', fs.readFileSync(c.ca, 'utf8'));
      c.write('conf/token', `${c.token('read-only')}\n`);
      const kc = c.kubeconfig('conf/kc', standard(c, { clusters: { sim: { server: c.ip, 'certificate-authority': 'pki/ca.crt' } }, users: { admin: { tokenFile: 'token' } } }));
      return { args: ['--kubeconfig', kc], cwd: 'home' };
    },
  },
  {
    name: 'relative --certificate-authority, resolved against the working folder',
    setup: (c) => {
      c.write('work/ca.crt', fs.readFileSync(c.ca, 'utf8'));
      return { args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--certificate-authority', 'ca.crt'], cwd: 'work' };
    },
  },
  { name: '--client-certificate and --client-key (relative to the working folder)', setup: (c) => certArgs(c, 'flags') },
  { name: 'client certificate files in the kubeconfig, relative paths', setup: (c) => certArgs(c, 'kubeconfig') },
  {
    name: '--client-certificate without --client-key',
    setup: (c) => {
      const s = certArgs(c, 'flags');
      return { ...s, args: s.args.slice(0, 4) };
    },
  },
  { name: '--as a user the caller may impersonate', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--context', 'breakglass@sim', '--as', 'admin'] }) },
  {
    name: '--as a user the caller may not impersonate',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--context', 'breakglass@sim', '--as', 'read-only'] }),
  },
  {
    name: '--as with --as-group (repeated) and --as-uid',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--as', 'someone', '--as-group', 'rec-operators', '--as-group', 'team-x', '--as-uid', 'u-1'] }),
  },
  { name: '--as-group without --as', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--as-group', 'rec-operators'] }) },
  {
    name: 'impersonation in the kubeconfig user (as, as-groups)',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { users: { admin: { token: c.token('admin'), as: 'operator', 'as-groups': ['rec-operators'] } } }))] }),
  },
  { name: 'an exec plugin (v1), command by absolute path', setup: (c) => execArgs(c, { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Never' }) },
  { name: 'an exec plugin (v1, IfAvailable) without a terminal', setup: (c) => execArgs(c, { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'IfAvailable' }) },
  { name: 'an exec plugin (v1, Always) without a terminal', setup: (c) => execArgs(c, { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Always' }) },
  { name: 'an exec plugin with an apiVersion kubectl does not know', setup: (c) => execArgs(c, { apiVersion: 'client.authentication.k8s.io/v1alpha1', interactiveMode: 'Never' }) },
  {
    name: 'an exec plugin (v1beta1, provideClusterInfo), command relative to the kubeconfig',
    setup: (c) => {
      fs.mkdirSync(path.join(c.dir, 'conf/bin'), { recursive: true });
      fs.copyFileSync(EXEC_PLUGIN, path.join(c.dir, 'conf/bin/cred'));
      fs.chmodSync(path.join(c.dir, 'conf/bin/cred'), 0o755);
      return execArgs(c, { apiVersion: 'client.authentication.k8s.io/v1beta1', provideClusterInfo: true, command: './bin/cred' }, 'conf/kc');
    },
  },
  {
    name: 'an exec plugin that is not installed: its installHint',
    setup: (c) =>
      execArgs(c, { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Never', command: 'no-such-plugin', installHint: 'Install no-such-plugin from example.com' }),
    bothSay: /It looks like you are trying to use a client-go credential plugin that is not installed[\s\S]*Install no-such-plugin from example\.com/,
  },
  {
    name: 'an exec plugin named by a path that does not exist: no installHint',
    setup: (c) => execArgs(c, { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Never', command: './nowhere/plugin', installHint: 'Install it' }),
  },
  {
    name: 'an exec plugin that fails',
    setup: (c) => execArgs(c, { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Never', env: [{ name: 'SIM_EXEC_FAIL', value: 'login expired' }] }),
  },
  { name: 'an exec plugin without interactiveMode in v1', setup: (c) => execArgs(c, { apiVersion: 'client.authentication.k8s.io/v1' }) },
  {
    name: '--token skips the exec plugin',
    setup: (c) => {
      const s = execArgs(c, { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Never' });
      return { ...s, args: [...s.args, '--token', c.token('read-only')] };
    },
  },
  { name: 'an unreachable server', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--server', 'https://127.0.0.1:1'] }) },
  { name: 'a server that is not a URL', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--server', 'https://[::1'] }) },
  ...['0', '30', '30s', '1m', '1m30s', '-1s', ''].map((t) => ({
    name: `--request-timeout=${t}`,
    setup: (c: Ctx) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), `--request-timeout=${t}`] }),
  })),
  { name: '--request-timeout that is not a duration', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--request-timeout', 'soon'] }) },
  {
    name: '--cache-dir and --disable-compression',
    setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--cache-dir', path.join(c.dir, 'cache'), '--disable-compression'] }),
  },
  {
    name: 'kubeconfig proxy-url (http)',
    setup: (c) => ({
      args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { clusters: { sim: { server: c.ip, 'certificate-authority': c.ca, 'proxy-url': c.proxy.httpUrl } } }))],
    }),
  },
  {
    name: "kubeconfig proxy-url (https, the proxy's certificate checked against the cluster's CA)",
    setup: (c) => {
      const bundle = c.write('bundle.crt', fs.readFileSync(c.ca, 'utf8') + fs.readFileSync(c.proxy.caFile ?? assert.fail('no proxy CA'), 'utf8'));
      return {
        args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { clusters: { sim: { server: c.ip, 'certificate-authority': bundle, 'proxy-url': c.proxy.httpsUrl ?? '' } } }))],
      };
    },
  },
  {
    name: 'kubeconfig proxy-url (https) whose certificate the cluster CA does not sign',
    setup: (c) => ({
      args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { clusters: { sim: { server: c.ip, 'certificate-authority': c.ca, 'proxy-url': c.proxy.httpsUrl ?? '' } } }))],
      env: { SSL_CERT_FILE: c.proxy.caFile ?? '' },
    }),
  },
  {
    name: 'kubeconfig proxy-url socks5h (clientcmd refuses the scheme)',
    setup: (c) => ({
      args: [
        '--kubeconfig',
        c.kubeconfig('kc', standard(c, { clusters: { sim: { server: c.ip, 'certificate-authority': c.ca, 'proxy-url': c.proxy.socksUrl.replace('socks5:', 'socks5h:') } } })),
      ],
    }),
  },
  {
    name: 'HTTPS_PROXY socks5h for a host name only the proxy resolves',
    setup: (c) => ({
      args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--server', mappedServer(c), '--tls-server-name', 'localhost'],
      env: { HTTPS_PROXY: c.proxy.socksUrl.replace('socks5:', 'socks5h:') },
    }),
  },
  { name: '--as-uid without --as', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--as-uid', 'u-1'] }) },
  {
    name: 'a readable tokenFile wins over --token',
    setup: (c) => ({
      args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { users: { admin: { tokenFile: c.write('tok', c.token('read-only')) } } })), '--token', c.token('admin')],
    }),
  },
  { name: 'a plain http server gets no credentials', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--server', c.ip.replace('https:', 'http:')] }) },
  {
    name: 'kubeconfig proxy-url (socks5)',
    setup: (c) => ({
      args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { clusters: { sim: { server: c.ip, 'certificate-authority': c.ca, 'proxy-url': c.proxy.socksUrl } } }))],
    }),
  },
  {
    name: 'HTTPS_PROXY for a host name only the proxy resolves',
    setup: (c) => ({
      args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--server', mappedServer(c), '--tls-server-name', 'localhost'],
      env: { HTTPS_PROXY: c.proxy.httpUrl },
    }),
  },
  {
    name: 'NO_PROXY naming that host: no proxy, and the name does not resolve',
    setup: (c) => ({
      args: ['--kubeconfig', c.kubeconfig('kc', standard(c)), '--server', mappedServer(c), '--tls-server-name', 'localhost'],
      env: { HTTPS_PROXY: c.proxy.httpUrl, NO_PROXY: `.sim.test` },
    }),
  },
  { name: 'HTTPS_PROXY is not used for 127.0.0.1', setup: (c) => ({ args: ['--kubeconfig', c.kubeconfig('kc', standard(c))], env: { HTTPS_PROXY: 'http://127.0.0.1:1' } }) },
  {
    name: 'kubeconfig proxy-url wins over HTTPS_PROXY',
    setup: (c) => ({
      args: ['--kubeconfig', c.kubeconfig('kc', standard(c, { clusters: { sim: { server: c.ip, 'certificate-authority': c.ca, 'proxy-url': c.proxy.httpUrl } } }))],
      env: { HTTPS_PROXY: 'http://127.0.0.1:1' },
    }),
  },
];

/** A host name that only the test proxy resolves (to the API server). */
const mappedServer = (c: Ctx) => `https://kube.sim.test:${new URL(c.ip).port}`;

let certUser: { cert: string; key: string } | undefined;

function certArgs(c: Ctx, where: 'flags' | 'kubeconfig'): Setup {
  if (!certUser) throw new Error('no client certificate');
  c.write('work/tls/user.crt', fs.readFileSync(certUser.cert, 'utf8'));
  c.write('work/tls/user.key', fs.readFileSync(certUser.key, 'utf8'));
  if (where === 'flags') {
    const kc = c.kubeconfig('kc', standard(c, { users: {} }));
    return { args: ['--kubeconfig', kc, '--client-certificate', 'tls/user.crt', '--client-key', 'tls/user.key'], cwd: 'work' };
  }
  const kc = c.kubeconfig('work/kc', standard(c, { users: { admin: { 'client-certificate': 'tls/user.crt', 'client-key': 'tls/user.key' } } }));
  return { args: ['--kubeconfig', kc], cwd: 'home' };
}

/** A kubeconfig whose admin user is the sim's exec credential plugin (minting tokens for `operator`), with `exec` fields replaced. */
function execArgs(c: Ctx, exec: Record<string, unknown>, file = 'kc'): Setup {
  const generated = c.sim.apiServer.execKubeconfig({ user: 'operator', file: path.join(c.dir, 'generated-exec-kc'), log: path.join(c.dir, 'exec.log') });
  const doc = yaml.load(fs.readFileSync(generated.kubeconfig, 'utf8')) as { users: { user: { exec: Record<string, unknown> } }[] };
  const base = doc.users[0]?.user.exec ?? assert.fail('the generated kubeconfig has no exec user');
  // `env` entries are added to the sim's own (which tell the plugin where to mint its token).
  const env = [...(Array.isArray(base.env) ? base.env : []), ...(Array.isArray(exec.env) ? exec.env : [])];
  const entry: Record<string, unknown> = { ...base, ...exec, env };
  if (!('interactiveMode' in exec)) delete entry.interactiveMode;
  const kc = c.kubeconfig(file, standard(c, { users: { admin: { exec: entry } } }));
  return { args: ['--kubeconfig', kc] };
}

// A CA that signed nothing the server presents.
const OTHER_CA = fs.existsSync('/etc/ssl/certs/ca-certificates.crt')
  ? (fs.readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/)?.[0] ?? '')
  : '';

const REC_GET = /^\/apis\/app\.redislabs\.com\/v1\/namespaces\/([^/]+)\/redisenterpriseclusters\/rec(?:\?|$)/;

/**
 * Who reached the server, and where: the address the client targeted, the authenticated user and the
 * impersonation it asked for (over every request: kubectl's discovery and the plugin's reads differ), and
 * the namespace of each GET of the REC.
 */
function identities(events: readonly AuditEvent[]): string[] {
  const out = new Set<string>();
  for (const e of events) {
    if (e.kind !== 'api' || e.uri.startsWith('/sim/')) continue;
    const i = e.impersonation;
    const as = i ? `as ${i.user ?? ''}[${i.groups.join(',')}]${i.uid ?? ''}` : '';
    out.add(`${e.host ?? '?'} | ${e.user} | ${as}`);
    const m = e.method === 'GET' ? REC_GET.exec(e.uri) : null;
    if (m) out.add(`namespace ${m[1] ?? ''}`);
  }
  return [...out].sort();
}

function kindOf(who: 'kubectl' | 'plugin', code: number | null, stderr: string): Kind {
  if (code === 0) return 'ok';
  if (/getting credentials/i.test(stderr)) return 'credentials';
  if (/forbidden/i.test(stderr)) return 'forbidden';
  if (/Unauthorized|must be logged in/i.test(stderr)) return 'unauthorized';
  if (/\(NotFound\)|not found:/i.test(stderr)) return 'not-found';
  // kubectl's answer to a kubeconfig that selects no server: it falls back to http://localhost:8080.
  if (who === 'kubectl' && /The connection to the server localhost:8080 was refused/.test(stderr)) return 'config';
  if (who === 'plugin' && code === 2) return 'config';
  if (/x509:|tls: |self[- ]signed|altnames|unable to verify|UNABLE_TO_VERIFY|ERR_TLS/i.test(stderr)) return 'tls';
  if (/connection refused|ECONNREFUSED|no such host|ENOTFOUND|EAI_AGAIN|i\/o timeout|timed out|dial tcp|proxyconnect|cannot reach|Unable to connect/i.test(stderr))
    return 'unreachable';
  return 'config';
}

describe('kubectl parity: the plugin connects as kubectl 1.33 does (kubectl is the oracle)', function () {
  this.timeout(600_000);
  let sim: SimCluster;
  let proxy: TestProxy;
  let root: string;
  const results: { name: string; kubectl: Observed; plugin: Observed }[] = [];

  before(async () => {
    ensurePluginExecutable();
    sim = await startSimCluster({
      namespaces: ['default', 'ns-a', 'ns-b'],
      recs: ['default', 'ns-a', 'ns-b'].map((namespace) => ({ name: 'rec', namespace, pods: 1 })),
      pods: 1,
    });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'reccred-parity-'));
    const cert = await sim.apiServer.clientCertUser('cert-user', { groups: ['rec-operators'] });
    certUser = { cert: cert.certFile, key: cert.keyFile };
    proxy = await startProxy({ dir: path.join(root, 'proxy'), map: { 'kube.sim.test': '127.0.0.1' } });
  });

  after(async () => {
    await proxy?.stop();
    await sim?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
    if (results.length) console.log(`[figures] kubectl parity: ${results.length} cases, ${results.filter((r) => r.kubectl.kind === 'ok').length} where kubectl connects`);
  });

  it('has at least 30 cases', () => assert.ok(CASES.length >= 30, `${CASES.length} cases`));

  CASES.forEach((k, i) => {
    it(k.name, async () => {
      const dir = path.join(root, `case-${i}`);
      fs.mkdirSync(path.join(dir, 'home'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'work'), { recursive: true });
      const ctx: Ctx = {
        sim,
        dir,
        ip: sim.apiUrl,
        local: sim.apiUrl.replace('127.0.0.1', 'localhost'),
        ca: sim.caFile,
        token: (u) => sim.users[u]?.token ?? assert.fail(`no user ${u}`),
        write: (file, text) => {
          const p = path.join(dir, file);
          fs.mkdirSync(path.dirname(p), { recursive: true });
          fs.writeFileSync(p, text, { mode: 0o600 });
          return p;
        },
        kubeconfig: (file, doc) => ctx.write(file, toYaml(doc)),
        proxy,
      };
      const s = k.setup(ctx);
      const env: NodeJS.ProcessEnv = { PATH: `${pluginBinDir()}${path.delimiter}${process.env.PATH ?? ''}`, HOME: path.join(dir, 'home'), ...s.env };
      if (env.KUBECONFIG === '') delete env.KUBECONFIG;
      const cwd = path.join(dir, s.cwd ?? 'work');
      const observe = async (who: 'kubectl' | 'plugin', args: string[]): Promise<Observed> => {
        const mark = sim.audit.mark();
        const r = await runProcess(KUBECTL, args, { env, cwd });
        return { kind: kindOf(who, r.code, r.stderr), identities: identities(sim.audit.since(mark)), stderr: r.stderr.trim() };
      };
      const order = (command: string[]) => (s.flagsFirst ? [...s.args, ...command] : [...command, ...s.args]);
      const kubectl = await observe('kubectl', order(['get', 'redisenterpriseclusters.app.redislabs.com', 'rec', '-o', 'name']));
      const plugin = await observe('plugin', ['reccred', ...order(['get', 'rec'])]);
      // A kubectl that failed before its namespaced request (discovery comes first) shows no namespace to compare.
      if (!kubectl.identities.some((l) => l.startsWith('namespace '))) plugin.identities = plugin.identities.filter((l) => !l.startsWith('namespace '));
      results.push({ name: k.name, kubectl, plugin });
      const show = (o: Observed) => `${o.kind} ${JSON.stringify(o.identities)}\n    ${o.stderr.split('\n').slice(0, 3).join('\n    ')}`;
      if (k.bothSay) {
        assert.match(kubectl.stderr, k.bothSay, 'kubectl says it');
        assert.match(plugin.stderr, k.bothSay, 'the plugin says it too');
      }
      assert.deepEqual(
        { kind: plugin.kind, identities: plugin.identities },
        { kind: kubectl.kind, identities: kubectl.identities },
        `kubectl: ${show(kubectl)}\n  plugin: ${show(plugin)}`,
      );
    });
  });
});
