// What krew's downloader reads out of an archive (internal/download/downloader.go): the type from the
// content (sniff.ts, never the file name), then Go's archive/tar (after compress/gzip) or archive/zip.
// The readers follow Go's: tar header checksums, ustar prefixes (not GNU's), PAX `path`/`size` records,
// GNU long names, the legacy regular-file flag; zip modes by the creator system, directories by a
// trailing slash. krew's own refusals are thrown as KrewRefusal with the source that states them.
import zlib from 'node:zlib';
import { krewArchiveType } from './sniff.js';

export interface ArchiveEntry {
  name: string;
  /** tar: Dir and Reg are what krew extracts, anything else it refuses; zip: a symlink is written as a file holding its target. */
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** The tar type flag, for messages. */
  typeflag?: string;
  /** Permission bits as krew passes them to os.OpenFile/MkdirAll. */
  mode: number;
  data: Buffer;
}

/** A step where krew's install fails; `source` is where its code says so. */
export class KrewRefusal extends Error {
  constructor(
    message: string,
    readonly source: string,
  ) {
    super(message);
  }
}

const DOWNLOAD = 'krew internal/download/downloader.go';
const TAR = 'Go archive/tar and compress/gzip, in krew internal/download/downloader.go';
const ZIP = 'Go archive/zip, in krew internal/download/downloader.go';

const BLOCK = 512;
/** archive/tar isHeaderOnlyType: hard link, symlink, char and block devices, directory, FIFO carry no data. */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

function cString(b: Buffer, from: number, len: number): string {
  const field = b.subarray(from, from + len);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul < 0 ? len : nul);
}

