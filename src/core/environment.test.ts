import { test } from "node:test";
import assert from "node:assert/strict";
import { pooledRandom } from "./environment.ts";

test("pooled random bytes come from successive slices of the pool and are copies", () => {
  let fills = 0;
  const random = pooledRandom((n) => {
    fills++;
    return Buffer.alloc(n, fills);
  }, 16);
  const a = random.bytes(8);
  const b = random.bytes(8);
  assert.equal(fills, 1);
  assert.deepEqual(a, Buffer.alloc(8, 1));
  a.fill(9);
  assert.deepEqual(b, Buffer.alloc(8, 1), "slices are independent copies");
  const c = random.bytes(8);
  assert.equal(fills, 2, "an exhausted pool is refilled");
  assert.deepEqual(c, Buffer.alloc(8, 2));
  assert.equal(random.bytes(32).length, 32, "requests larger than the pool bypass it");
});
