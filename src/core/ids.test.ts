import { test } from "node:test";
import assert from "node:assert/strict";
import {
  InvalidIdError,
  MAX_PARTITION_KEY,
  deterministicInvocationId,
  encodeAwakeableId,
  encodeDeploymentId,
  encodeInvocationId,
  newInvocationId,
  parseAwakeableId,
  parseDeploymentId,
  parseInvocationId,
  partitionKeyForKey,
  partitionKeyOf,
  tryParseInvocationId,
} from "./ids.ts";

// Ids printed by the reference server.
const REAL_INVOCATION_IDS = [
  "inv_1aiqX0vFEFNH1Umgre58JiCLgHfTtztYK5",
  "inv_13AGENVCZA7z6nSEHoF5rF2yxcKwvpDpX5",
  "inv_12W0CEBesRZt2MmWY1ymnDibUP5k8LxHyy",
  "inv_1kSkFdNxLIek3NGuGVnxEM0EqYh0AgRSE6",
  "inv_1aqCWspGdMIA6zP1CNu8a5XzMtsA08UPz0",
  "inv_11p1X73lTrLy0T9xHmxPeU1aO0VL9HxriA",
];

function bytes(n: number, fill: (i: number) => number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => fill(i) & 0xff));
}

function assertInvalid(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => err instanceof InvalidIdError && err.message === message);
}

test("real invocation ids parse and format back to the same string", () => {
  for (const id of REAL_INVOCATION_IDS) {
    const raw = parseInvocationId(id);
    assert.equal(raw.length, 24);
    assert.equal(encodeInvocationId(raw), id);
  }
});

test("invocation id layout: partition key BE bytes then uuid, each base62 of the bytes read little-endian", () => {
  const raw = newInvocationId(1n, new Uint8Array(16));
  // Key bytes 00 00 00 00 00 00 00 01 read little-endian = 2^56 = base62 "05k1wlNFHb2".
  assert.equal(encodeInvocationId(raw), "inv_1" + "05k1wlNFHb2" + "0".repeat(22));
  assert.equal(encodeInvocationId(Buffer.alloc(24)), "inv_1" + "0".repeat(33));
  const first = Buffer.alloc(24);
  first[0] = 1;
  first[8] = 61;
  assert.equal(encodeInvocationId(first), "inv_1" + "00000000001" + "0".repeat(21) + "Z");
});

test("invocation id round trips bytes", () => {
  const samples = [
    Buffer.alloc(24),
    Buffer.alloc(24, 0xff),
    bytes(24, (i) => i * 37 + 11),
    newInvocationId(MAX_PARTITION_KEY, bytes(16, (i) => 255 - i)),
  ];
  for (const raw of samples) {
    const text = encodeInvocationId(raw);
    assert.equal(text.length, 38);
    assert.match(text, /^inv_1[0-9a-zA-Z]{33}$/);
    assert.deepEqual(parseInvocationId(text), raw);
  }
});

test("partition key is the first 8 bytes, big-endian", () => {
  const raw = newInvocationId(0x0102030405060708n, bytes(16, (i) => i));
  assert.equal(raw.subarray(0, 8).toString("hex"), "0102030405060708");
  assert.equal(raw.subarray(8).toString("hex"), "000102030405060708090a0b0c0d0e0f");
  assert.equal(partitionKeyOf(raw), 0x0102030405060708n);
  assert.equal(partitionKeyOf(parseInvocationId(encodeInvocationId(raw))), 0x0102030405060708n);
  assert.equal(partitionKeyOf(new Uint8Array(newInvocationId(MAX_PARTITION_KEY, new Uint8Array(16)))), MAX_PARTITION_KEY);
});

test("newInvocationId validates its arguments", () => {
  assert.throws(() => newInvocationId(-1n, new Uint8Array(16)), RangeError);
  assert.throws(() => newInvocationId(MAX_PARTITION_KEY + 1n, new Uint8Array(16)), RangeError);
  assert.throws(() => newInvocationId(0n, new Uint8Array(15)), RangeError);
  assert.throws(() => encodeInvocationId(new Uint8Array(23)), RangeError);
  assert.throws(() => partitionKeyOf(new Uint8Array(8)), RangeError);
});

