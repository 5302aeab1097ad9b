// The storage key: JS and SQL agree, the mapping is reversible, and ids made later sort next to each other.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { randomBytes } from "node:crypto";
import { encodeInvocationId, newInvocationId, timeOrderedUuid } from "../../core/ids.ts";
import { sqlIdOfStorageKey, sqlStorageKey, storageKey } from "./storage-key.ts";

const db = new DatabaseSync(":memory:");
const sqlKey = (id: string) => String(db.prepare(`SELECT ${sqlStorageKey("v")} AS k FROM (SELECT ? AS v)`).get(id)!.k);
const sqlId = (key: string) => String(db.prepare(`SELECT ${sqlIdOfStorageKey("v")} AS id FROM (SELECT ? AS v)`).get(key)!.id);

const newId = (now: number) => encodeInvocationId(newInvocationId(randomBytes(8).readBigUInt64BE(0), timeOrderedUuid(now, randomBytes(10))));

test("well-formed ids map to uuid digits then key digits, in JS and in SQL, and back", () => {
  const id = newId(Date.now());
  const key = storageKey(id);
  assert.equal(key.length, 33);
  assert.equal(key, id.slice(16) + id.slice(5, 16));
  assert.equal(sqlKey(id), key);
  assert.equal(sqlId(key), id);
});

test("any other string maps to '~' + itself, so the two families never collide", () => {
  for (const odd of ["inv_contract_full", "", "~", "inv_2aaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbb", "x".repeat(33)]) {
    assert.equal(storageKey(odd), `~${odd}`);
    assert.equal(sqlKey(odd), `~${odd}`);
    assert.equal(sqlId(storageKey(odd)), odd);
  }
});

test("ids made within a second share the leading digits of their storage key, whatever their partition keys", () => {
  const t0 = Date.UTC(2026, 10, 28, 12, 0, 0);
  const keys = Array.from({ length: 200 }, (_, i) => storageKey(newId(t0 + i * 5)));
  const prefix = (k: string) => k.slice(0, 5);
  assert.equal(new Set(keys.map(prefix)).size, 1, "one 5-digit prefix for one second of ids");
  const later = storageKey(newId(t0 + 3_600_000));
  assert.notEqual(prefix(later), prefix(keys[0]!), "an hour later the prefix differs");
});

test("timeOrderedUuid puts the milliseconds in the most significant little-endian bytes", () => {
  const uuid = timeOrderedUuid(0x0102_0304_0506, Buffer.alloc(10, 0xaa));
  assert.equal(uuid.length, 16);
  assert.deepEqual([...uuid.subarray(0, 10)], Array(10).fill(0xaa));
  assert.equal(uuid.readUIntLE(10, 6), 0x0102_0304_0506);
  assert.throws(() => timeOrderedUuid(1, Buffer.alloc(9)), RangeError);
});
