// Mach-O code signature handling for the darwin executables, with no Apple tools: injecting the SEA
// blob invalidates Node's own signature, and arm64 macOS kills any binary without a valid one. We strip
// the old signature before injection and write an ad-hoc one after: a SuperBlob holding a CodeDirectory
// (SHA-256 of every 4 KiB page up to the signature) and an empty requirements set, as `codesign -s -`
// does. verifyAdhocSignature() parses it back independently of the writer.
import { createHash } from 'node:crypto';

const MH_MAGIC_64 = 0xfeedfacf;
const MH_EXECUTE = 2;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const CPU_TYPE_ARM64 = 0x0100000c;

const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSMAGIC_REQUIREMENTS = 0xfade0c01;
const CSSLOT_CODEDIRECTORY = 0;
const CSSLOT_REQUIREMENTS = 2;
const CS_ADHOC = 0x2;
const CS_HASHTYPE_SHA256 = 2;
const CS_EXECSEG_MAIN_BINARY = 0x1;
/** CodeDirectory version with the exec-segment fields (what current codesign writes). */
const CD_VERSION = 0x20400;
const CD_HEADER_SIZE = 88;
const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;
const HASH_SIZE = 32;
const SPECIAL_SLOTS = 2; // -1 Info.plist (none: zeros), -2 requirements

interface LoadCommand {
  cmd: number;
  offset: number;
  size: number;
}

interface Segment {
  name: string;
  offset: number;
  vmsize: bigint;
  fileoff: bigint;
  filesize: bigint;
}

interface MachO {
  buf: Buffer;
  ncmds: number;
  sizeofcmds: number;
  cputype: number;
  filetype: number;
  commands: LoadCommand[];
  segments: Segment[];
  /** Smallest file offset of any section's contents: load commands must end before it. */
  firstSectionOffset: number;
}

function parse(buf: Buffer): MachO {
  if (buf.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a thin 64-bit little-endian Mach-O file');
  const cputype = buf.readInt32LE(4);
  const filetype = buf.readUInt32LE(12);
  const ncmds = buf.readUInt32LE(16);
  const sizeofcmds = buf.readUInt32LE(20);
  const commands: LoadCommand[] = [];
  const segments: Segment[] = [];
  let firstSectionOffset = buf.length;
  let at = 32;
  for (let i = 0; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(at);
    const size = buf.readUInt32LE(at + 4);
    commands.push({ cmd, offset: at, size });
    if (cmd === LC_SEGMENT_64) {
      const name = cString(buf, at + 8, 16);
      segments.push({ name, offset: at, vmsize: buf.readBigUInt64LE(at + 32), fileoff: buf.readBigUInt64LE(at + 40), filesize: buf.readBigUInt64LE(at + 48) });
      const nsects = buf.readUInt32LE(at + 64);
      for (let s = 0; s < nsects; s++) {
        const sect = at + 72 + s * 80;
        const offset = buf.readUInt32LE(sect + 48);
        const flags = buf.readUInt32LE(sect + 64);
        const zerofill = (flags & 0xff) === 0x1 || (flags & 0xff) === 0x0c || (flags & 0xff) === 0x12;
        if (offset > 0 && !zerofill) firstSectionOffset = Math.min(firstSectionOffset, offset);
      }
    }
    at += size;
  }
  return { buf, ncmds, sizeofcmds, cputype, filetype, commands, segments, firstSectionOffset };
}

function cString(buf: Buffer, at: number, max: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 || end > at + max ? at + max : end);
}

/** arm64 macOS maps 16 KiB pages; x86_64 4 KiB. */
const vmPage = (m: MachO) => (m.cputype === CPU_TYPE_ARM64 ? 0x4000n : 0x1000n);
const alignUp = (n: bigint, a: bigint) => ((n + a - 1n) / a) * a;

function linkedit(m: MachO): Segment {
  const s = m.segments.find((x) => x.name === '__LINKEDIT');
  if (!s) throw new Error('no __LINKEDIT segment');
  return s;
}

function setLinkeditEnd(m: MachO, end: bigint): void {
  const le = linkedit(m);
  const filesize = end - le.fileoff;
  m.buf.writeBigUInt64LE(filesize, le.offset + 48);
  m.buf.writeBigUInt64LE(alignUp(filesize, vmPage(m)), le.offset + 32);
}

