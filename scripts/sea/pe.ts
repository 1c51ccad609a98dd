// Windows PE handling: node.exe carries an Authenticode signature that injecting the SEA blob breaks.
// A broken signature is worse than none (SmartScreen and AppLocker report tampering), so it is removed
// before injection, and the optional-header checksum is recomputed afterwards.

const SECURITY_DIRECTORY = 4;

interface PeLayout {
  /** Offset of the optional header. */
  opt: number;
  checksumAt: number;
  /** Offset of the security data directory entry (file offset + size of the certificate table). */
  securityAt: number;
}

function layout(buf: Buffer): PeLayout {
  if (buf.toString('latin1', 0, 2) !== 'MZ') throw new Error('not a PE file (no MZ header)');
  const pe = buf.readUInt32LE(0x3c);
  if (buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error('not a PE file (no PE signature)');
  const opt = pe + 24;
  const magic = buf.readUInt16LE(opt);
  if (magic !== 0x20b) throw new Error(`expected a PE32+ optional header, found magic ${magic.toString(16)}`);
  const numberOfRvaAndSizes = buf.readUInt32LE(opt + 108);
  if (numberOfRvaAndSizes <= SECURITY_DIRECTORY) throw new Error('no security data directory');
  return { opt, checksumAt: opt + 64, securityAt: opt + 112 + SECURITY_DIRECTORY * 8 };
}

export function certificateTable(buf: Buffer): { offset: number; size: number } {
  const l = layout(buf);
  return { offset: buf.readUInt32LE(l.securityAt), size: buf.readUInt32LE(l.securityAt + 4) };
}

/** The file without its Authenticode certificate table (it must be the file's tail, as signtool writes it). */
export function removeAuthenticode(input: Buffer): Buffer {
  const l = layout(input);
  const { offset, size } = certificateTable(input);
  if (offset === 0 && size === 0) return Buffer.from(input);
  if (offset + size < input.length - 7 || offset + size > input.length) throw new Error('certificate table is not at the end of the file');
  const out = Buffer.from(input.subarray(0, offset));
  out.writeUInt32LE(0, l.securityAt);
  out.writeUInt32LE(0, l.securityAt + 4);
  return withChecksum(out);
}

/** The PE image checksum (the algorithm of imagehlp's CheckSumMappedFile): 16-bit one's-complement sum plus length. */
export function peChecksum(buf: Buffer): number {
  const { checksumAt } = layout(buf);
  let sum = 0;
  const even = buf.length & ~1;
  for (let i = 0; i < even; i += 2) {
    if (i === checksumAt || i === checksumAt + 2) continue;
    sum += buf.readUInt16LE(i);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (buf.length & 1) {
    sum += buf[buf.length - 1]!;
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + buf.length) >>> 0;
}

export function withChecksum(buf: Buffer): Buffer {
  buf.writeUInt32LE(peChecksum(buf), layout(buf).checksumAt);
  return buf;
}
