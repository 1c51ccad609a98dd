// Who the requests are sent as, in client-go's precedence (tools/clientcmd/client_config.go
// getUserIdentificationPartialConfig, plugin/pkg/client/auth/exec/exec.go UpdateTransportConfig): a token
// (or token file, re-read so a rotated service-account token is picked up), a client certificate, basic
// auth, then an exec plugin only when none of those is set; an auth-provider through client-node; and
// impersonation headers on every request and exec upgrade. Over plain http nothing is sent, as client-go
// sends credentials only over TLS.
import fs from 'node:fs';
import { redactor } from '../output/redactor.js';
import { ExecCredentialPlugin, type ExecClusterInfo } from './exec-credential.js';
import type { ResolvedConfig } from './kubeconfig.js';

export interface RequestCredentials {
  headers: Record<string, string | string[]>;
  cert?: string | Buffer;
  key?: string | Buffer;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const fromBase64 = (v: string | undefined): Buffer | undefined => (v === undefined ? undefined : Buffer.from(v, 'base64'));

export class Credentials {
  private readonly exec: ExecCredentialPlugin | undefined;
  private readonly impersonation: Record<string, string | string[]> = {};

  constructor(
    private readonly config: ResolvedConfig,
    private readonly secure: boolean,
    clusterInfo: ExecClusterInfo,
  ) {
    const u = config.user.user;
    redactor.add(str(u.token), str(u.password), str(u['client-key-data']));
    const as = str(u.as);
    if (as !== undefined) this.impersonation['Impersonate-User'] = as;
    const groups = Array.isArray(u['as-groups']) ? u['as-groups'].filter((g): g is string => typeof g === 'string') : [];
    if (groups.length) this.impersonation['Impersonate-Group'] = groups;
    const uid = str(u['as-uid']);
    if (uid !== undefined) this.impersonation['Impersonate-Uid'] = uid;
    const extra = u['as-user-extra'];
    if (extra && typeof extra === 'object') {
      for (const [k, v] of Object.entries(extra as Record<string, unknown>)) {
        if (Array.isArray(v)) this.impersonation[`Impersonate-Extra-${headerKeyEscape(k)}`] = v.map(String);
      }
    }
    const staticAuth = str(u.token) ?? str(u.tokenFile) ?? str(u.username) ?? str(u.password) ?? this.certificate().cert;
    this.exec = u.exec !== undefined && staticAuth === undefined ? new ExecCredentialPlugin(u.exec, config.user.name, clusterInfo) : undefined;
  }

  /** Whether the user authenticates through an auth-provider (oidc), which only client-node implements here. */
  get usesAuthProvider(): boolean {
    return this.config.user.user['auth-provider'] !== undefined;
  }

  async forRequest(): Promise<RequestCredentials> {
    // Impersonation is sent even over plain http, where client-go sends no credentials.
    const headers: Record<string, string | string[]> = { ...this.impersonation };
    if (!this.secure) return { headers };
    const u = this.config.user.user;
    const { cert, key } = this.certificate();
    // A readable token file wins over an inline token, --token included: client-go's transport prefers
    // BearerTokenFile and re-reads it (transport/token_source.go).
    const token = this.tokenFromFile() ?? str(u.token);
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    else if (str(u.username) !== undefined || str(u.password) !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${str(u.username) ?? ''}:${str(u.password) ?? ''}`).toString('base64')}`;
    }
    // client-go uses a certificate only with its key (HasCertAuth).
    const out: RequestCredentials = { headers, ...(cert && key ? { cert, key } : {}) };
    if (this.exec) {
      const cred = await this.exec.credential();
      if (cred.token) headers.Authorization = `Bearer ${cred.token}`;
      if (cred.cert && cred.key) {
        out.cert = cred.cert;
        out.key = cred.key;
      }
    }
    return out;
  }

  private tokenFromFile(): string | undefined {
    const file = str(this.config.user.user.tokenFile);
    if (file === undefined) return undefined;
    let token: string;
    try {
      token = fs.readFileSync(file, 'utf8').trim();
    } catch {
      return undefined;
    }
    redactor.add(token);
    return token || undefined;
  }

  /** The certificate and its key; a key without a certificate is ignored, as client-go ignores it. */
  private certificate(): { cert?: Buffer; key?: Buffer } {
    const u = this.config.user.user;
    const certFile = str(u['client-certificate']);
    const keyFile = str(u['client-key']);
    const cert = certFile !== undefined ? fs.readFileSync(certFile) : fromBase64(str(u['client-certificate-data']));
    if (cert === undefined) return {};
    return { cert, key: keyFile !== undefined ? fs.readFileSync(keyFile) : fromBase64(str(u['client-key-data'])) };
  }
}

/**
 * client-go's headerKeyEscape (transport/round_trippers.go): every byte of the key's UTF-8 that is not an
 * HTTP token character, and '%', is percent-encoded, so any extra key makes a valid header name.
 */
function headerKeyEscape(key: string): string {
  let out = '';
  for (const b of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && c !== '%' && /[!#$&'*+\-.^_`|~0-9A-Za-z]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