test("malformed invocation ids are rejected with Restate's reasons", () => {
  const good = REAL_INVOCATION_IDS[0] ?? "";
  assertInvalid(() => parseInvocationId(""), "bad format");
  assertInvalid(() => parseInvocationId("abc"), "bad format");
  assertInvalid(() => parseInvocationId("foo_1aiqX0vFEFNH1Umgre58JiCLgHfTtztYK5"), "bad format");
  assertInvalid(() => parseInvocationId("dp_149C9ia9wAS9AYMwDmuUS09"), "id doesn't match the expected type");
  assertInvalid(() => parseInvocationId("INV_1aiqX0vFEFNH1Umgre58JiCLgHfTtztYK5"), "bad format");
  assertInvalid(() => parseInvocationId("inv_"), "bad length");
  assertInvalid(() => parseInvocationId("inv_1"), "bad length");
  assertInvalid(() => parseInvocationId("inv_2aiqX0vFEFNH1Umgre58JiCLgHfTtztYK5"), "unrecognized codec version");
  assertInvalid(() => parseInvocationId(good.slice(0, -1)), "bad length");
  assertInvalid(() => parseInvocationId(good + "0"), "bad length");
  assertInvalid(() => parseInvocationId(good.slice(0, -1) + "!"), "base62 decode error");
  assertInvalid(() => parseInvocationId(good.slice(0, -1) + "-"), "base62 decode error");
  assertInvalid(() => parseInvocationId(" " + good), "bad format");
  // 11 base62 digits can exceed 2^64 - 1, 22 digits can exceed 2^128 - 1.
  assertInvalid(() => parseInvocationId("inv_1" + "Z".repeat(11) + "0".repeat(22)), "base62 decode error");
  assertInvalid(() => parseInvocationId("inv_1" + "0".repeat(11) + "Z".repeat(22)), "base62 decode error");
  assert.equal(tryParseInvocationId("abc"), undefined);
  assert.ok(tryParseInvocationId(good));
});

test("the largest values still parse", () => {
  const max = Buffer.alloc(24, 0xff);
  const text = encodeInvocationId(max);
  assert.equal(text, "inv_1" + "lYGhA16ahyf" + "7N42dgm5tFLK9N8MT7fHC7");
  assert.deepEqual(parseInvocationId(text), max);
});

test("partitionKeyForKey is stable and spreads distinct keys", () => {
  assert.equal(partitionKeyForKey("k1"), partitionKeyForKey("k1"));
  assert.notEqual(partitionKeyForKey("k1"), partitionKeyForKey("k2"));
  assert.notEqual(partitionKeyForKey(""), partitionKeyForKey(" "));
  // Pinned: partition keys are persisted, so the hash must never change.
  assert.equal(partitionKeyForKey("k1"), 0x6ab9f1eb8f7d3388n);
  const keys = new Set<bigint>();
  for (let i = 0; i < 10_000; i++) keys.add(partitionKeyForKey(`key-${i}`));
  assert.equal(keys.size, 10_000);
  for (const key of ["", "k1", "ünïcödé", "🙂"]) {
    const pk = partitionKeyForKey(key);
    assert.ok(pk >= 0n && pk <= MAX_PARTITION_KEY);
  }
});

test("ids on the same key share the partition key and the 16-character prefix", () => {
  const pk = partitionKeyForKey("k1");
  const a = encodeInvocationId(newInvocationId(pk, bytes(16, (i) => i)));
  const b = encodeInvocationId(newInvocationId(pk, bytes(16, (i) => i * 7 + 3)));
  assert.notEqual(a, b);
  assert.equal(a.slice(0, 16), b.slice(0, 16));
  const c = encodeInvocationId(newInvocationId(partitionKeyForKey("k2"), bytes(16, (i) => i)));
  assert.notEqual(a.slice(0, 16), c.slice(0, 16));
});

test("deterministicInvocationId depends only on its inputs, unambiguously", () => {
  const pk = partitionKeyForKey("obj");
  const a = deterministicInvocationId(pk, ["Counter", "obj", "add", "idem-1"]);
  assert.deepEqual(a, deterministicInvocationId(pk, ["Counter", "obj", "add", "idem-1"]));
  assert.equal(partitionKeyOf(a), pk);
  assert.notDeepEqual(a, deterministicInvocationId(pk, ["Counter", "obj", "add", "idem-2"]));
  assert.notDeepEqual(a, deterministicInvocationId(pk, ["Counter", "obja", "dd", "idem-1"]));
  assert.notDeepEqual(a, deterministicInvocationId(pk, ["Counter", "obj", "add", "idem-1", ""]));
  assert.notDeepEqual(
    deterministicInvocationId(0n, ["ab", "c"]).subarray(8),
    deterministicInvocationId(0n, ["a", "bc"]).subarray(8),
  );
  // Same parts under another partition key: same uuid, different key.
  const other = deterministicInvocationId(pk + 1n, ["Counter", "obj", "add", "idem-1"]);
  assert.deepEqual(other.subarray(8), a.subarray(8));
  assert.equal(parseInvocationId(encodeInvocationId(a)).equals(a), true);
  // Pinned: ids of workflow runs and idempotent requests are persisted, so the derivation must never change.
  assert.equal(
    Buffer.from(deterministicInvocationId(7n, ["Wf", "wf-1", "run", "ключ"])).toString("hex"),
    "00000000000000071ebbe8c2de4a7d6f16d82ca49611e3b7",
  );
});

