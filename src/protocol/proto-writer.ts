// Protobuf wire-format writer: a growable buffer with typed field writers and in-place nested messages.
// Invariants:
// - ProtoWriter writes exactly what it is told (no default elision): message encoders decide which proto3
//   defaults to omit. Nested messages use fork()/join(), which back-patch the length in place (no copies
//   unless the body grows past 127 bytes, then one copyWithin).
// - Encoding-side misuse (bad field number, negative or non-integer uint64, unbalanced fork/join) throws
//   TypeError; it is a programmer error, not bad input.
// - encodeWith() hands out one shared writer (re-entrant: nested calls get a fresh one) and always returns a
//   fresh Buffer, so results never alias the writer.
import { WireType } from "./proto-reader.ts";

const MAX_FIELD_NUMBER = 0x1fffffff;
const TWO_POW_32 = 0x1_0000_0000;
const U64_MASK = 0xffff_ffff_ffff_ffffn;


/** Number of bytes the varint encoding of an unsigned 32-bit value takes. */
export function varint32Size(value: number): number {
  const v = value >>> 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x20_0000) return 3;
  if (v < 0x1000_0000) return 4;
  return 5;
}

function writeVarint32At(buf: Buffer, pos: number, value: number): number {
  let v = value >>> 0;
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

export class ProtoWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly forks: number[] = [];

  constructor(initialCapacity = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialCapacity));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Size of the currently allocated buffer. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Forget everything written (keeps the allocated buffer). */
  reset(): this {
    this.pos = 0;
    this.forks.length = 0;
    return this;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Raw varint of an unsigned 32-bit value (values are taken modulo 2^32). */
  varint32(value: number): this {
    this.ensure(5);
    this.pos = writeVarint32At(this.buf, this.pos, value);
    return this;
  }

  /** Raw varint of an unsigned 64-bit value: a non-negative safe integer, or a bigint (taken modulo 2^64). */
  varint64(value: number | bigint): this {
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new TypeError(`uint64 value must be a non-negative safe integer or a bigint, got ${value}`);
      }
      if (value < TWO_POW_32) return this.varint32(value);
      this.ensure(10);
      let v = value;
      while (v >= 0x80) {
        this.buf[this.pos++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buf[this.pos++] = v;
      return this;
    }
    let v = value & U64_MASK;
    if (v < 0x1_0000_0000n) return this.varint32(Number(v));
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
    return this;
  }

  tag(field: number, wireType: WireType): this {
    if (!Number.isInteger(field) || field < 1 || field > MAX_FIELD_NUMBER) {
      throw new TypeError(`invalid protobuf field number ${field}`);
    }
    return this.varint32(((field << 3) | wireType) >>> 0);
  }

  uint32(field: number, value: number): this {
    return this.tag(field, WireType.Varint).varint32(value);
  }

  uint64(field: number, value: number | bigint): this {
    return this.tag(field, WireType.Varint).varint64(value);
  }

  bool(field: number, value: boolean): this {
    return this.tag(field, WireType.Varint).varint32(value ? 1 : 0);
  }

  fixed64(field: number, value: bigint): this {
    this.tag(field, WireType.I64).ensure(8);
    this.buf.writeBigUInt64LE(value & U64_MASK, this.pos);
    this.pos += 8;
    return this;
  }

  fixed32(field: number, value: number): this {
    this.tag(field, WireType.I32).ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WireType.Len).varint32(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  string(field: number, value: string): this {
    const n = Buffer.byteLength(value, "utf8");
    this.tag(field, WireType.Len).varint32(n);
    this.ensure(n);
    this.pos += this.buf.write(value, this.pos, n, "utf8");
    return this;
  }

  /** A present-but-empty nested message (e.g. `Void{}`, or `Value{}` with empty content): tag + length 0. */
  emptyMessage(field: number): this {
    return this.tag(field, WireType.Len).varint32(0);
  }

  /** Packed repeated uint32 (nothing is written for an empty list, as proto3 does). */
  packedUint32(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    let size = 0;
    for (const v of values) size += varint32Size(v);
    this.tag(field, WireType.Len).varint32(size);
    for (const v of values) this.varint32(v);
    return this;
  }

  /** Starts a nested message in `field`; close it with join(). Forks nest. */
  fork(field: number): this {
    this.tag(field, WireType.Len).ensure(1);
    this.forks.push(this.pos);
    this.pos += 1; // one byte reserved for the length; join() widens it if needed
    return this;
  }

  join(): this {
    const start = this.forks.pop();
    if (start === undefined) throw new TypeError("ProtoWriter.join() without fork()");
    const len = this.pos - start - 1;
    const lenSize = varint32Size(len);
    if (lenSize > 1) {
      this.ensure(lenSize - 1);
      this.buf.copyWithin(start + lenSize, start + 1, this.pos);
      this.pos += lenSize - 1;
    }
    writeVarint32At(this.buf, start, len);
    return this;
  }

  /** A fresh Buffer with the bytes written so far (the writer may be reset and reused afterwards). */
  finish(): Buffer {
    if (this.forks.length !== 0) throw new TypeError("ProtoWriter.finish() with unjoined fork()");
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }
}

const SHARED_WRITER_MAX_RETAINED = 1024 * 1024;
let sharedWriter = new ProtoWriter(4096);
let sharedWriterBusy = false;

/**
 * Runs `fn` against a reset, reusable writer and returns a fresh Buffer with what it wrote. Re-entrant
 * (a nested call gets its own writer); a writer that grew past 1 MiB is not retained.
 */
export function encodeWith(fn: (w: ProtoWriter) => void): Buffer {
  if (sharedWriterBusy) {
    const w = new ProtoWriter();
    fn(w);
    return w.finish();
  }
  sharedWriterBusy = true;
  const w = sharedWriter.reset();
  try {
    fn(w);
    return w.finish();
  } finally {
    if (w.capacity > SHARED_WRITER_MAX_RETAINED) sharedWriter = new ProtoWriter(4096);
    sharedWriterBusy = false;
  }
}