/** Go's parseNumeric: octal (spaces and NULs trimmed), or base-256 when the top bit of the first byte is set. */
function numeric(b: Buffer, from: number, len: number): number {
  const field = b.subarray(from, from + len);
  if (field[0]! & 0x80) {
    let v = BigInt(field[0]! & 0x7f);
    for (const byte of field.subarray(1)) v = (v << 8n) | BigInt(byte);
    return Number(v);
  }
  const text = field.toString('latin1').replace(/^[ \0]+|[ \0]+$/g, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new KrewRefusal('tar extraction error: archive/tar: invalid header', TAR);
  return parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = numeric(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** PAX extended header records: "<length> <key>=<value>\n", the length counting the whole record in bytes. */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  for (let at = 0; at < data.length;) {
    const space = data.indexOf(0x20, at);
    const len = space > at ? parseInt(data.toString('latin1', at, space), 10) : NaN;
    if (!(len > space - at) || at + len > data.length || data[at + len - 1] !== 0x0a) throw new KrewRefusal('tar extraction error: archive/tar: invalid header', TAR);
    const record = data.toString('utf8', space + 1, at + len - 1);
    const eq = record.indexOf('=');
    if (eq < 0) throw new KrewRefusal('tar extraction error: archive/tar: invalid header', TAR);
    out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}

/** compress/gzip then archive/tar, as Go's Reader.Next() returns the headers (meta headers merged into the next one). */
export function readTarGz(archive: Buffer): ArchiveEntry[] {
  let tar: Buffer;
  try {
    tar = zlib.gunzipSync(archive);
  } catch (err) {
    throw new KrewRefusal(`failed to create gzip reader: ${(err as Error).message}`, TAR);
  }
  const out: ArchiveEntry[] = [];
  let pax = new Map<string, string>();
  let longName = '';
  for (let at = 0; ;) {
    if (at >= tar.length) break; // io.EOF at a block boundary: the end
    if (at + BLOCK > tar.length) throw new KrewRefusal('tar extraction error: unexpected EOF', TAR);
    const h = tar.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) {
      const next = tar.subarray(at + BLOCK, at + 2 * BLOCK);
      if (next.length === 0 || next.every((b) => b === 0)) break;
      throw new KrewRefusal('tar extraction error: archive/tar: invalid header', TAR);
    }
    if (!checksumOk(h)) throw new KrewRefusal('tar extraction error: archive/tar: invalid header', TAR);
    const magic = h.toString('latin1', 257, 263);
    const version = h.toString('latin1', 263, 265);
    const ustar = magic === 'ustar\0' && version === '00';
    const prefix = ustar ? cString(h, 345, 155) : '';
    let name = (prefix ? `${prefix}/` : '') + cString(h, 0, 100);
    let typeflag = String.fromCharCode(h[156]!);
    let size = numeric(h, 124, 12);
    const mode = numeric(h, 100, 8);
    const dataAt = at + BLOCK;
    const body = () => Buffer.from(tar.subarray(dataAt, dataAt + size));
    if (typeflag === 'x' || typeflag === 'g') {
      const records = paxRecords(body());
      at = dataAt + Math.ceil(size / BLOCK) * BLOCK;
      if (typeflag === 'g') {
        out.push({ name, type: 'other', typeflag, mode: 0, data: Buffer.alloc(0) });
        continue;
      }
      pax = records;
      continue;
    }
    if (typeflag === 'L') {
      longName = cString(body(), 0, size);
      at = dataAt + Math.ceil(size / BLOCK) * BLOCK;
      continue;
    }
    if (pax.has('path')) name = pax.get('path')!;
    if (pax.has('size')) size = Number(pax.get('size'));
    if (longName) name = longName;
    if (typeflag === '\0') typeflag = name.endsWith('/') ? '5' : '0';
    const type = typeflag === '0' ? 'file' : typeflag === '5' ? 'dir' : typeflag === '2' ? 'symlink' : 'other';
    if (!HEADER_ONLY.has(typeflag) && dataAt + size > tar.length) throw new KrewRefusal('tar extraction error: unexpected EOF', TAR);
    const data = HEADER_ONLY.has(typeflag) ? Buffer.alloc(0) : body();
    out.push({ name, type, typeflag, mode: mode & 0o7777, data });
    at = dataAt + (HEADER_ONLY.has(typeflag) ? 0 : Math.ceil(size / BLOCK) * BLOCK);
    pax = new Map();
    longName = '';
  }
  return out;
}

const CREATOR_FAT = 0;
const CREATOR_UNIX = 3;
const CREATOR_NTFS = 11;
const CREATOR_VFAT = 14;
const CREATOR_MACOSX = 19;

/** archive/zip through the end of central directory record, with FileHeader.Mode()'s rules. */
export function readZip(archive: Buffer): ArchiveEntry[] {
  const endAt = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0) throw new KrewRefusal('failed to extract file: zip: not a valid zip file', ZIP);
  const count = archive.readUInt16LE(endAt + 10);
  let at = archive.readUInt32LE(endAt + 16);
  const out: ArchiveEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > archive.length || archive.readUInt32LE(at) !== 0x02014b50) throw new KrewRefusal('failed to extract file: zip: not a valid zip file', ZIP);
    const creator = archive.readUInt16LE(at + 4) >> 8;
    const method = archive.readUInt16LE(at + 10);
    const packedSize = archive.readUInt32LE(at + 20);
    const nameLen = archive.readUInt16LE(at + 28);
    const extraLen = archive.readUInt16LE(at + 30);
    const commentLen = archive.readUInt16LE(at + 32);
    const external = archive.readUInt32LE(at + 38);
    const localAt = archive.readUInt32LE(at + 42);
    const name = archive.toString('utf8', at + 46, at + 46 + nameLen);
    let perm = 0;
    let fileType = 0o100000;
    if (creator === CREATOR_UNIX || creator === CREATOR_MACOSX) {
      perm = (external >>> 16) & 0o7777;
      fileType = (external >>> 16) & 0o170000;
    } else if (creator === CREATOR_NTFS || creator === CREATOR_VFAT || creator === CREATOR_FAT) {
      const dos = external & 0xff;
      fileType = dos & 0x10 ? 0o040000 : 0o100000;
      perm = dos & 0x10 ? 0o777 : 0o666;
      if (dos & 0x01) perm &= ~0o222;
    }
    const type = name.endsWith('/') || fileType === 0o040000 ? 'dir' : fileType === 0o120000 ? 'symlink' : fileType === 0o100000 || fileType === 0 ? 'file' : 'other';
    let data = Buffer.alloc(0);
    if (type !== 'dir') {
      const dataAt = localAt + 30 + archive.readUInt16LE(localAt + 26) + archive.readUInt16LE(localAt + 28);
      const packed = archive.subarray(dataAt, dataAt + packedSize);
      if (method === 8) data = zlib.inflateRawSync(packed);
      else if (method === 0) data = Buffer.from(packed);
      else throw new KrewRefusal(`failed to extract file: zip: unsupported compression algorithm ${method} for ${name}`, ZIP);
    }
    out.push({ name, type, mode: perm, data });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** downloader.go suspiciousPath: any "..", even inside a name, and a leading / or \ are refused. */
export function suspiciousPath(name: string): string | undefined {
  if (name.includes('..')) return `refusing to unpack archive with suspicious entry ${JSON.stringify(name)}`;
  if (name.startsWith('/') || name.startsWith('\\')) return `refusing to unpack archive with absolute entry ${JSON.stringify(name)}`;
  return undefined;
}

/**
 * downloader.go extractArchive up to the files it would write: the sniffed type picks the reader; tar
 * skips only an entry named pax_global_header and refuses every type but Dir and Reg; zip keeps all.
 */
export function krewExtract(archive: Buffer): { mime: string; entries: ArchiveEntry[] } {
  const mime = krewArchiveType(archive);
  if (mime !== 'application/zip' && mime !== 'application/x-gzip')
    throw new KrewRefusal(`mime type ${JSON.stringify(mime)} for archive file is not a supported archive format`, DOWNLOAD);
  const entries: ArchiveEntry[] = [];
  for (const e of mime === 'application/zip' ? readZip(archive) : readTarGz(archive)) {
    if (mime === 'application/x-gzip' && e.name === 'pax_global_header') continue;
    const suspicious = suspiciousPath(e.name);
    if (suspicious) throw new KrewRefusal(suspicious, DOWNLOAD);
    if (mime === 'application/x-gzip' && e.type !== 'file' && e.type !== 'dir')
      throw new KrewRefusal(`unable to handle file type ${e.typeflag ?? '?'} for ${JSON.stringify(e.name)} in tar`, DOWNLOAD);
    entries.push(e);
  }
  return { mime, entries };
}