/** The file without its code signature (what `codesign --remove-signature` leaves). */
export function removeSignature(input: Buffer): Buffer {
  const m = parse(Buffer.from(input));
  const lc = m.commands.find((c) => c.cmd === LC_CODE_SIGNATURE);
  if (!lc) return m.buf;
  const dataoff = m.buf.readUInt32LE(lc.offset + 8);
  const le = linkedit(m);
  if (BigInt(dataoff) < le.fileoff) throw new Error('code signature outside __LINKEDIT');
  // Drop the load command: later commands move up, the freed tail is zeroed.
  const cmdsEnd = 32 + m.sizeofcmds;
  m.buf.copy(m.buf, lc.offset, lc.offset + lc.size, cmdsEnd);
  m.buf.fill(0, cmdsEnd - lc.size, cmdsEnd);
  m.buf.writeUInt32LE(m.ncmds - 1, 16);
  m.buf.writeUInt32LE(m.sizeofcmds - lc.size, 20);
  const stripped = parse(m.buf.subarray(0, dataoff));
  setLinkeditEnd(stripped, BigInt(dataoff));
  return stripped.buf;
}

function be32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

/** Adds an ad-hoc signature to an unsigned MH_EXECUTE. */
export function signAdhoc(input: Buffer, identifier: string): Buffer {
  let m = parse(input);
  if (m.filetype !== MH_EXECUTE) throw new Error('not an executable');
  if (m.commands.some((c) => c.cmd === LC_CODE_SIGNATURE)) throw new Error('already signed; remove the signature first');
  const cmdsEnd = 32 + m.sizeofcmds;
  if (cmdsEnd + 16 > m.firstSectionOffset) throw new Error('no room for LC_CODE_SIGNATURE after the load commands');
  const le = linkedit(m);
  if (le.fileoff + le.filesize !== BigInt(input.length)) throw new Error('__LINKEDIT does not end the file');

  const codeLimit = Math.ceil(input.length / 16) * 16;
  const nCodeSlots = Math.ceil(codeLimit / PAGE);
  const ident = Buffer.from(`${identifier}\0`, 'utf8');
  const hashOffset = CD_HEADER_SIZE + ident.length + SPECIAL_SLOTS * HASH_SIZE;
  const cdLength = hashOffset + nCodeSlots * HASH_SIZE;
  const requirements = be32(CSMAGIC_REQUIREMENTS, 12, 0);
  const superHeader = 12 + 2 * 8;
  const sigLength = superHeader + cdLength + requirements.length;
  const datasize = Math.ceil(sigLength / 16) * 16;

  // Header and load commands first: they sit in page 0, which is hashed.
  const out = Buffer.alloc(codeLimit + datasize);
  input.copy(out);
  out.writeUInt32LE(LC_CODE_SIGNATURE, cmdsEnd);
  out.writeUInt32LE(16, cmdsEnd + 4);
  out.writeUInt32LE(codeLimit, cmdsEnd + 8);
  out.writeUInt32LE(datasize, cmdsEnd + 12);
  out.writeUInt32LE(m.ncmds + 1, 16);
  out.writeUInt32LE(m.sizeofcmds + 16, 20);
  m = parse(out);
  setLinkeditEnd(m, BigInt(out.length));

  const text = m.segments.find((s) => s.name === '__TEXT');
  if (!text) throw new Error('no __TEXT segment');
  const cd = Buffer.alloc(cdLength);
  be32(CSMAGIC_CODEDIRECTORY, cdLength, CD_VERSION, CS_ADHOC, hashOffset, CD_HEADER_SIZE, SPECIAL_SLOTS, nCodeSlots, codeLimit).copy(cd, 0);
  cd.writeUInt8(HASH_SIZE, 36);
  cd.writeUInt8(CS_HASHTYPE_SHA256, 37);
  cd.writeUInt8(0, 38); // platform
  cd.writeUInt8(PAGE_SHIFT, 39);
  // spare2, scatterOffset, teamOffset, spare3, codeLimit64: zero
  cd.writeBigUInt64BE(text.fileoff, 64); // execSegBase
  cd.writeBigUInt64BE(text.filesize, 72); // execSegLimit
  cd.writeBigUInt64BE(BigInt(CS_EXECSEG_MAIN_BINARY), 80);
  ident.copy(cd, CD_HEADER_SIZE);
  sha256(requirements).copy(cd, hashOffset - CSSLOT_REQUIREMENTS * HASH_SIZE);
  for (let i = 0; i < nCodeSlots; i++) sha256(out.subarray(i * PAGE, Math.min((i + 1) * PAGE, codeLimit))).copy(cd, hashOffset + i * HASH_SIZE);

  const sig = Buffer.concat([be32(CSMAGIC_EMBEDDED_SIGNATURE, sigLength, 2, CSSLOT_CODEDIRECTORY, superHeader, CSSLOT_REQUIREMENTS, superHeader + cdLength), cd, requirements]);
  sig.copy(out, codeLimit);
  return out;
}

