// Test-only certificates made with the openssl CLI. Go clients (kubectl) reject certificates
// without subject alternative names, so every serving cert carries IP:127.0.0.1 and DNS:localhost.
import { execFile } from 'node:child_process';
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
  await openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '365',
    '-subj',
    '/CN=sim-kubernetes-ca',
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  await openssl(['req', '-new', ...EC_KEY, '-subj', '/CN=kube-apiserver', '-keyout', keyFile, '-out', csr]);
  await writeFile(
    ext,
    [`subjectAltName=${sans.join(',')}`, 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', ''].join('\n'),
  );
  await openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-days', '365', '-out', certFile, '-extfile', ext]);
  return { caFile, certFile, keyFile };
}
