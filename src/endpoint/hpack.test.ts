// Tests of HPACK: the specification's examples (Huffman strings, a dynamic table across header blocks),
// malformed input, and the request encoder read back by the decoder. Decoding what a real encoder (Node's
// nghttp2) produces is covered by h2c.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HpackDecoder, HpackError, decodeHuffman, encodeHeaderBlock } from "./hpack.ts";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

test("Huffman strings of the specification's examples decode", () => {
  assert.equal(decodeHuffman(hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff")).toString(), "www.example.com");
  assert.equal(decodeHuffman(hex("a8eb 1064 9cbf")).toString(), "no-cache");
  assert.equal(decodeHuffman(hex("25a8 49e9 5ba9 7d7f")).toString(), "custom-key");
  assert.equal(decodeHuffman(hex("25a8 49e9 5bb8 e8b4 bf")).toString(), "custom-value");
  assert.equal(decodeHuffman(hex("6402")).toString(), "302");
  assert.equal(decodeHuffman(hex("")).toString(), "");
});

test("a Huffman string with bad padding, or the end-of-string code inside it, is refused", () => {
  assert.throws(() => decodeHuffman(hex("f1e3 c2e5 f23a 6ba0 ab90 f4fe")), HpackError); // padding not all ones
  assert.throws(() => decodeHuffman(hex("ff")), HpackError); // 8 bits of padding
  assert.throws(() => decodeHuffman(hex("ffff ffff")), HpackError); // EOS
});

test("header blocks sharing a dynamic table decode in order (the specification's request examples, with Huffman)", () => {
  const d = new HpackDecoder(4096);
  assert.deepEqual(d.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")), [
    [":method", "GET"],
    [":scheme", "http"],
    [":path", "/"],
    [":authority", "www.example.com"],
  ]);
  assert.deepEqual(d.decode(hex("8286 84be 5886 a8eb 1064 9cbf")), [
    [":method", "GET"],
    [":scheme", "http"],
    [":path", "/"],
    [":authority", "www.example.com"],
    ["cache-control", "no-cache"],
  ]);
  assert.deepEqual(d.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")), [
    [":method", "GET"],
    [":scheme", "https"],
    [":path", "/index.html"],
    [":authority", "www.example.com"],
    ["custom-key", "custom-value"],
  ]);
});

test("the dynamic table evicts the oldest entries beyond its size, and size updates above the limit are refused", () => {
  const d = new HpackDecoder(64);
  // literal with incremental indexing, new name: "aaaa" -> "b" x 20 (entry size 4 + 20 + 32 = 56)
  const entry = (name: string, value: string) => Buffer.concat([Buffer.from([0x40, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
  d.decode(entry("aaaa", "b".repeat(20)));
  assert.deepEqual(d.decode(hex("be")), [["aaaa", "b".repeat(20)]]);
  d.decode(entry("cccc", "d".repeat(20))); // evicts the first
  assert.deepEqual(d.decode(hex("be")), [["cccc", "d".repeat(20)]]);
  assert.throws(() => d.decode(hex("bf")), HpackError);
  assert.throws(() => d.decode(hex("3f 22")), HpackError); // size update to 65 > 64
  d.decode(hex("20")); // size update to 0 empties the table
  assert.throws(() => d.decode(hex("be")), HpackError);
});

test("malformed blocks are refused", () => {
  const d = new HpackDecoder(4096);
  assert.throws(() => d.decode(hex("80")), HpackError); // index 0
  assert.throws(() => d.decode(hex("ff ff ff ff ff 0f")), HpackError); // integer overflow
  assert.throws(() => d.decode(hex("00 05 61")), HpackError); // truncated name
});

test("request header blocks (literals, long values) read back unchanged", () => {
  const headers: Array<[string, string]> = [
    [":method", "POST"],
    [":path", "/invoke/Svc/handler"],
    ["content-type", "application/vnd.restate.invocation.v5"],
    ["x-long", "v".repeat(127)],
    ["x-longer", "w".repeat(70_000)],
    ["x-empty", ""],
  ];
  assert.deepEqual(new HpackDecoder(4096).decode(encodeHeaderBlock(headers)), headers);
});
