// Contract cases for per-object data: state (binary keys, byte-wise order), exclusive locks, the inbox,
// workflow promises and the callbacks that wait on invocations and promises.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertSameRecord, invocation, type ContractContext } from "./fixtures.ts";

const b = (...bytes: number[]) => Buffer.from(bytes);

export function stateCases(ctx: ContractContext): void {
  test("get of a missing key is undefined; set then get; overwrite", async () => {
    const store = ctx.store();
    await store.transaction(async (t) => {
      assert.equal(await t.getState("Counter", "k", Buffer.from("count")), undefined);
      await t.setState(1n, "Counter", "k", Buffer.from("count"), Buffer.from("1"));
      assert.deepEqual(await t.getState("Counter", "k", Buffer.from("count")), Buffer.from("1"), "own write visible");
    });
    await store.transaction(async (t) => {
      assert.deepEqual(await t.getState("Counter", "k", Buffer.from("count")), Buffer.from("1"));
      await t.setState(1n, "Counter", "k", Buffer.from("count"), Buffer.from("2"));
    });
    const got = await store.transaction((t) => t.getState("Counter", "k", Buffer.from("count")));
    assert.ok(Buffer.isBuffer(got));
    assert.deepEqual(got, Buffer.from("2"));
    assert.deepEqual(await store.readAllState("Counter", "k"), [[Buffer.from("count"), Buffer.from("2")]]);
  });

  test("getAllState orders binary keys byte-wise, empty key and empty values included", async () => {
    const store = ctx.store();
    const keys = [b(0xff), b(0x00), b(0x00, 0x01), b(), b(0x7f), b(0x80), b(0xc3), b(0xc3, 0xa9), Buffer.from("a"), Buffer.from("B")];
    await store.transaction(async (t) => {
      for (const [i, k] of keys.entries()) await t.setState(2n ** 64n - 1n, "Obj", "key", k, i === 3 ? b() : Buffer.from(`v${i}`));
    });
    const expectedKeys = [...keys].sort(Buffer.compare);
    const inside = await store.transaction((t) => t.getAllState("Obj", "key"));
    const outside = await store.readAllState("Obj", "key");
    for (const got of [inside, outside]) {
      assert.deepEqual(
        got.map(([k]) => k.toString("hex")),
        expectedKeys.map((k) => k.toString("hex")),
      );
      for (const [k, v] of got) {
        assert.ok(Buffer.isBuffer(k) && Buffer.isBuffer(v));
        const i = keys.findIndex((x) => x.equals(k));
        assert.deepEqual(v, i === 3 ? b() : Buffer.from(`v${i}`));
      }
    }
    assert.deepEqual(await store.transaction((t) => t.getState("Obj", "key", b())), b(), "an empty value is not a missing one");
  });

  test("state is scoped by service and object key (the empty key included)", async () => {
    const store = ctx.store();
    const k = Buffer.from("s");
    await store.transaction(async (t) => {
      await t.setState(1n, "A", "x", k, Buffer.from("A/x"));
      await t.setState(1n, "A", "y", k, Buffer.from("A/y"));
      await t.setState(1n, "B", "x", k, Buffer.from("B/x"));
      await t.setState(1n, "A", "", k, Buffer.from("A/"));
    });
    await store.transaction(async (t) => {
      assert.deepEqual(await t.getState("A", "x", k), Buffer.from("A/x"));
      assert.deepEqual(await t.getState("A", "y", k), Buffer.from("A/y"));
      assert.deepEqual(await t.getState("B", "x", k), Buffer.from("B/x"));
      assert.deepEqual(await t.getState("A", "", k), Buffer.from("A/"));
      assert.equal(await t.getState("B", "y", k), undefined);
    });
    assert.deepEqual(await store.readAllState("B", "y"), []);
  });

  test("clearState removes one key; clearAllState removes one object's state only", async () => {
    const store = ctx.store();
    await store.transaction(async (t) => {
      for (const s of ["a", "b", "c"]) await t.setState(1n, "Obj", "k1", Buffer.from(s), Buffer.from(s.toUpperCase()));
      await t.setState(1n, "Obj", "k2", Buffer.from("a"), Buffer.from("other"));
    });
    await store.transaction(async (t) => {
      await t.clearState("Obj", "k1", Buffer.from("b"));
      await t.clearState("Obj", "k1", Buffer.from("never-set"));
      assert.equal(await t.getState("Obj", "k1", Buffer.from("b")), undefined);
    });
    assert.deepEqual(
      (await store.readAllState("Obj", "k1")).map(([k]) => k.toString()),
      ["a", "c"],
    );
    await store.transaction(async (t) => {
      await t.clearAllState("Obj", "k1");
      assert.deepEqual(await t.getAllState("Obj", "k1"), []);
      await t.clearAllState("Obj", "never-set");
    });
    assert.deepEqual(await store.readAllState("Obj", "k1"), []);
    assert.deepEqual(await store.readAllState("Obj", "k2"), [[Buffer.from("a"), Buffer.from("other")]]);
    // cleared keys can be set again
    await store.transaction((t) => t.setState(1n, "Obj", "k1", Buffer.from("b"), Buffer.from("again")));
    assert.deepEqual(await store.readAllState("Obj", "k1"), [[Buffer.from("b"), Buffer.from("again")]]);
  });
}

