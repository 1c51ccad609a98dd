// The certificates Go trusts when a kubeconfig names no certificate authority (crypto/x509 root_unix.go,
// root_linux.go): SSL_CERT_FILE, else the first distribution bundle found, plus SSL_CERT_DIR (else the
// distribution folders). Node's own bundle would trust a different set than kubectl does; elsewhere than
// Linux Go asks the platform's verifier, and Node's bundle is the nearest thing.
import fs from 'node:fs';
import path from 'node:path';

const CERT_FILES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];
const CERT_DIRS = ['/etc/ssl/certs', '/etc/pki/tls/certs'];

let cached: string[] | undefined;

/** PEM texts, or undefined where Node's default trust should apply. */
export function systemRoots(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  if (process.platform !== 'linux') return undefined;
  if (cached) return cached;
  const pems: string[] = [];
  const files = env.SSL_CERT_FILE ? [env.SSL_CERT_FILE] : CERT_FILES;
  for (const file of files) {
    const text = readOrUndefined(file);
    if (text !== undefined) {
      pems.push(text);
      break;
    }
  }
  const dirs = env.SSL_CERT_DIR ? env.SSL_CERT_DIR.split(':').filter(Boolean) : CERT_DIRS;
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    // Distribution folders repeat the bundle's certificates one per file; a bundle already read is enough there.
    if (!env.SSL_CERT_DIR && pems.length) break;
    for (const name of names) {
      const text = readOrUndefined(path.join(dir, name));
      if (text?.includes('-----BEGIN CERTIFICATE-----')) pems.push(text);
    }
  }
  cached = pems.length ? pems : undefined;
  return cached;
}

function readOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
