// Go's net/http DetectContentType (src/net/http/sniff.go), which krew's downloader runs on the first 512
// bytes of an archive to pick its extractor (internal/download/downloader.go detectMIMEType: the type
// before any ";", then application/zip or application/x-gzip, anything else refused). The file name
// plays no part. The whole table is ported because its order matters: a signature listed before the
// archive ones wins, e.g. any data whose bytes 34-35 are "LP" is application/vnd.ms-fontobject, so a
// .tar.gz whose compressed bytes happen to put "LP" there is refused by krew.

const SNIFF_LEN = 512;
const bytes = (s: string) => Buffer.from(s, 'latin1');
const isWS = (b: number) => b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d || b === 0x20;

type Sig = (data: Buffer, firstNonWS: number) => string;

const exact =
  (sig: string, ct: string): Sig =>
  (data) =>
    data.subarray(0, sig.length).equals(bytes(sig)) ? ct : '';

function masked(mask: string, pat: string, ct: string, skipWS = false): Sig {
  const m = bytes(mask);
  const p = bytes(pat);
  return (data, firstNonWS) => {
    const d = skipWS ? data.subarray(firstNonWS) : data;
    if (m.length !== p.length || d.length < p.length) return '';
    for (let i = 0; i < p.length; i++) if ((d[i]! & m[i]!) !== p[i]) return '';
    return ct;
  };
}

function html(tag: string): Sig {
  const h = bytes(tag);
  return (data, firstNonWS) => {
    const d = data.subarray(firstNonWS);
    if (d.length < h.length + 1) return '';
    for (let i = 0; i < h.length; i++) {
      const b = h[i]!;
      const db = b >= 0x41 && b <= 0x5a ? d[i]! & 0xdf : d[i]!;
      if (db !== b) return '';
    }
    return d[h.length] === 0x20 || d[h.length] === 0x3e ? 'text/html; charset=utf-8' : '';
  };
}

const mp4: Sig = (data) => {
  if (data.length < 12) return '';
  const boxSize = data.readUInt32BE(0);
  if (data.length < boxSize || boxSize % 4 !== 0) return '';
  if (data.toString('latin1', 4, 8) !== 'ftyp') return '';
  for (let st = 8; st < boxSize; st += 4) {
    if (st === 12) continue; // the major brand's version
    if (data.toString('latin1', st, st + 3) === 'mp4') return 'video/mp4';
  }
  return '';
};

const text: Sig = (data, firstNonWS) => {
  for (const b of data.subarray(firstNonWS)) {
    if (b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)) return '';
  }
  return 'text/plain; charset=utf-8';
};

const NUL34 = '\x00'.repeat(34);

const SIGNATURES: Sig[] = [
  ...['<!DOCTYPE HTML', '<HTML', '<HEAD', '<SCRIPT', '<IFRAME', '<H1', '<DIV', '<FONT', '<TABLE', '<A', '<STYLE', '<TITLE', '<B', '<BODY', '<BR', '<P', '<!--'].map(html),
  masked('\xFF\xFF\xFF\xFF\xFF', '<?xml', 'text/xml; charset=utf-8', true),
  exact('%PDF-', 'application/pdf'),
  exact('%!PS-Adobe-', 'application/postscript'),
  masked('\xFF\xFF\x00\x00', '\xFE\xFF\x00\x00', 'text/plain; charset=utf-16be'),
  masked('\xFF\xFF\x00\x00', '\xFF\xFE\x00\x00', 'text/plain; charset=utf-16le'),
  masked('\xFF\xFF\xFF\x00', '\xEF\xBB\xBF\x00', 'text/plain; charset=utf-8'),
  exact('\x00\x00\x01\x00', 'image/x-icon'),
  exact('\x00\x00\x02\x00', 'image/x-icon'),
  exact('BM', 'image/bmp'),
  exact('GIF87a', 'image/gif'),
  exact('GIF89a', 'image/gif'),
  masked('\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF', 'RIFF\x00\x00\x00\x00WEBPVP', 'image/webp'),
  exact('\x89PNG\x0D\x0A\x1A\x0A', 'image/png'),
  exact('\xFF\xD8\xFF', 'image/jpeg'),
  masked('\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF', 'FORM\x00\x00\x00\x00AIFF', 'audio/aiff'),
  masked('\xFF\xFF\xFF', 'ID3', 'audio/mpeg'),
  masked('\xFF\xFF\xFF\xFF\xFF', 'OggS\x00', 'application/ogg'),
  masked('\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF', 'MThd\x00\x00\x00\x06', 'audio/midi'),
  masked('\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF', 'RIFF\x00\x00\x00\x00AVI ', 'video/avi'),
  masked('\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF', 'RIFF\x00\x00\x00\x00WAVE', 'audio/wave'),
  mp4,
  exact('\x1A\x45\xDF\xA3', 'video/webm'),
  masked(`${NUL34}\xFF\xFF`, `${NUL34}LP`, 'application/vnd.ms-fontobject'),
  exact('\x00\x01\x00\x00', 'font/ttf'),
  exact('OTTO', 'font/otf'),
  exact('ttcf', 'font/collection'),
  exact('wOFF', 'font/woff'),
  exact('wOF2', 'font/woff2'),
  exact('\x1F\x8B\x08', 'application/x-gzip'),
  exact('PK\x03\x04', 'application/zip'),
  exact('Rar!\x1A\x07\x00', 'application/x-rar-compressed'),
  exact('Rar!\x1A\x07\x01\x00', 'application/x-rar-compressed'),
  exact('\x00\x61\x73\x6D', 'application/wasm'),
  text,
];

/** http.DetectContentType: the MIME type of `data` from its first 512 bytes, "application/octet-stream" when nothing matches. */
export function detectContentType(data: Buffer): string {
  const d = data.subarray(0, SNIFF_LEN);
  let firstNonWS = 0;
  while (firstNonWS < d.length && isWS(d[firstNonWS]!)) firstNonWS++;
  for (const sig of SIGNATURES) {
    const ct = sig(d, firstNonWS);
    if (ct) return ct;
  }
  return 'application/octet-stream';
}

/** krew's detectMIMEType: DetectContentType without its parameters. */
export const krewArchiveType = (data: Buffer): string => detectContentType(data).split(';')[0]!;