export function lockAndInboxCases(ctx: ContractContext): void {
  test("locks: set, get, overwrite, release, scoped by service and key", async () => {
    const store = ctx.store();
    await store.transaction(async (t) => {
      assert.equal(await t.getLock("Counter", "k"), undefined);
      await t.setLock(2n ** 63n, "Counter", "k", "inv_1");
      await t.setLock(1n, "Counter", "other", "inv_2");
      await t.setLock(1n, "Other", "k", "inv_3");
      assert.equal(await t.getLock("Counter", "k"), "inv_1");
    });
    await store.transaction(async (t) => {
      assert.equal(await t.getLock("Counter", "k"), "inv_1");
      await t.setLock(2n ** 63n, "Counter", "k", "inv_4");
      assert.equal(await t.getLock("Counter", "k"), "inv_4");
    });
    await store.transaction(async (t) => {
      await t.releaseLock("Counter", "k");
      await t.releaseLock("Counter", "never-locked");
    });
    await store.transaction(async (t) => {
      assert.equal(await t.getLock("Counter", "k"), undefined);
      assert.equal(await t.getLock("Counter", "other"), "inv_2");
      assert.equal(await t.getLock("Other", "k"), "inv_3");
    });
  });

  test("nextInboxSeq increases across transactions", async () => {
    const store = ctx.store();
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      seqs.push(
        await store.transaction(async (t) => {
          const a = await t.nextInboxSeq();
          const b2 = await t.nextInboxSeq();
          assert.ok(b2 > a);
          return b2;
        }),
      );
    }
    for (const s of seqs) assert.ok(Number.isInteger(s));
    assert.ok(seqs[0]! < seqs[1]! && seqs[1]! < seqs[2]!, `${seqs}`);
  });

  test("nextInboxed returns the lowest inboxSeq among inboxed records of that service and key", async () => {
    const store = ctx.store();
    const inboxed = (id: string, inboxSeq: number, over: Parameters<typeof invocation>[0] = {}) =>
      invocation({ id, status: "inboxed", service: "Counter", key: "q", inboxSeq, ...over });
    await store.transaction(async (t) => {
      assert.equal(await t.nextInboxed("Counter", "q"), undefined);
      // inserted out of order; 10 > 7 > 2 numerically but not as text
      await t.putInvocation(inboxed("inv_seq10", 10));
      await t.putInvocation(inboxed("inv_seq2", 2));
      await t.putInvocation(inboxed("inv_seq7", 7));
      // not candidates: lower seqs, but running, another key, another service
      await t.putInvocation(inboxed("inv_running", 1, { status: "running" }));
      await t.putInvocation(inboxed("inv_otherkey", 0, { key: "q2" }));
      await t.putInvocation(inboxed("inv_othersvc", 0, { service: "Other" }));
      assert.equal(await t.nextInboxed("Counter", "q"), "inv_seq2", "sees its own writes");
    });
    assert.equal(await store.transaction((t) => t.nextInboxed("Counter", "q")), "inv_seq2");
    await store.transaction(async (t) => {
      const first = await t.getInvocation("inv_seq2");
      await t.putInvocation({ ...first!, status: "running" });
      assert.equal(await t.nextInboxed("Counter", "q"), "inv_seq7");
    });
    await store.transaction((t) => t.deleteInvocation("inv_seq7"));
    assert.equal(await store.transaction((t) => t.nextInboxed("Counter", "q")), "inv_seq10");
    assert.equal(await store.transaction((t) => t.nextInboxed("Counter", "q2")), "inv_otherkey");
    assert.equal(await store.transaction((t) => t.nextInboxed("Other", "q")), "inv_othersvc");
    assert.equal(await store.transaction((t) => t.nextInboxed("Counter", "none")), undefined);
  });
}

