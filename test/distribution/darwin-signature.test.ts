// The darwin executables' ad-hoc code signatures, checked by a reader written apart from the signer
// (scripts/sea/macho.ts) from Apple's layout (xnu osfmk/kern/cs_blobs.h: SuperBlob, CodeDirectory, special
// slots). The reader is first held against Apple's own output: Node's official darwin binaries, signed by
// Apple's codesign, must verify page by page. Then the executables we ship: one ad-hoc SHA-256
// CodeDirectory whose every 4 KiB page hash, requirements hash, code limit and exec segment match the file.
// arm64 macOS kills a binary whose page does not match its hash; no Mac is needed to know one will not.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { findTarget, runtimeBinary, type Target } from '../../scripts/sea/runtime.js';
import { freshBinaries } from './built-binaries.js';

const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSSLOT_CODEDIRECTORY = 0;
const CSSLOT_ALTERNATE_CODEDIRECTORIES = 0x1000;
const CSSLOT_SIGNATURESLOT = 0x10000; // the CMS signature of a Developer ID (absent when ad hoc)
const CS_ADHOC = 0x2;
const HASHES: Record<number, { algorithm: string; size: number }> = {
  1: { algorithm: 'sha1', size: 20 },
  2: { algorithm: 'sha256', size: 32 },
  3: { algorithm: 'sha256', size: 20 }, // truncated
  4: { algorithm: 'sha384', size: 48 },
};

interface CodeDirectory {
  slot: number;
  version: number;
  flags: number;
  identifier: string;
  hashType: number;
  pageSize: number;
  codeLimit: number;
  codeSlots: number;
  /** Pages whose hash does not match the file. */
  badPages: number[];
  /** Special slots (1 Info.plist, 2 requirements, 5 entitlements, ...) whose blob is present, and whether its hash matches. */
  special: Map<number, boolean>;
  execSegBase?: bigint;
  execSegLimit?: bigint;
}

interface Signed {
  cputype: number;
  dataoff: number;
  datasize: number;
  segments: Map<string, { fileoff: bigint; filesize: bigint }>;
  blobTypes: number[];
  directories: CodeDirectory[];
}

/** Reads the embedded signature of a thin 64-bit Mach-O file and checks every hash it holds against the file. */
function readSignature(file: Buffer): Signed {
  assert.equal(file.readUInt32LE(0), 0xfeedfacf, 'a thin 64-bit Mach-O file');
  const cputype = file.readUInt32LE(4);
  const ncmds = file.readUInt32LE(16);
  const segments = new Map<string, { fileoff: bigint; filesize: bigint }>();
  let signature: { dataoff: number; datasize: number } | undefined;
  for (let i = 0, at = 32; i < ncmds; i++) {
    const cmd = file.readUInt32LE(at);
    const size = file.readUInt32LE(at + 4);
    if (cmd === LC_SEGMENT_64)
      segments.set(file.toString('latin1', at + 8, at + 24).replace(/\0+$/, ''), { fileoff: file.readBigUInt64LE(at + 40), filesize: file.readBigUInt64LE(at + 48) });
    if (cmd === LC_CODE_SIGNATURE) signature = { dataoff: file.readUInt32LE(at + 8), datasize: file.readUInt32LE(at + 12) };
    at += size;
  }
  assert.ok(signature, 'an LC_CODE_SIGNATURE load command');
  const { dataoff, datasize } = signature;
  const sig = file.subarray(dataoff, dataoff + datasize);
  assert.equal(sig.readUInt32BE(0), CSMAGIC_EMBEDDED_SIGNATURE, 'an embedded-signature SuperBlob');
  const index = Array.from({ length: sig.readUInt32BE(8) }, (_, i) => ({ type: sig.readUInt32BE(12 + i * 8), offset: sig.readUInt32BE(16 + i * 8) }));
  const blob = (offset: number) => sig.subarray(offset, offset + sig.readUInt32BE(offset + 4));
  const directories = index
    .filter((b) => b.type === CSSLOT_CODEDIRECTORY || (b.type >= CSSLOT_ALTERNATE_CODEDIRECTORIES && b.type < CSSLOT_ALTERNATE_CODEDIRECTORIES + 5))
    .map(({ type, offset }): CodeDirectory => {
      const cd = blob(offset);
      assert.equal(cd.readUInt32BE(0), CSMAGIC_CODEDIRECTORY);
      const version = cd.readUInt32BE(8);
      const hashOffset = cd.readUInt32BE(16);
      const identOffset = cd.readUInt32BE(20);
      const specialSlots = cd.readUInt32BE(24);
      const codeSlots = cd.readUInt32BE(28);
      const codeLimit = cd.readUInt32BE(32);
      const hashType = cd.readUInt8(37);
      const pageSize = 2 ** cd.readUInt8(39);
      const hash = HASHES[hashType];
      assert.ok(hash, `a known hash type, not ${hashType}`);
      assert.equal(cd.readUInt8(36), hash.size);
      const digest = (b: Buffer) => createHash(hash.algorithm).update(b).digest().subarray(0, hash.size);
      const stored = (slot: number) => cd.subarray(hashOffset + slot * hash.size, hashOffset + (slot + 1) * hash.size);
      const badPages: number[] = [];
      for (let p = 0; p < codeSlots; p++) if (!digest(file.subarray(p * pageSize, Math.min((p + 1) * pageSize, codeLimit))).equals(stored(p))) badPages.push(p);
      const special = new Map<number, boolean>();
      for (const b of index)
        if (b.type >= 1 && b.type <= specialSlots && b.type < CSSLOT_ALTERNATE_CODEDIRECTORIES) special.set(b.type, digest(blob(b.offset)).equals(stored(-b.type)));
      const end = cd.indexOf(0, identOffset);
      return {
        slot: type,
        version,
        flags: cd.readUInt32BE(12),
        identifier: cd.toString('utf8', identOffset, end),
        hashType,
        pageSize,
        codeLimit,
        codeSlots,
        badPages,
        special,
        ...(version >= 0x20400 ? { execSegBase: cd.readBigUInt64BE(64), execSegLimit: cd.readBigUInt64BE(72) } : {}),
      };
    });
  return { cputype, dataoff, datasize, segments, blobTypes: index.map((b) => b.type), directories };
}

