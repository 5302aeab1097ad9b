// Tests of the hand-written protobuf wire codec: varints at their boundaries, nested forks, strings,
// packed/unpacked repeated fields, unknown-field skipping, and every malformed-input error path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProtocolError } from "./errors.ts";
import { MAX_NESTING_DEPTH, ProtoReader, ProtoWriter, WireType, encodeWith, varint32Size } from "./proto-wire.ts";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

function nextField(r: ProtoReader, field: number): void {
  assert.ok(r.next());
  assert.equal(r.field, field);
}

function readOne<T>(bytes: Uint8Array, read: (r: ProtoReader) => T): T {
  const r = new ProtoReader(bytes);
  assert.ok(r.next());
  const v = read(r);
  assert.equal(r.next(), false);
  return v;
}

test("uint32 varints round trip at every size boundary", () => {
  for (const v of [0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455, 268435456, 0xffffffff]) {
    const bytes = new ProtoWriter().uint32(1, v).finish();
    assert.equal(bytes.length, 1 + varint32Size(v));
    assert.equal(readOne(bytes, (r) => r.uint32()), v);
  }
  assert.equal(new ProtoWriter().uint32(1, 300).finish().toString("hex"), "08ac02");
});

test("uint64 varints: number and bigint, exact bigint and number reads", () => {
  const cases: Array<[number | bigint, bigint]> = [
    [0, 0n],
    [0xffffffff, 0xffffffffn],
    [0x100000000, 0x100000000n],
    [1795844549162, 1795844549162n],
    [Number.MAX_SAFE_INTEGER, 9007199254740991n],
    [9593312515145053547n, 9593312515145053547n],
    [0xffffffffffffffffn, 0xffffffffffffffffn],
    [-1n, 0xffffffffffffffffn],
  ];
  for (const [input, expected] of cases) {
    const bytes = new ProtoWriter().uint64(1, input).finish();
    assert.equal(readOne(bytes, (r) => r.uint64()), expected, `value ${input}`);
    assert.equal(readOne(bytes, (r) => r.uint64Number()), Number(expected));
  }
  assert.equal(new ProtoWriter().uint64(1, 0xffffffffffffffffn).finish().toString("hex"), "08ffffffffffffffffff01");
  assert.throws(() => new ProtoWriter().uint64(1, -1), TypeError);
  assert.throws(() => new ProtoWriter().uint64(1, 1.5), TypeError);
});

test("uint32 read of a 10-byte negative int32 keeps the low 32 bits", () => {
  assert.equal(readOne(hex("08ffffffffffffffffff01"), (r) => r.uint32()), 0xffffffff);
});

test("bool, string (utf-8), bytes, fixed32/fixed64", () => {
  const w = new ProtoWriter(16);
  w.bool(1, true).bool(2, false).string(3, "héllo ✓").bytes(4, Buffer.from([1, 2, 3])).fixed32(5, 7).fixed64(6, 9n);
  const r = new ProtoReader(w.finish());
  const seen: unknown[] = [];
  while (r.next()) {
    if (r.field === 1 || r.field === 2) seen.push(r.bool());
    else if (r.field === 3) seen.push(r.string());
    else if (r.field === 4) seen.push([...r.bytes()]);
    else r.skip();
  }
  assert.deepEqual(seen, [true, false, "héllo ✓", [1, 2, 3]]);
});

test("bytes() is a zero-copy view of the input", () => {
  const input = hex("0a03010203");
  const view = readOne(input, (r) => r.bytes());
  input[2] = 9;
  assert.equal(view[0], 9);
});

test("fork/join back-patches lengths of every size, nested", () => {
  for (const size of [0, 1, 127, 128, 16383, 16384, 300000]) {
    const body = Buffer.alloc(size, 0xab);
    const w = new ProtoWriter(8);
    w.fork(1).fork(2).bytes(3, body).join().uint32(4, 5).join().uint32(5, 6);
    const r = new ProtoReader(w.finish());
    nextField(r, 1);
    const outer = r.message();
    nextField(outer, 2);
    const inner = outer.message();
    nextField(inner, 3);
    assert.deepEqual(inner.bytes(), body);
    assert.equal(inner.next(), false);
    nextField(outer, 4);
    assert.equal(outer.uint32(), 5);
    assert.equal(outer.next(), false);
    nextField(r, 5);
    assert.equal(r.uint32(), 6);
    assert.equal(r.next(), false);
  }
});

test("enter/leave iterates a nested message without a new reader", () => {
  const bytes = new ProtoWriter().fork(1).uint32(1, 42).string(2, "x").join().uint32(2, 7).finish();
  const r = new ProtoReader(bytes);
  assert.ok(r.next());
  const token = r.enter();
  const inner: unknown[] = [];
  while (r.next()) inner.push(r.field === 1 ? r.uint32() : r.string());
  r.leave(token);
  assert.deepEqual(inner, [42, "x"]);
  assert.ok(r.next());
  assert.equal(r.uint32(), 7);
  assert.equal(r.next(), false);
});

test("repeated uint32: packed, unpacked, and mixed", () => {
  const packed = new ProtoWriter().packedUint32(1, [1, 300, 0xffffffff]).finish();
  const unpacked = new ProtoWriter().uint32(1, 1).uint32(1, 300).uint32(1, 0xffffffff).finish();
  const mixed = Buffer.concat([new ProtoWriter().uint32(1, 1).finish(), new ProtoWriter().packedUint32(1, [300, 0xffffffff]).finish()]);
  for (const bytes of [packed, unpacked, mixed]) {
    const out: number[] = [];
    const r = new ProtoReader(bytes);
    while (r.next()) r.repeatedUint32(out);
    assert.deepEqual(out, [1, 300, 0xffffffff]);
  }
  assert.equal(new ProtoWriter().packedUint32(1, []).finish().length, 0);
});

