// RecordCache: pending writes stay invisible to committed state until commit, vanish on rollback; callers get
// copies; capacity bounds the committed records.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RecordCache } from "./record-cache.ts";
import { invocation } from "../contract/fixtures.ts";

test("writes of the open transaction become committed on commit and vanish on rollback", () => {
  const cache = new RecordCache(10);
  cache.put("a", invocation({ id: "a", epoch: 1 }));
  assert.equal(cache.get("a")?.epoch, 1, "the open transaction sees its write");
  assert.equal(cache.size, 0);
  cache.rollback();
  assert.equal(cache.get("a"), undefined);
  cache.put("a", invocation({ id: "a", epoch: 2 }));
  cache.commit();
  assert.equal(cache.get("a")?.epoch, 2);
  cache.delete("a");
  assert.equal(cache.get("a"), null, "a deletion in the open transaction hides the committed record");
  cache.rollback();
  assert.equal(cache.get("a")?.epoch, 2);
  cache.delete("a");
  cache.commit();
  assert.equal(cache.get("a"), undefined);
});

test("callers get copies: changing one changes nothing cached", () => {
  const cache = new RecordCache(10);
  const inv = invocation({ id: "a", epoch: 1 });
  cache.put("a", inv);
  inv.epoch = 5;
  cache.commit();
  const got = cache.get("a")!;
  got.epoch = 9;
  assert.equal(cache.get("a")?.epoch, 1);
  cache.remember("b", invocation({ id: "b", epoch: 3 }));
  cache.get("b")!.epoch = 4;
  assert.equal(cache.get("b")?.epoch, 3);
});

test("a record read while the open transaction wrote it is not remembered over that write", () => {
  const cache = new RecordCache(10);
  cache.put("a", invocation({ id: "a", epoch: 2 }));
  cache.remember("a", invocation({ id: "a", epoch: 1 }));
  cache.commit();
  assert.equal(cache.get("a")?.epoch, 2);
});

test("at most `capacity` committed records; the least recently written go first", () => {
  const cache = new RecordCache(3);
  for (const id of ["a", "b", "c"]) cache.put(id, invocation({ id }));
  cache.commit();
  cache.put("a", invocation({ id: "a", epoch: 7 })); // rewritten: now the newest
  cache.put("d", invocation({ id: "d" }));
  cache.commit();
  assert.equal(cache.size, 3);
  assert.equal(cache.get("b"), undefined, "the oldest write was dropped");
  assert.equal(cache.get("a")?.epoch, 7);
  assert.ok(cache.get("c"));
  assert.ok(cache.get("d"));
});

test("completed records are not kept: writing one drops the cached live version", () => {
  const cache = new RecordCache(10);
  cache.put("a", invocation({ id: "a" }));
  cache.commit();
  assert.ok(cache.get("a"));
  cache.put("a", invocation({ id: "a", status: "completed" }));
  assert.equal(cache.get("a")?.status, "completed", "the open transaction still reads its own write");
  cache.commit();
  assert.equal(cache.get("a"), undefined);
  cache.remember("b", invocation({ id: "b", status: "completed" }));
  assert.equal(cache.get("b"), undefined);
  assert.equal(cache.size, 0);
});