const DARWIN: Array<[Target, number]> = [
  [findTarget('darwin-amd64'), 0x01000007],
  [findTarget('darwin-arm64'), 0x0100000c],
];

describe('darwin executables: code signatures verified page by page, by a reader apart from the signer', function () {
  this.timeout(300_000);
  let ours: string[];

  before(async () => {
    ours = (await freshBinaries(DARWIN.map(([t]) => t))).paths;
  });

  for (const [t, cputype] of DARWIN) {
    it(`reads Apple's own signature of Node ${t.nodeName} (codesign's output) and finds every hash right`, () => {
      const s = readSignature(fs.readFileSync(runtimeBinary(t)));
      assert.equal(s.cputype, cputype);
      assert.ok(s.blobTypes.includes(CSSLOT_SIGNATURESLOT), 'a Developer ID signature carries a CMS blob');
      assert.ok(s.directories.length >= 1);
      for (const cd of s.directories) {
        assert.equal(cd.flags & CS_ADHOC, 0, 'not ad hoc');
        assert.ok(cd.codeSlots > 1000, `${cd.codeSlots} pages`);
        assert.deepEqual(cd.badPages, [], `CodeDirectory in slot ${cd.slot}: pages whose hash differs`);
        assert.ok(cd.special.size > 0 && [...cd.special.values()].every(Boolean), `special slots all match: ${JSON.stringify([...cd.special])}`);
      }
    });
  }

  DARWIN.forEach(([t, cputype], i) => {
    it(`${t.os}-${t.arch}: one ad-hoc SHA-256 CodeDirectory over the whole file, every page hash right`, () => {
      const file = fs.readFileSync(ours[i]!);
      const s = readSignature(file);
      assert.equal(s.cputype, cputype);
      assert.equal(s.dataoff + s.datasize, file.length, 'the signature ends the file');
      const linkedit = s.segments.get('__LINKEDIT')!;
      assert.equal(linkedit.fileoff + linkedit.filesize, BigInt(file.length), '__LINKEDIT covers the signature');
      assert.ok(!s.blobTypes.includes(CSSLOT_SIGNATURESLOT), 'no CMS blob: ad hoc');
      assert.equal(s.directories.length, 1);
      const cd = s.directories[0]!;
      assert.equal(cd.identifier, 'kubectl-reccred');
      assert.ok(cd.flags & CS_ADHOC, 'CS_ADHOC');
      assert.equal(cd.hashType, 2, 'SHA-256');
      assert.equal(cd.pageSize, 4096);
      assert.equal(cd.codeLimit, s.dataoff, 'the code limit is where the signature starts');
      assert.equal(cd.codeSlots, Math.ceil(cd.codeLimit / 4096));
      assert.deepEqual(cd.badPages, []);
      assert.deepEqual([...cd.special], [[2, true]], 'the requirements blob, hashed in its special slot');
      const text = s.segments.get('__TEXT')!;
      assert.deepEqual([cd.execSegBase, cd.execSegLimit], [text.fileoff, text.filesize], 'the exec segment is __TEXT');
      // The reader can fail: one byte changed in page 5 is found.
      const at = 5 * 4096 + 17;
      file.writeUInt8(file.readUInt8(at) ^ 0xff, at);
      assert.deepEqual(readSignature(file).directories[0]!.badPages, [5]);
    });
  });
});
