// Contract cases for invocation records and journals: round trips inside and outside a transaction,
// updates, deletes, copies on the way in and out, journal order and notification lookups.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { InvocationRecord } from "../api/records.ts";
import { BIG_PARTITION_KEYS, assertSameRecord, entry, fullInvocation, invocation, sortedStrings, type ContractContext } from "./fixtures.ts";

export function invocationCases(ctx: ContractContext): void {
  test("an unknown invocation reads as undefined", async () => {
    const store = ctx.store();
    assert.equal(await store.readInvocation("inv_nope"), undefined);
    assert.equal(await store.transaction((t) => t.getInvocation("inv_nope")), undefined);
  });

  test("put then get round-trips a record with every field set and a binary success value", async () => {
    const store = ctx.store();
    const inv = fullInvocation();
    const inside = await store.transaction(async (t) => {
      await t.putInvocation(inv);
      return t.getInvocation(inv.id);
    });
    assertSameRecord(inside, inv, "read inside the writing transaction");
    const outside = await store.readInvocation(inv.id);
    assertSameRecord(outside, inv, "committed read");
    const inNext = await store.transaction((t) => t.getInvocation(inv.id));
    assertSameRecord(inNext, inv, "read in a later transaction");
    for (const got of [inside, outside, inNext]) {
      assert.equal(got?.result?.kind, "success");
      if (got?.result?.kind === "success") assert.ok(Buffer.isBuffer(got.result.value), "success value is a Buffer");
      assert.equal(typeof got?.partitionKey, "bigint");
    }
  });

  test("a failure result round-trips with code, message, metadata and stack trace", async () => {
    const store = ctx.store();
    const inv = fullInvocation({
      id: "inv_failed",
      result: { kind: "failure", failure: { code: 409, message: "already invoked", metadata: [["field", "name"]], stacktrace: "Error\n at y" } },
    });
    await store.transaction((t) => t.putInvocation(inv));
    assertSameRecord(await store.readInvocation(inv.id), inv);
  });

  test("a record written as stored replaces the one read; one that is in fact missing is still stored", async () => {
    const store = ctx.store();
    const inv = fullInvocation({ id: "inv_stored" });
    await store.transaction((t) => t.putInvocation(inv));
    const changed = await store.transaction(async (t) => {
      const read = (await t.getInvocation(inv.id))!;
      read.status = "completed";
      read.result = { kind: "success", value: Buffer.from("done") };
      read.expiresAt = 99_000;
      await t.putInvocation(read, true);
      return read;
    });
    assertSameRecord(await store.readInvocation(inv.id), changed);
    assert.deepEqual(await store.transaction(async (t) => t.getInvocation(inv.id)), changed, "the transaction cache holds it too");
    const missing = fullInvocation({ id: "inv_not_there" });
    await store.transaction((t) => t.putInvocation(missing, true));
    assertSameRecord(await store.readInvocation(missing.id), missing);
  });

  test("an empty success value comes back as an empty Buffer", async () => {
    const store = ctx.store();
    const inv = fullInvocation({ id: "inv_empty", result: { kind: "success", value: Buffer.alloc(0) } });
    await store.transaction((t) => t.putInvocation(inv));
    const got = await store.readInvocation(inv.id);
    assert.equal(got?.result?.kind, "success");
    if (got?.result?.kind === "success") {
      assert.ok(Buffer.isBuffer(got.result.value));
      assert.equal(got.result.value.length, 0);
    }
  });

  test("partition keys at and above 2^63 survive exactly", async () => {
    const store = ctx.store();
    const keys = [0n, 1n, 2n ** 63n - 1n, ...BIG_PARTITION_KEYS];
    await store.transaction(async (t) => {
      for (const [i, pk] of keys.entries()) await t.putInvocation(invocation({ id: `inv_pk_${i}`, partitionKey: pk }));
    });
    for (const [i, pk] of keys.entries()) {
      assert.equal((await store.readInvocation(`inv_pk_${i}`))?.partitionKey, pk, `key ${pk}`);
      assert.equal((await store.transaction((t) => t.getInvocation(`inv_pk_${i}`)))?.partitionKey, pk);
    }
  });

  test("optional fields left undefined read back as undefined", async () => {
    const store = ctx.store();
    const inv = invocation({ id: "inv_sparse", key: undefined, serviceType: "service", handlerType: undefined, source: { kind: "send", callerId: "inv_c" } });
    await store.transaction((t) => t.putInvocation(inv));
    const got = await store.readInvocation(inv.id);
    assert.ok(got);
    const optional: Array<keyof InvocationRecord> = [
      "key",
      "handlerType",
      "idempotencyKey",
      "deploymentId",
      "protocolVersion",
      "lastFailure",
      "nextRetryAt",
      "awaiting",
      "executionTime",
      "inboxSeq",
      "completedAt",
      "result",
      "expiresAt",
    ];
    for (const field of optional) assert.equal(got[field], undefined, field);
    assertSameRecord(got, inv);
  });

  test("put again updates the record; the status index follows", async () => {
    const store = ctx.store();
    const first = invocation({ id: "inv_upd", status: "running" });
    await store.transaction((t) => t.putInvocation(first));
    const second: InvocationRecord = {
      ...first,
      status: "completed",
      epoch: 1,
      modifiedAt: 2_000,
      completedAt: 2_000,
      expiresAt: 3_000,
      result: { kind: "success", value: Buffer.from("done") },
    };
    await store.transaction((t) => t.putInvocation(second));
    assertSameRecord(await store.readInvocation("inv_upd"), second);
    assert.deepEqual(await store.listInvocationsByStatus("running"), []);
    assert.deepEqual(await store.listInvocationsByStatus("completed"), ["inv_upd"]);
    // and back again: a later put may also clear the result
    const third: InvocationRecord = { ...second, status: "running", result: undefined, completedAt: undefined, expiresAt: undefined };
    await store.transaction((t) => t.putInvocation(third));
    assertSameRecord(await store.readInvocation("inv_upd"), third);
    assert.deepEqual(await store.transaction((t) => t.expiredInvocations(10_000, 10)), []);
  });

  test("delete removes the record", async () => {
    const store = ctx.store();
    await store.transaction(async (t) => {
      await t.putInvocation(invocation({ id: "inv_a" }));
      await t.putInvocation(invocation({ id: "inv_b" }));
    });
    await store.transaction(async (t) => {
      await t.deleteInvocation("inv_a");
      assert.equal(await t.getInvocation("inv_a"), undefined, "gone inside the transaction");
      await t.deleteInvocation("inv_never_there");
    });
    assert.equal(await store.readInvocation("inv_a"), undefined);
    assert.ok(await store.readInvocation("inv_b"));
    assert.deepEqual(await store.listInvocationsByStatus("running"), ["inv_b"]);
  });

  test("records are copied on the way in and out", async () => {
    const store = ctx.store();
    const inv = fullInvocation({ id: "inv_copy" });
    const value = inv.result?.kind === "success" ? inv.result.value : Buffer.alloc(0);
    await store.transaction(async (t) => {
      await t.putInvocation(inv);
      inv.status = "paused";
      inv.epoch = 99;
      value[0] = 0x55;
    });
    const got = await store.readInvocation("inv_copy");
    assert.equal(got?.status, "completed");
    assert.equal(got?.epoch, 3);
    if (got?.result?.kind === "success") {
      assert.equal(got.result.value[0], 0x00);
      got.result.value[0] = 0x66;
    }
    got!.status = "running";
    const again = await store.transaction((t) => t.getInvocation("inv_copy"));
    assert.equal(again?.status, "completed");
    assert.equal(again?.result?.kind === "success" ? again.result.value[0] : -1, 0x00);
  });
}

