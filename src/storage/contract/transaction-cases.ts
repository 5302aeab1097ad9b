// Contract cases for transactions: atomic rollback when `fn` throws, isolation of committed reads from a
// transaction in progress, and serialisation of concurrent writers.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { PartitionTxn } from "../api/store.ts";
import { assertSameRecord, deployment, entry, gate, invocation, timer, yieldToEventLoop, type ContractContext } from "./fixtures.ts";

const k = (s: string) => Buffer.from(s);

/** Writes one of everything a partition owns. */
async function writeEverything(t: PartitionTxn, id: string): Promise<void> {
  await t.putInvocation(invocation({ id, status: "completed", expiresAt: 1 }));
  await t.appendJournal(id, entry(0, { notificationKey: "c:1" }));
  await t.setState(1n, "Counter", id, k("s"), k("v"));
  await t.setLock(1n, "Counter", id, id);
  await t.putPromise(1n, "Signup", id, "p", { kind: "value", value: k("v") });
  await t.addCallback(1n, id, { invocationId: "inv_waiter", completionId: 1, notificationType: 1 });
  await t.addTimer(timer({ invocationId: id }));
}

export function transactionCases(ctx: ContractContext): void {
  test("transaction resolves to what fn returns", async () => {
    assert.equal(await ctx.store().transaction(async () => 42), 42);
  });

  test("commit resolves with fn's result once committed; durable and durableBarrier then resolve", async () => {
    const store = ctx.store();
    const committed = await store.commit(async (t) => {
      await t.putInvocation(invocation({ id: "inv_commit" }));
      return "done";
    });
    assert.equal(committed.result, "done");
    assert.ok(await store.readInvocation("inv_commit"), "committed data is readable before it is known durable");
    await committed.durable;
    await store.durableBarrier();
    await store.durableBarrier();
  });

  test("commit whose fn throws rejects and writes nothing", async () => {
    const store = ctx.store();
    await assert.rejects(
      store.commit(async (t) => {
        await t.putInvocation(invocation({ id: "inv_commit_rb" }));
        throw new Error("nope");
      }),
      /nope/,
    );
    assert.equal(await store.readInvocation("inv_commit_rb"), undefined);
  });

  test("a transaction whose fn throws leaves nothing behind and rejects with that error", async () => {
    const store = ctx.store();
    const boom = new Error("boom");
    await assert.rejects(
      store.transaction(async (t) => {
        await writeEverything(t, "inv_rb");
        assert.ok(await t.getInvocation("inv_rb"), "visible inside before the throw");
        throw boom;
      }),
      (err) => err === boom,
    );
    assert.equal(await store.readInvocation("inv_rb"), undefined);
    assert.deepEqual(await store.readJournal("inv_rb"), []);
    assert.deepEqual(await store.readAllState("Counter", "inv_rb"), []);
    assert.deepEqual(await store.listTimers(), []);
    assert.deepEqual(await store.listInvocationsByStatus("completed"), []);
    await store.transaction(async (t) => {
      assert.equal(await t.getInvocation("inv_rb"), undefined);
      assert.deepEqual(await t.readJournal("inv_rb"), []);
      assert.deepEqual(await t.findNotifications("inv_rb", ["c:1"]), []);
      assert.equal(await t.getState("Counter", "inv_rb", k("s")), undefined);
      assert.equal(await t.getLock("Counter", "inv_rb"), undefined);
      assert.equal(await t.getPromise("Signup", "inv_rb", "p"), undefined);
      assert.deepEqual(await t.takeCallbacks("inv_rb"), []);
      assert.deepEqual(await t.expiredInvocations(10, 10), []);
    });
  });

  test("a failed transaction leaves earlier committed data as it was", async () => {
    const store = ctx.store();
    const committed = invocation({ id: "inv_keep", status: "running" });
    let timerId = 0;
    await store.transaction(async (t) => {
      await writeEverything(t, "inv_other");
      await t.putInvocation(committed);
      await t.appendJournal("inv_keep", entry(0));
      await t.setState(1n, "Counter", "keep", k("a"), k("1"));
      await t.setState(1n, "Counter", "keep", k("b"), k("2"));
      timerId = (await t.addTimer(timer({ invocationId: "inv_keep" }))).id;
    });
    const timersBefore = await store.listTimers();
    await assert.rejects(
      store.transaction(async (t) => {
        await t.putInvocation({ ...committed, status: "completed", epoch: 5 });
        await t.deleteInvocation("inv_other");
        await t.appendJournal("inv_keep", entry(1));
        await t.deleteJournal("inv_other");
        await t.setState(1n, "Counter", "keep", k("a"), k("changed"));
        await t.clearState("Counter", "keep", k("b"));
        await t.clearAllState("Counter", "inv_other");
        await t.releaseLock("Counter", "inv_other");
        await t.takeCallbacks("inv_other");
        await t.deleteTimer(timerId);
        await t.deleteTimersOf("inv_other");
        throw new Error("abort");
      }),
      /abort/,
    );
    assertSameRecord(await store.readInvocation("inv_keep"), committed);
    assert.ok(await store.readInvocation("inv_other"));
    assert.equal((await store.readJournal("inv_keep")).length, 1);
    assert.equal((await store.readJournal("inv_other")).length, 1);
    assert.deepEqual(await store.readAllState("Counter", "keep"), [
      [k("a"), k("1")],
      [k("b"), k("2")],
    ]);
    assert.equal((await store.readAllState("Counter", "inv_other")).length, 1);
    assertSameRecord(await store.listTimers(), timersBefore);
    await store.transaction(async (t) => {
      assert.equal(await t.getLock("Counter", "inv_other"), "inv_other");
      assert.equal((await t.takeCallbacks("inv_other")).length, 1);
    });
  });

  test("changing what a rolled-back transaction read does not change committed data", async () => {
    const store = ctx.store();
    const cb = { invocationId: "inv_w", completionId: 1, notificationType: 5 };
    await store.transaction(async (t) => {
      await t.addCallback(1n, "inv_t", cb);
      await t.addTimer(timer({ dueAt: 500 }));
    });
    await assert.rejects(
      store.transaction(async (t) => {
        const taken = await t.takeCallbacks("inv_t");
        (taken[0] as { completionId: number }).completionId = 99;
        taken.push({ invocationId: "inv_intruder", completionId: 2, notificationType: 5 });
        throw new Error("abort");
      }),
    );
    const [listed] = await store.listTimers();
    (listed as { dueAt: number }).dueAt = 1;
    assert.equal((await store.listTimers())[0]?.dueAt, 500);
    assert.deepEqual(await store.transaction((t) => t.takeCallbacks("inv_t")), [cb]);
  });

  test("later transactions read records as committed: not a rolled-back write, not a change never put", async () => {
    const store = ctx.store();
    const committed = invocation({ id: "inv_seen", epoch: 1 });
    await store.transaction((t) => t.putInvocation(committed));
    await store.transaction(async (t) => {
      const inv = await t.getInvocation("inv_seen");
      assert.ok(inv);
      inv.epoch = 42; // changed in memory, never put
    });
    await assert.rejects(
      store.transaction(async (t) => {
        await t.putInvocation({ ...committed, status: "completed", epoch: 7 });
        assert.equal((await t.getInvocation("inv_seen"))?.epoch, 7, "the transaction reads its own write");
        await t.deleteInvocation("inv_seen");
        assert.equal(await t.getInvocation("inv_seen"), undefined, "the transaction reads its own deletion");
        throw new Error("abort");
      }),
      /abort/,
    );
    await store.transaction(async (t) => assertSameRecord(await t.getInvocation("inv_seen"), committed));
    await store.transaction((t) => t.deleteInvocation("inv_seen"));
    assert.equal(await store.transaction((t) => t.getInvocation("inv_seen")), undefined);
  });

  test("the store keeps working after a failed transaction", async () => {
    const store = ctx.store();
    await assert.rejects(store.transaction(async () => Promise.reject(new Error("first fails"))));
    await assert.rejects(
      store.transaction(async () => {
        throw new Error("second fails synchronously in an async fn");
      }),
    );
    await store.transaction((t) => t.putInvocation(invocation({ id: "inv_after" })));
    assert.ok(await store.readInvocation("inv_after"));
  });

  test("reads outside a transaction do not see its uncommitted writes", async () => {
    const store = ctx.store();
    const before = invocation({ id: "inv_iso_old", status: "running" });
    await store.transaction(async (t) => {
      await t.putInvocation(before);
      await t.appendJournal("inv_iso_old", entry(0));
      await t.setState(1n, "Counter", "iso", k("a"), k("old"));
    });
    const wrote = gate();
    const commit = gate();
    const running = store.transaction(async (t) => {
      await t.putInvocation(invocation({ id: "inv_iso_new" }));
      await t.putInvocation({ ...before, status: "completed", epoch: 9 });
      await t.appendJournal("inv_iso_new", entry(0));
      await t.appendJournal("inv_iso_old", entry(1));
      await t.setState(1n, "Counter", "iso", k("a"), k("new"));
      await t.setState(1n, "Counter", "iso", k("b"), k("new"));
      await t.addTimer(timer({ invocationId: "inv_iso_new" }));
      wrote.open();
      await commit.promise;
      return "committed";
    });
    await wrote.promise;
    // another async flow reads while the transaction is open
    const [inv, old, journal, oldJournal, state, running2, completed, timers] = await Promise.all([
      store.readInvocation("inv_iso_new"),
      store.readInvocation("inv_iso_old"),
      store.readJournal("inv_iso_new"),
      store.readJournal("inv_iso_old"),
      store.readAllState("Counter", "iso"),
      store.listInvocationsByStatus("running"),
      store.listInvocationsByStatus("completed"),
      store.listTimers(),
    ]);
    assert.equal(inv, undefined);
    assertSameRecord(old, before);
    assert.deepEqual(journal, []);
    assert.equal(oldJournal.length, 1);
    assert.deepEqual(state, [[k("a"), k("old")]]);
    assert.deepEqual(running2, ["inv_iso_old"]);
    assert.deepEqual(completed, []);
    assert.deepEqual(timers, []);
    commit.open();
    assert.equal(await running, "committed");
    assert.ok(await store.readInvocation("inv_iso_new"));
    assert.equal((await store.readInvocation("inv_iso_old"))?.status, "completed");
    assert.equal((await store.readJournal("inv_iso_old")).length, 2);
    assert.deepEqual(await store.readAllState("Counter", "iso"), [
      [k("a"), k("new")],
      [k("b"), k("new")],
    ]);
    assert.equal((await store.listTimers()).length, 1);
  });

  test("transactions started together run one after the other, in order", async () => {
    const store = ctx.store();
    const log: string[] = [];
    const counter = k("n");
    const increment = (name: string) =>
      store.transaction(async (t) => {
        log.push(`${name} start`);
        const current = Number((await t.getState("Counter", "c", counter))?.toString() ?? "0");
        await yieldToEventLoop();
        await yieldToEventLoop();
        await t.setState(1n, "Counter", "c", counter, k(String(current + 1)));
        log.push(`${name} end`);
        return current + 1;
      });
    const results = await Promise.all([increment("A"), increment("B"), increment("C")]);
    assert.deepEqual(log, ["A start", "A end", "B start", "B end", "C start", "C end"]);
    assert.deepEqual(results, [1, 2, 3], "each sees the commits before it");
    assert.deepEqual(await store.readAllState("Counter", "c"), [[counter, k("3")]]);
  });

  test("a transaction queued behind a failing one still runs", async () => {
    const store = ctx.store();
    const first = store.transaction(async (t) => {
      await t.setState(1n, "Counter", "c", k("x"), k("lost"));
      await yieldToEventLoop();
      throw new Error("first");
    });
    const second = store.transaction(async (t) => {
      assert.equal(await t.getState("Counter", "c", k("x")), undefined, "the failed write is not visible");
      await t.setState(1n, "Counter", "c", k("x"), k("kept"));
    });
    await assert.rejects(first, /first/);
    await second;
    assert.deepEqual(await store.readAllState("Counter", "c"), [[k("x"), k("kept")]]);
  });

  test("registry writes wait for a transaction in progress", async () => {
    const store = ctx.store();
    const commit = gate();
    const started = gate();
    const log: string[] = [];
    const txn = store.transaction(async () => {
      started.open();
      await commit.promise;
      log.push("transaction committed");
    });
    await started.promise;
    const put = store.putDeployment(deployment("dp_1")).then(() => log.push("deployment written"));
    await yieldToEventLoop();
    await yieldToEventLoop();
    assert.deepEqual(log, []);
    commit.open();
    await Promise.all([txn, put]);
    assert.deepEqual(log, ["transaction committed", "deployment written"]);
    assert.equal((await store.listDeployments()).length, 1);
  });
}
