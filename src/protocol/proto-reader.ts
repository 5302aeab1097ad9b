// Protobuf wire-format reader: iterates fields of a payload without copying.
// Invariants:
// - ProtoReader never reads outside [start, end) of its buffer. Every malformed input (truncation, varint
//   longer than 10 bytes, field number 0, group / reserved wire types, wrong wire type for a typed read,
//   nesting deeper than MAX_NESTING_DEPTH, length past the end) throws ProtocolError.
// - next() sets `field` / `wireType` on the reader (no per-field object). bytes() returns a subarray of the
//   input (aliases it, no copy). Unknown fields are skipped with skip().
// - Repeated scalars are accepted both packed (wire type 2) and unpacked (wire type 0).
import { ProtocolError } from "./errors.ts";

export const WireType = { Varint: 0, I64: 1, Len: 2, StartGroup: 3, EndGroup: 4, I32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/** Deepest nesting of length-delimited messages a reader accepts (protobuf's usual recursion limit). */
export const MAX_NESTING_DEPTH = 100;

const TWO_POW_32 = 0x1_0000_0000;

/**
 * Runs a decoder over `payload`, turning any non-ProtocolError escaping it into a ProtocolError that names
 * the message (decoders are bounds-checked, this is a belt-and-braces guarantee for callers).
 */
export function decodeWith<T>(what: string, payload: Uint8Array, fn: (r: ProtoReader) => T): T {
  try {
    return fn(new ProtoReader(payload));
  } catch (err) {
    if (err instanceof ProtocolError) {
      err.message = `${what}: ${err.message}`;
      throw err;
    }
    throw new ProtocolError(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function truncated(): ProtocolError {
  return new ProtocolError("malformed protobuf: truncated message");
}

export class ProtoReader {
  readonly buf: Buffer;
  /** Read position. */
  pos: number;
  private end: number;
  private depth: number;
  /** Field number of the field most recently returned by next(). */
  field = 0;
  /** Wire type of the field most recently returned by next(). */
  wireType: number = 0;
  // Scratch halves of the last 64-bit varint (avoid allocating a pair).
  private lo = 0;
  private hi = 0;

  constructor(data: Uint8Array, start = 0, end = data.length, depth = 0) {
    this.buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (start < 0 || end > this.buf.length || start > end) throw new RangeError("ProtoReader: bad range");
    this.pos = start;
    this.end = end;
    this.depth = depth;
  }

  /** Advances to the next field; false at the end of the message. Sets `field` and `wireType`. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const key = this.readVarint32();
    const field = key >>> 3;
    const wireType = key & 7;
    if (field === 0) throw new ProtocolError("malformed protobuf: field number 0");
    if (wireType !== 0 && wireType !== 1 && wireType !== 2 && wireType !== 5) {
      throw new ProtocolError(`malformed protobuf: unsupported wire type ${wireType} (field ${field})`);
    }
    this.field = field;
    this.wireType = wireType;
    return true;
  }

  private expect(wireType: WireType): void {
    if (this.wireType !== wireType) {
      throw new ProtocolError(
        `malformed protobuf: field ${this.field} has wire type ${this.wireType}, expected ${wireType}`,
      );
    }
  }

  /** Reads a varint and returns its low 32 bits (proto3 uint32 semantics). */
  private readVarint32(limit = this.end): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos < limit) {
      const b = buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    let result = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= limit) throw truncated();
      const b = buf[pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return result >>> 0;
      }
    }
    throw new ProtocolError("malformed protobuf: varint longer than 10 bytes");
  }

  /** Reads a full 64-bit varint into this.lo / this.hi. */
  private readVarint64(): void {
    const buf = this.buf;
    const limit = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= limit) throw truncated();
      const b = buf[pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw new ProtocolError("malformed protobuf: varint longer than 10 bytes");
  }

  /** Reads a length prefix and checks that the body fits; returns the body's end offset. */
  private readLength(): number {
    this.readVarint64();
    if (this.hi !== 0 || this.lo > this.end - this.pos) throw truncated();
    return this.pos + this.lo;
  }

  uint32(): number {
    this.expect(WireType.Varint);
    return this.readVarint32();
  }

  /** uint64 as bigint (exact). */
  uint64(): bigint {
    this.expect(WireType.Varint);
    this.readVarint64();
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** uint64 as number (exact up to 2^53; larger values lose precision). For ms timestamps and delays. */
  uint64Number(): number {
    this.expect(WireType.Varint);
    this.readVarint64();
    return this.hi * TWO_POW_32 + this.lo;
  }

  bool(): boolean {
    this.expect(WireType.Varint);
    this.readVarint64();
    return this.lo !== 0 || this.hi !== 0;
  }

  /** Length-delimited field as a subarray of the input (no copy). */
  bytes(): Buffer {
    this.expect(WireType.Len);
    const end = this.readLength();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  string(): string {
    this.expect(WireType.Len);
    const end = this.readLength();
    const out = end === this.pos ? "" : this.buf.toString("utf8", this.pos, end);
    this.pos = end;
    return out;
  }

  /** A reader over the nested message in the current field (allocates a reader; see enter() for none). */
  message(): ProtoReader {
    this.expect(WireType.Len);
    if (this.depth + 1 > MAX_NESTING_DEPTH) throw new ProtocolError("malformed protobuf: nesting too deep");
    const end = this.readLength();
    const sub = new ProtoReader(this.buf, this.pos, end, this.depth + 1);
    this.pos = end;
    return sub;
  }

  /**
   * Enters the nested message in the current field without allocating: until leave(token), next() iterates
   * the nested message's fields. Returns the token to pass to leave().
   */
  enter(): number {
    this.expect(WireType.Len);
    if (this.depth + 1 > MAX_NESTING_DEPTH) throw new ProtocolError("malformed protobuf: nesting too deep");
    const end = this.readLength();
    const saved = this.end;
    this.end = end;
    this.depth++;
    return saved;
  }

  leave(token: number): void {
    this.pos = this.end;
    this.end = token;
    this.depth--;
  }

  /** Skips the current field's value (wire types 0, 1, 2, 5). */
  skip(): void {
    switch (this.wireType) {
      case WireType.Varint:
        this.readVarint64();
        return;
      case WireType.I64:
        if (this.end - this.pos < 8) throw truncated();
        this.pos += 8;
        return;
      case WireType.Len:
        this.pos = this.readLength();
        return;
      case WireType.I32:
        if (this.end - this.pos < 4) throw truncated();
        this.pos += 4;
        return;
      default:
        throw new ProtocolError(`malformed protobuf: cannot skip wire type ${this.wireType}`);
    }
  }

  /** Appends the current repeated-uint32 field to `out`, whether packed or not. */
  repeatedUint32(out: number[]): void {
    if (this.wireType === WireType.Varint) {
      out.push(this.readVarint32());
      return;
    }
    this.expect(WireType.Len);
    const end = this.readLength();
    while (this.pos < end) out.push(this.readVarint32(end));
  }
}