test("deployment ids: real example parses and round trips; layout is dp_1 + 22 base62 digits", () => {
  for (const id of ["dp_149C9ia9wAS9AYMwDmuUS09", "dp_10000000000000000000000"]) {
    const raw = parseDeploymentId(id);
    assert.equal(raw.length, 16);
    assert.equal(encodeDeploymentId(raw), id);
  }
  assert.deepEqual(parseDeploymentId("dp_10000000000000000000000"), Buffer.alloc(16));
  const raw = bytes(16, (i) => i * 13 + 1);
  const text = encodeDeploymentId(raw);
  assert.equal(text.length, 26);
  assert.deepEqual(parseDeploymentId(text), raw);
  assert.deepEqual(parseDeploymentId(encodeDeploymentId(Buffer.alloc(16, 0xff))), Buffer.alloc(16, 0xff));
  assert.throws(() => encodeDeploymentId(new Uint8Array(24)), RangeError);
});

test("malformed deployment ids are rejected", () => {
  assertInvalid(() => parseDeploymentId(""), "bad format");
  assertInvalid(() => parseDeploymentId("abc"), "bad format");
  assertInvalid(() => parseDeploymentId("dp_"), "bad length");
  assertInvalid(() => parseDeploymentId("dp_149C9ia9wAS9AYMwDmuUS0"), "bad length");
  assertInvalid(() => parseDeploymentId("dp_149C9ia9wAS9AYMwDmuUS090"), "bad length");
  assertInvalid(() => parseDeploymentId("dp_249C9ia9wAS9AYMwDmuUS09"), "unrecognized codec version");
  assertInvalid(() => parseDeploymentId("dp_149C9ia9wAS9AYMwDmuUS0_"), "base62 decode error");
  assertInvalid(() => parseDeploymentId("dp_1" + "Z".repeat(22)), "base62 decode error");
  assertInvalid(() => parseDeploymentId("inv_1aiqX0vFEFNH1Umgre58JiCLgHfTtztYK5"), "id doesn't match the expected type");
});

test("real awakeable id decodes to 24 id bytes and signal 17, and re-encodes identically", () => {
  const id = "sign_15EQNJec9UXAhImH2cD9Ww5_pLIaIO9JxAAAAEQ";
  const parsed = parseAwakeableId(id);
  assert.equal(parsed.legacy, false);
  if (parsed.legacy) return;
  assert.equal(parsed.signalIndex, 17);
  assert.equal(parsed.invocationId.length, 24);
  assert.equal(encodeAwakeableId(parsed.invocationId, parsed.signalIndex), id);
  // Padded form is accepted too.
  assert.deepEqual(parseAwakeableId(id + "=="), parsed);
});

test("awakeable ids round trip", () => {
  const inv = parseInvocationId("inv_13AGENVCZA7z6nSEHoF5rF2yxcKwvpDpX5");
  for (const index of [0, 1, 17, 18, 0xffff_ffff]) {
    const text = encodeAwakeableId(inv, index);
    assert.match(text, /^sign_1[A-Za-z0-9_-]{38}$/);
    assert.deepEqual(parseAwakeableId(text), { legacy: false, invocationId: inv, signalIndex: index });
  }
  assert.throws(() => encodeAwakeableId(inv, -1), RangeError);
  assert.throws(() => encodeAwakeableId(inv, 2 ** 32), RangeError);
  assert.throws(() => encodeAwakeableId(inv, 1.5), RangeError);
  assert.throws(() => encodeAwakeableId(inv.subarray(0, 16), 17), RangeError);
});

test("legacy prom_1 awakeable ids carry a journal entry index", () => {
  const inv = parseInvocationId("inv_12W0CEBesRZt2MmWY1ymnDibUP5k8LxHyy");
  const payload = Buffer.concat([inv, Buffer.from([0, 0, 0, 5])]);
  const legacy = "prom_1" + payload.toString("base64url");
  assert.deepEqual(parseAwakeableId(legacy), { legacy: true, invocationId: inv, entryIndex: 5 });
  assert.deepEqual(parseAwakeableId(legacy + "=="), { legacy: true, invocationId: inv, entryIndex: 5 });
});

test("malformed awakeable ids are rejected", () => {
  const good = "sign_15EQNJec9UXAhImH2cD9Ww5_pLIaIO9JxAAAAEQ";
  const bad = [
    "",
    "abc",
    "sign_1",
    "sign_2" + good.slice(6),
    "inv_15EQNJec9UXAhImH2cD9Ww5_pLIaIO9JxAAAAEQ",
    good.slice(0, -1), // too short
    good + "AAAA", // too long
    good.slice(0, -4), // 25 bytes
    good.slice(0, 20) + "+" + good.slice(21), // standard base64 alphabet is not base64url
    good.slice(0, 20) + "!" + good.slice(21),
    good + "=", // wrong padding
    good + "===",
    good.slice(0, -1) + "R", // non-canonical trailing bits
    "sign_1" + Buffer.alloc(24).toString("base64url"), // no signal index
  ];
  for (const text of bad) {
    assert.throws(() => parseAwakeableId(text), InvalidIdError, text);
  }
});
