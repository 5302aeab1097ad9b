// Tests of frame encoding and stream reassembly: split at every byte boundary, coalesced frames,
// zero-length payloads, flags, and the maximum frame size.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProtocolError } from "./errors.ts";
import { FrameDecoder, FRAME_HEADER_SIZE, encodeFrame, writeFrameHeader, type Frame } from "./frame.ts";

const simple = (frames: Frame[]) => frames.map((f) => ({ type: f.type, flags: f.flags, payload: f.payload.toString("hex") }));

const frames = [
  { type: 0x0000, flags: 0, payload: Buffer.from("0a18" + "11".repeat(24), "hex") },
  { type: 0x0400, flags: 0, payload: Buffer.from("7203") },
  { type: 0x0003, flags: 0, payload: Buffer.alloc(0) },
  { type: 0x0005, flags: 0x8000, payload: Buffer.from("0801720422563722", "hex") },
  { type: 0x0003, flags: 0, payload: Buffer.alloc(0) },
  { type: 0xfbff, flags: 0, payload: Buffer.alloc(300, 7) },
];
const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload, f.flags)));
const expected = simple(frames);

test("encodeFrame writes the 8-byte big-endian header then the payload", () => {
  assert.equal(encodeFrame(0x800c, Buffer.from("08012200", "hex")).toString("hex"), "800c00000000000408012200");
  assert.equal(encodeFrame(0x0005, Buffer.from([1]), 0x8000).toString("hex"), "00058000000000010" + "1");
  assert.throws(() => encodeFrame(0x10000, Buffer.alloc(0)), TypeError);
  assert.throws(() => encodeFrame(1, Buffer.alloc(0), -1), TypeError);
  const b = Buffer.alloc(10);
  writeFrameHeader(b, 2, 0x0401, 0x01020304, 0);
  assert.equal(b.toString("hex"), "00000401000001020304");
});

test("one chunk with many frames, including zero-length payloads", () => {
  const d = new FrameDecoder();
  assert.deepEqual(simple(d.push(stream)), expected);
  assert.equal(d.bufferedBytes, 0);
});

test("a stream split into two chunks at every byte boundary", () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder();
    const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.deepEqual(simple(out), expected, `cut at ${cut}`);
    assert.equal(d.bufferedBytes, 0);
  }
});

test("a stream fed one byte at a time", () => {
  const d = new FrameDecoder();
  const out: Frame[] = [];
  for (let i = 0; i < stream.length; i++) {
    out.push(...d.push(stream.subarray(i, i + 1)));
    assert.ok(d.bufferedBytes < 400);
  }
  assert.deepEqual(simple(out), expected);
  assert.equal(d.bufferedBytes, 0);
});

test("a stream split in three at every pair of boundaries (sampled)", () => {
  for (let a = 0; a <= stream.length; a += 3) {
    for (let b = a; b <= stream.length; b += 7) {
      const d = new FrameDecoder();
      const out = [...d.push(stream.subarray(0, a)), ...d.push(stream.subarray(a, b)), ...d.push(stream.subarray(b))];
      assert.deepEqual(simple(out), expected, `cuts at ${a}, ${b}`);
    }
  }
});

test("bufferedBytes counts incomplete data; empty chunks are no-ops", () => {
  const d = new FrameDecoder();
  assert.deepEqual(d.push(Buffer.alloc(0)), []);
  assert.deepEqual(d.push(stream.subarray(0, 5)), []);
  assert.equal(d.bufferedBytes, 5);
  const first = encodeFrame(frames[0]!.type, frames[0]!.payload).length;
  assert.equal(d.push(stream.subarray(5, first + 3)).length, 1);
  assert.equal(d.bufferedBytes, 3);
});

test("accepts plain Uint8Array chunks", () => {
  const d = new FrameDecoder();
  const u8 = new Uint8Array(stream);
  assert.deepEqual(simple(d.push(u8)), expected);
});

test("a frame above maxFrameSize throws ProtocolError as soon as its header is seen, and stays failed", () => {
  const d = new FrameDecoder({ maxFrameSize: 100 });
  assert.equal(d.push(encodeFrame(1, Buffer.alloc(100))).length, 1);
  const header = Buffer.alloc(FRAME_HEADER_SIZE);
  writeFrameHeader(header, 0, 0x0400, 101);
  assert.throws(() => d.push(header.subarray(0, 4)) && d.push(header.subarray(4)), ProtocolError);
  assert.throws(() => d.push(Buffer.alloc(1)), ProtocolError);
});

test("default max frame size accepts 32 MiB payloads and rejects 4 GiB declarations", () => {
  const d = new FrameDecoder();
  const header = Buffer.alloc(FRAME_HEADER_SIZE);
  writeFrameHeader(header, 0, 0x0400, 32 * 1024 * 1024);
  assert.deepEqual(d.push(header), []);
  const bad = new FrameDecoder();
  writeFrameHeader(header, 0, 0x0400, 0xffffffff);
  assert.throws(() => bad.push(header), ProtocolError);
});
