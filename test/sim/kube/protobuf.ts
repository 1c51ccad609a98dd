// kubectl 1.32+ sends SelfSubjectAccessReview as protobuf: the magic "k8s\0", then a
// runtime.Unknown {typeMeta=1, raw=2, contentEncoding=3, contentType=4} whose raw bytes are the
// object. Only the few fields a self access review needs are decoded; replies stay JSON.

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { num: number; wire: number; value: bigint | Buffer };

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('protobuf: truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [result, pos];
    shift += 7n;
  }
}

/** Splits one message into its top-level fields (repeated fields appear several times). */
export function decodeFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const num = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      fields.push({ num, wire, value: v });
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      const end = p2 + Number(len);
      if (end > buf.length) throw new Error('protobuf: truncated field');
      fields.push({ num, wire, value: buf.subarray(p2, end) });
      pos = end;
    } else if (wire === 1) {
      fields.push({ num, wire, value: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === 5) {
      fields.push({ num, wire, value: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else {
      throw new Error(`protobuf: unsupported wire type ${wire}`);
    }
  }
  return fields;
}

const bytesOf = (fields: Field[], num: number): Buffer | undefined => {
  const f = fields.find((x) => x.num === num && x.wire === 2);
  return f ? (f.value as Buffer) : undefined;
};
const stringOf = (fields: Field[], num: number): string | undefined => bytesOf(fields, num)?.toString('utf8');

export interface UnknownEnvelope {
  apiVersion?: string;
  kind?: string;
  raw: Buffer;
}

export function decodeEnvelope(body: Buffer): UnknownEnvelope {
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) throw new Error('protobuf: missing k8s magic prefix');
  const unknown = decodeFields(body.subarray(4));
  const typeMeta = decodeFields(bytesOf(unknown, 1) ?? Buffer.alloc(0));
  const env: UnknownEnvelope = { raw: bytesOf(unknown, 2) ?? Buffer.alloc(0) };
  const apiVersion = stringOf(typeMeta, 1);
  const kind = stringOf(typeMeta, 2);
  if (apiVersion !== undefined) env.apiVersion = apiVersion;
  if (kind !== undefined) env.kind = kind;
  return env;
}

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

function strings<T extends string>(fields: Field[], names: Record<number, T>): Partial<Record<T, string>> {
  const out: Partial<Record<T, string>> = {};
  for (const [num, key] of Object.entries(names) as Array<[string, T]>) {
    const v = stringOf(fields, Number(num));
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** The spec of a SelfSubjectAccessReview {metadata=1, spec=2, status=3} as the JSON form has it. */
export function decodeSelfSubjectAccessReview(body: Buffer): {
  apiVersion?: string;
  kind?: string;
  spec: { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: NonResourceAttributes };
} {
  const env = decodeEnvelope(body);
  const review = decodeFields(env.raw);
  const spec = decodeFields(bytesOf(review, 2) ?? Buffer.alloc(0));
  const out: ReturnType<typeof decodeSelfSubjectAccessReview> = { spec: {} };
  if (env.apiVersion) out.apiVersion = env.apiVersion;
  if (env.kind) out.kind = env.kind;
  const ra = bytesOf(spec, 1);
  if (ra) {
    out.spec.resourceAttributes = strings(decodeFields(ra), {
      1: 'namespace',
      2: 'verb',
      3: 'group',
      4: 'version',
      5: 'resource',
      6: 'subresource',
      7: 'name',
    } as const);
  }
  const nra = bytesOf(spec, 2);
  if (nra) out.spec.nonResourceAttributes = strings(decodeFields(nra), { 1: 'path', 2: 'verb' } as const);
  return out;
}

/** Encoder for tests: the same envelope kubectl builds. */
export function encodeSelfSubjectAccessReview(ra: ResourceAttributes): Buffer {
  const field = (num: number, payload: Buffer) => Buffer.concat([varint((num << 3) | 2), varint(payload.length), payload]);
  const str = (num: number, s: string | undefined) => (s === undefined ? Buffer.alloc(0) : field(num, Buffer.from(s)));
  const attrs = Buffer.concat([str(1, ra.namespace), str(2, ra.verb), str(3, ra.group), str(4, ra.version), str(5, ra.resource), str(6, ra.subresource), str(7, ra.name)]);
  const review = Buffer.concat([field(1, Buffer.alloc(0)), field(2, field(1, attrs))]);
  const typeMeta = Buffer.concat([str(1, 'authorization.k8s.io/v1'), str(2, 'SelfSubjectAccessReview')]);
  return Buffer.concat([PROTOBUF_MAGIC, field(1, typeMeta), field(2, review), str(3, ''), str(4, '')]);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    bytes.push(b);
  } while (n);
  return Buffer.from(bytes);
}