export function journalCases(ctx: ContractContext): void {
  test("entries read back in index order with payloads byte for byte", async () => {
    const store = ctx.store();
    const entries = [entry(0), entry(1, { payload: Buffer.alloc(0) }), entry(2, { notificationKey: "c:1" }), entry(3, { payload: Buffer.alloc(70_000, 0xab) })];
    await store.transaction(async (t) => {
      await t.appendJournal("inv_j", entries[0]!);
      await t.appendJournal("inv_j", entries[1]!);
    });
    await store.transaction(async (t) => {
      await t.appendJournal("inv_j", entries[2]!);
      await t.appendJournal("inv_j", entries[3]!);
      assertSameRecord(await t.readJournal("inv_j"), entries, "inside the transaction");
    });
    const read = await store.readJournal("inv_j");
    assertSameRecord(read, entries, "committed read");
    for (const e of read) assert.ok(Buffer.isBuffer(e.payload));
    assert.equal(read[1]!.payload.length, 0);
    assert.equal(read[0]!.notificationKey, undefined);
  });

  test("entries appended out of order still read in index order", async () => {
    const store = ctx.store();
    await store.transaction(async (t) => {
      for (const i of [2, 0, 10, 1]) await t.appendJournal("inv_j", entry(i));
    });
    assert.deepEqual(
      (await store.readJournal("inv_j")).map((e) => e.index),
      [0, 1, 2, 10],
    );
  });

  test("journals of different invocations are separate", async () => {
    const store = ctx.store();
    await store.transaction(async (t) => {
      await t.appendJournal("inv_1", entry(0, { type: 1 }));
      await t.appendJournal("inv_2", entry(0, { type: 2 }));
      await t.appendJournal("inv_1", entry(1, { type: 3 }));
    });
    assert.deepEqual((await store.readJournal("inv_1")).map((e) => e.type), [1, 3]);
    assert.deepEqual((await store.readJournal("inv_2")).map((e) => e.type), [2]);
    assert.deepEqual(await store.readJournal("inv_none"), []);
    assert.deepEqual(await store.transaction((t) => t.readJournal("inv_none")), []);
  });

  test("appending an index that exists is refused and keeps the first entry", async () => {
    const store = ctx.store();
    await store.transaction((t) => t.appendJournal("inv_dup", entry(0, { type: 7 })));
    await assert.rejects(store.transaction((t) => t.appendJournal("inv_dup", entry(0, { type: 8 }))));
    assert.deepEqual((await store.readJournal("inv_dup")).map((e) => e.type), [7]);
  });

  test("findNotifications returns the requested keys present in that journal", async () => {
    const store = ctx.store();
    await store.transaction(async (t) => {
      await t.appendJournal("inv_n", entry(0));
      await t.appendJournal("inv_n", entry(1, { notificationKey: "c:1" }));
      await t.appendJournal("inv_n", entry(2, { notificationKey: "s:17" }));
      await t.appendJournal("inv_n", entry(3, { notificationKey: "n:ready" }));
      await t.appendJournal("inv_other", entry(0, { notificationKey: "c:2" }));
    });
    await store.transaction(async (t) => {
      assert.deepEqual(sortedStrings(await t.findNotifications("inv_n", ["c:1", "c:2", "n:ready", "n:absent"])), ["c:1", "n:ready"]);
      assert.deepEqual(await t.findNotifications("inv_n", ["c:9"]), []);
      assert.deepEqual(await t.findNotifications("inv_n", []), []);
      assert.deepEqual(await t.findNotifications("inv_none", ["c:1"]), []);
      // a notification appended in this transaction is found by it
      await t.appendJournal("inv_n", entry(4, { notificationKey: "c:9" }));
      assert.deepEqual(await t.findNotifications("inv_n", ["c:9"]), ["c:9"]);
    });
  });

  test("deleteJournal empties one journal and leaves the others", async () => {
    const store = ctx.store();
    await store.transaction(async (t) => {
      await t.appendJournal("inv_1", entry(0, { notificationKey: "c:1" }));
      await t.appendJournal("inv_1", entry(1));
      await t.appendJournal("inv_2", entry(0));
    });
    await store.transaction(async (t) => {
      await t.deleteJournal("inv_1");
      assert.deepEqual(await t.readJournal("inv_1"), []);
      assert.deepEqual(await t.findNotifications("inv_1", ["c:1"]), []);
    });
    assert.deepEqual(await store.readJournal("inv_1"), []);
    assert.equal((await store.readJournal("inv_2")).length, 1);
    // the index space is free again
    await store.transaction((t) => t.appendJournal("inv_1", entry(0, { type: 99 })));
    assert.deepEqual((await store.readJournal("inv_1")).map((e) => e.type), [99]);
  });
}
