// curl reads its options from stdin (`curl -q -K -`), so URL, body and Authorization header never become
// arguments. This builds that config text; quoting follows curl's config-file rules.

export function curlQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

export const RESPONSE_MARKER = '@@reccred-response@@';

export interface CurlRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  body?: unknown;
  /** Basic credentials to send; omitted when the pod adds them from its mounted files. */
  basicAuth?: { username: string; password: string };
  maxTimeSeconds: number;
}

export function curlConfig(req: CurlRequest): string {
  const lines = [
    `url = ${curlQuote(req.url)}`,
    `request = ${curlQuote(req.method)}`,
    'silent',
    'show-error',
    // The REST API's certificate is self-signed by default; the connection never leaves the pod.
    'insecure',
    'noproxy = "*"',
    `max-time = ${req.maxTimeSeconds}`,
    'header = "Accept: application/json"',
    `write-out = ${curlQuote(`\n${RESPONSE_MARKER} %{http_code} %{redirect_url}\n`)}`,
  ];
  if (req.body !== undefined) {
    lines.push('header = "Content-Type: application/json"');
    // data-raw: a body starting with @ is never read as a file name.
    lines.push(`data-raw = ${curlQuote(JSON.stringify(req.body))}`);
  }
  if (req.basicAuth) {
    const token = Buffer.from(`${req.basicAuth.username}:${req.basicAuth.password}`).toString('base64');
    lines.push(`header = ${curlQuote(`Authorization: Basic ${token}`)}`);
  }
  return lines.join('\n') + '\n';
}

export function parseCurlOutput(stdout: string): { status: number; redirect: string; body: string } | undefined {
  const at = stdout.lastIndexOf(`\n${RESPONSE_MARKER} `);
  if (at < 0) return undefined;
  const [code, redirect] = stdout
    .slice(at + RESPONSE_MARKER.length + 2)
    .trim()
    .split(' ');
  return { status: Number(code), redirect: redirect ?? '', body: stdout.slice(0, at) };
}
