// Test-only certificates made with the openssl CLI. Go clients (kubectl) reject certificates
// without subject alternative names, so every serving cert carries IP:127.0.0.1 and DNS:localhost.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertPaths {
  certFile: string;
  keyFile: string;
}

export interface ServingCerts extends CertPaths {
  /** The CA that signed certFile; clients trust this file. */
  caFile: string;
  /** The CA's key, to sign client certificates with (makeClientCert). */
  caKeyFile: string;
}

const DEFAULT_SANS = ['IP:127.0.0.1', 'DNS:localhost'];
// P-256 keys: generated in milliseconds, accepted by Go, OpenSSL/curl and Node.
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${err.stderr ?? err.message}`, { cause: e });
  }
}

/**
 * A self-signed certificate (it is its own CA, so the cert file is also what clients trust).
 * Used by the Redis REST API and Vault, which clients reach as https://localhost.
 */
export async function makeSelfSignedCert(dir: string, name = 'localhost', sans: string[] = DEFAULT_SANS): Promise<CertPaths> {
  await mkdir(dir, { recursive: true });
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '365',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-addext',
    `subjectAltName=${sans.join(',')}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,digitalSignature,keyCertSign',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ]);
  return { certFile, keyFile };
}

/** A test CA plus a serving certificate it signed, as a cluster's kube-apiserver has. */
export async function makeCaAndServingCert(dir: string, sans: string[] = DEFAULT_SANS): Promise<ServingCerts> {
  await mkdir(dir, { recursive: true });
  const caFile = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const certFile = join(dir, 'apiserver.crt');
  const keyFile = join(dir, 'apiserver.key');
  const csr = join(dir, 'apiserver.csr');
  const ext = join(dir, 'apiserver.ext');
  await makeCa(caFile, caKey, 'sim-kubernetes-ca');
  await openssl(['req', '-new', ...EC_KEY, '-subj', '/CN=kube-apiserver', '-keyout', keyFile, '-out', csr]);
  await writeFile(
    ext,
    [`subjectAltName=${sans.join(',')}`, 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', ''].join('\n'),
  );
  await openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-days', '365', '-out', certFile, '-extfile', ext]);
  return { caFile, caKeyFile: caKey, certFile, keyFile };
}

export interface ClientCertOptions {
  /** The subject's CN: the user name kube-apiserver reads from it. */
  user: string;
  /** One O per group, in this order. */
  groups?: string[];
  /** The CA that signs it; absent: a CA of its own that the API server does not trust. */
  ca?: { caFile: string; caKeyFile: string };
  /** File name stem inside dir; default the user name. */
  name?: string;
}

/** openssl -subj syntax: '/', '+', '=' and '\\' inside a value are escaped. */
const subjectValue = (v: string) => v.replace(/[\\/+=]/g, (c) => `\\${c}`);

/**
 * A client certificate as kube-apiserver's x509 authenticator reads it (kubernetes/website
 * content/en/docs/reference/access-authn-authz/authentication.md, "X509 client certificates"): CN is the
 * user name, each O a group. Its extended key usage is clientAuth, which the authenticator requires.
 */
export async function makeClientCert(dir: string, o: ClientCertOptions): Promise<CertPaths> {
  await mkdir(dir, { recursive: true });
  const stem = (o.name ?? o.user).replace(/[^A-Za-z0-9_.-]/g, '_');
  const certFile = join(dir, `${stem}.crt`);
  const keyFile = join(dir, `${stem}.key`);
  const csr = join(dir, `${stem}.csr`);
  const ext = join(dir, `${stem}.ext`);
  const subject = `/CN=${subjectValue(o.user)}${(o.groups ?? []).map((g) => `/O=${subjectValue(g)}`).join('')}`;
  const ca = o.ca ?? (await untrustedCa(dir));
  await openssl(['req', '-new', ...EC_KEY, '-subj', subject, '-keyout', keyFile, '-out', csr]);
  await writeFile(ext, ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth', ''].join('\n'));
  // A random serial rather than -CAcreateserial: certificates issued at once would race on the .srl file.
  const serial = `0x${randomBytes(12).toString('hex')}`;
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.caFile, '-CAkey', ca.caKeyFile, '-set_serial', serial, '-days', '365', '-out', certFile, '-extfile', ext]);
  return { certFile, keyFile };
}

/** A CA the API server does not know, for certificates it must refuse. */
async function untrustedCa(dir: string): Promise<{ caFile: string; caKeyFile: string }> {
  return makeCa(join(dir, 'untrusted-ca.crt'), join(dir, 'untrusted-ca.key'), 'untrusted-ca');
}

/** A self-signed CA certificate and its key. */
async function makeCa(caFile: string, caKeyFile: string, commonName: string): Promise<{ caFile: string; caKeyFile: string }> {
  await openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '365',
    '-subj',
    `/CN=${commonName}`,
    '-keyout',
    caKeyFile,
    '-out',
    caFile,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  return { caFile, caKeyFile };
}