export interface SignatureReport {
  identifier: string;
  flags: number;
  pages: number;
  codeLimit: number;
}

/** Parses the embedded signature back and checks every hash against the file; throws on any mismatch. */
export function verifyAdhocSignature(buf: Buffer): SignatureReport {
  const m = parse(buf);
  const lcs = m.commands.filter((c) => c.cmd === LC_CODE_SIGNATURE);
  if (lcs.length !== 1) throw new Error(`expected one LC_CODE_SIGNATURE, found ${lcs.length}`);
  const dataoff = buf.readUInt32LE(lcs[0]!.offset + 8);
  const datasize = buf.readUInt32LE(lcs[0]!.offset + 12);
  if (dataoff + datasize !== buf.length) throw new Error('signature does not end the file');
  const le = linkedit(m);
  if (le.fileoff + le.filesize !== BigInt(buf.length)) throw new Error('__LINKEDIT does not cover the signature');
  if (le.vmsize < le.filesize) throw new Error('__LINKEDIT vmsize smaller than filesize');

  const sig = buf.subarray(dataoff);
  if (sig.readUInt32BE(0) !== CSMAGIC_EMBEDDED_SIGNATURE) throw new Error('bad SuperBlob magic');
  const count = sig.readUInt32BE(8);
  const blobs = new Map<number, number>();
  for (let i = 0; i < count; i++) blobs.set(sig.readUInt32BE(12 + i * 8), sig.readUInt32BE(16 + i * 8));
  const cdAt = blobs.get(CSSLOT_CODEDIRECTORY);
  if (cdAt === undefined) throw new Error('no CodeDirectory');
  const cd = sig.subarray(cdAt);
  if (cd.readUInt32BE(0) !== CSMAGIC_CODEDIRECTORY) throw new Error('bad CodeDirectory magic');
  const version = cd.readUInt32BE(8);
  const flags = cd.readUInt32BE(12);
  const hashOffset = cd.readUInt32BE(16);
  const identOffset = cd.readUInt32BE(20);
  const nSpecial = cd.readUInt32BE(24);
  const nCode = cd.readUInt32BE(28);
  const codeLimit = cd.readUInt32BE(32);
  const hashSize = cd.readUInt8(36);
  const hashType = cd.readUInt8(37);
  const pageSize = 1 << cd.readUInt8(39);
  if (version < 0x20400) throw new Error(`CodeDirectory version ${version.toString(16)} lacks exec segment fields`);
  if (!(flags & CS_ADHOC)) throw new Error('not an ad-hoc signature');
  if (hashType !== CS_HASHTYPE_SHA256 || hashSize !== 32) throw new Error('not SHA-256');
  if (codeLimit !== dataoff) throw new Error(`codeLimit ${codeLimit} is not the signature offset ${dataoff}`);
  if (nCode !== Math.ceil(codeLimit / pageSize)) throw new Error('page count does not cover codeLimit');
  const text = m.segments.find((s) => s.name === '__TEXT')!;
  if (cd.readBigUInt64BE(64) !== text.fileoff || cd.readBigUInt64BE(72) !== text.filesize) throw new Error('exec segment is not __TEXT');
  for (let i = 0; i < nCode; i++) {
    const want = cd.subarray(hashOffset + i * hashSize, hashOffset + (i + 1) * hashSize);
    const got = sha256(buf.subarray(i * pageSize, Math.min((i + 1) * pageSize, codeLimit)));
    if (!got.equals(want)) throw new Error(`page ${i} hash mismatch`);
  }
  const reqAt = blobs.get(CSSLOT_REQUIREMENTS);
  if (reqAt !== undefined && nSpecial >= CSSLOT_REQUIREMENTS) {
    const req = sig.subarray(reqAt, reqAt + sig.readUInt32BE(reqAt + 4));
    const want = cd.subarray(hashOffset - CSSLOT_REQUIREMENTS * hashSize, hashOffset - (CSSLOT_REQUIREMENTS - 1) * hashSize);
    if (!sha256(req).equals(want)) throw new Error('requirements hash mismatch');
  }
  return { identifier: cString(cd, identOffset, 256), flags, pages: nCode, codeLimit };
}

export function hasSignature(buf: Buffer): boolean {
  return parse(buf).commands.some((c) => c.cmd === LC_CODE_SIGNATURE);
}