test("unknown fields of wire types 0, 1, 2 and 5 are skipped", () => {
  const w = new ProtoWriter();
  w.uint64(20, 0xffffffffffffffffn).fixed64(21, 1n).bytes(22, Buffer.alloc(200)).fixed32(23, 1).uint32(1, 99);
  const r = new ProtoReader(w.finish());
  let found = -1;
  while (r.next()) {
    if (r.field === 1) found = r.uint32();
    else r.skip();
  }
  assert.equal(found, 99);
});

test("large field numbers round trip", () => {
  const bytes = new ProtoWriter().uint32(0x1fffffff, 1).finish();
  const r = new ProtoReader(bytes);
  assert.ok(r.next());
  assert.equal(r.field, 0x1fffffff);
  assert.throws(() => new ProtoWriter().uint32(0, 1), TypeError);
});

test("malformed inputs throw ProtocolError", () => {
  const cases: Array<[string, string, (r: ProtoReader) => void]> = [
    ["truncated tag varint", "80", (r) => void r.next()],
    ["truncated value varint", "0880", (r) => (r.next(), r.uint32())],
    ["truncated 64-bit varint", "08ffff", (r) => (r.next(), r.uint64())],
    ["varint longer than 10 bytes", "08ffffffffffffffffffff01", (r) => (r.next(), r.uint64())],
    ["varint longer than 10 bytes (uint32)", "08ffffffffffffffffffff01", (r) => (r.next(), r.uint32())],
    ["field number 0", "0001", (r) => void r.next()],
    ["start group", "0b", (r) => void r.next()],
    ["end group", "0c", (r) => void r.next()],
    ["wire type 6", "0e", (r) => void r.next()],
    ["wire type 7", "0f", (r) => void r.next()],
    ["length past end", "0a05010203", (r) => (r.next(), r.bytes())],
    ["huge length", "0affffffff0f01", (r) => (r.next(), r.bytes())],
    ["64-bit length", "0a8080808010", (r) => (r.next(), r.bytes())],
    ["string past end", "0a0361", (r) => (r.next(), r.string())],
    ["skip fixed64 past end", "a9010102", (r) => (r.next(), r.skip())],
    ["skip fixed32 past end", "ad0101", (r) => (r.next(), r.skip())],
    ["skip length past end", "aa010501", (r) => (r.next(), r.skip())],
    ["packed past end", "0a050101", (r) => (r.next(), r.repeatedUint32([]))],
    ["packed element truncated", "0a0180", (r) => (r.next(), r.repeatedUint32([]))],
    ["wrong wire type: varint read on LEN", "0a0101", (r) => (r.next(), r.uint32())],
    ["wrong wire type: bytes read on varint", "0801", (r) => (r.next(), r.bytes())],
    ["wrong wire type: message on varint", "0801", (r) => (r.next(), r.message())],
    ["wrong wire type: repeated on fixed32", "0d01020304", (r) => (r.next(), r.repeatedUint32([]))],
  ];
  for (const [name, bytes, run] of cases) {
    assert.throws(() => run(new ProtoReader(hex(bytes))), ProtocolError, name);
  }
});

test("nesting deeper than MAX_NESTING_DEPTH is rejected", () => {
  const build = (depth: number): Buffer => {
    const w = new ProtoWriter();
    for (let i = 0; i < depth; i++) w.fork(1);
    for (let i = 0; i < depth; i++) w.join();
    return w.finish();
  };
  const descend = (bytes: Buffer): void => {
    let r = new ProtoReader(bytes);
    while (r.next()) r = r.message();
  };
  descend(build(MAX_NESTING_DEPTH));
  assert.throws(() => descend(build(MAX_NESTING_DEPTH + 1)), ProtocolError);
  const enterAll = (bytes: Buffer): void => {
    const r = new ProtoReader(bytes);
    while (r.next()) r.enter();
  };
  assert.throws(() => enterAll(build(MAX_NESTING_DEPTH + 1)), ProtocolError);
});

test("reader over a sub-range of a Uint8Array", () => {
  const u8 = new Uint8Array([0xff, 0x08, 0x05, 0xff]);
  const r = new ProtoReader(u8, 1, 3);
  assert.ok(r.next());
  assert.equal(r.wireType, WireType.Varint);
  assert.equal(r.uint32(), 5);
  assert.equal(r.next(), false);
});

test("encodeWith reuses a writer and is re-entrant", () => {
  const a = encodeWith((w) => {
    w.uint32(1, 1);
    const inner = encodeWith((w2) => w2.uint32(2, 2));
    w.bytes(3, inner);
  });
  assert.equal(a.toString("hex"), "08011a021002");
  const b = encodeWith((w) => w.uint32(1, 3));
  assert.equal(b.toString("hex"), "0803");
  assert.equal(a.toString("hex"), "08011a021002", "earlier result is not overwritten");
  const big = encodeWith((w) => w.bytes(1, Buffer.alloc(2 * 1024 * 1024)));
  assert.equal(big.length, 2 * 1024 * 1024 + 5);
  assert.throws(() => encodeWith(() => { throw new Error("boom"); }), /boom/);
  assert.equal(encodeWith((w) => w.uint32(1, 4)).toString("hex"), "0804");
});

test("writer misuse is a TypeError", () => {
  assert.throws(() => new ProtoWriter().join(), TypeError);
  assert.throws(() => new ProtoWriter().fork(1).finish(), TypeError);
});