export function promiseAndCallbackCases(ctx: ContractContext): void {
  test("promises: put a value then get it as a Buffer", async () => {
    const store = ctx.store();
    const value = Buffer.from([0x22, 0x79, 0x00, 0xff, 0x22]);
    await store.transaction(async (t) => {
      assert.equal(await t.getPromise("Signup", "w", "confirm"), undefined);
      await t.putPromise(2n ** 64n - 1n, "Signup", "w", "confirm", { kind: "value", value });
      assertSameRecord(await t.getPromise("Signup", "w", "confirm"), { kind: "value", value }, "own write visible");
    });
    const got = await store.transaction((t) => t.getPromise("Signup", "w", "confirm"));
    assert.equal(got?.kind, "value");
    if (got?.kind === "value") {
      assert.ok(Buffer.isBuffer(got.value), "value is a Buffer, not a bare Uint8Array");
      assert.equal(got.value.toString("hex"), value.toString("hex"));
    }
  });

  test("promises: a failure round-trips; an empty value is a value", async () => {
    const store = ctx.store();
    const failure = { code: 409, message: "nope", metadata: [["a", "b"]] as const };
    await store.transaction(async (t) => {
      await t.putPromise(1n, "Signup", "w", "rejected", { kind: "failure", failure });
      await t.putPromise(1n, "Signup", "w", "empty", { kind: "value", value: Buffer.alloc(0) });
    });
    await store.transaction(async (t) => {
      assertSameRecord(await t.getPromise("Signup", "w", "rejected"), { kind: "failure", failure });
      const empty = await t.getPromise("Signup", "w", "empty");
      assert.equal(empty?.kind, "value");
      assert.equal(empty?.kind === "value" ? empty.value.length : -1, 0);
    });
  });

  test("promises are scoped by workflow, key and name, and are written once", async () => {
    const store = ctx.store();
    await store.transaction(async (t) => {
      await t.putPromise(1n, "Signup", "w1", "p", { kind: "value", value: Buffer.from("1") });
      await t.putPromise(1n, "Signup", "w2", "p", { kind: "value", value: Buffer.from("2") });
      await t.putPromise(1n, "Other", "w1", "p", { kind: "value", value: Buffer.from("3") });
      await t.putPromise(1n, "Signup", "w1", "q", { kind: "value", value: Buffer.from("4") });
    });
    await store.transaction(async (t) => {
      assertSameRecord(await t.getPromise("Signup", "w1", "p"), { kind: "value", value: Buffer.from("1") });
      assertSameRecord(await t.getPromise("Signup", "w2", "p"), { kind: "value", value: Buffer.from("2") });
      assertSameRecord(await t.getPromise("Other", "w1", "p"), { kind: "value", value: Buffer.from("3") });
      assertSameRecord(await t.getPromise("Signup", "w1", "q"), { kind: "value", value: Buffer.from("4") });
      assert.equal(await t.getPromise("Signup", "w3", "p"), undefined);
    });
    await assert.rejects(store.transaction((t) => t.putPromise(1n, "Signup", "w1", "p", { kind: "value", value: Buffer.from("again") })));
    assertSameRecord(await store.transaction((t) => t.getPromise("Signup", "w1", "p")), { kind: "value", value: Buffer.from("1") });
  });

  test("callbacks: take returns them in insertion order and removes them", async () => {
    const store = ctx.store();
    const cb = (n: number) => ({ invocationId: `inv_w${n}`, completionId: n, notificationType: 0x8000 + n });
    await store.transaction(async (t) => {
      await t.addCallback(1n, "inv_target", cb(3));
      await t.addCallback(1n, "promise:Signup/w/confirm", cb(9));
      await t.addCallback(2n ** 63n + 1n, "inv_target", cb(1));
    });
    await store.transaction((t) => t.addCallback(1n, "inv_target", cb(2)));
    await store.transaction(async (t) => {
      assert.deepEqual(await t.takeCallbacks("inv_target"), [cb(3), cb(1), cb(2)]);
      assert.deepEqual(await t.takeCallbacks("inv_target"), [], "taken within the same transaction");
    });
    await store.transaction(async (t) => {
      assert.deepEqual(await t.takeCallbacks("inv_target"), [], "taken for good");
      assert.deepEqual(await t.takeCallbacks("promise:Signup/w/confirm"), [cb(9)]);
      assert.deepEqual(await t.takeCallbacks("inv_unknown"), []);
    });
  });
}
