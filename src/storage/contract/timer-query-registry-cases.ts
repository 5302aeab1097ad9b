// Contract cases for timers, the queries used at start-up and by retention cleanup, and the schema registry
// (deployments and services).

import { test } from "node:test";
import assert from "node:assert/strict";
import { BIG_PARTITION_KEYS, assertSameRecord, deployment, invocation, serviceRecord, sortedStrings, timer, type ContractContext } from "./fixtures.ts";

export function timerCases(ctx: ContractContext): void {
  test("addTimer returns the record with a fresh id; listTimers returns them sorted by due time", async () => {
    const store = ctx.store();
    const specs = [
      timer({ dueAt: 30_000, invocationId: "inv_a" }),
      timer({ dueAt: 10_000, invocationId: "inv_b", kind: "retry", completionId: undefined, epoch: 4 }),
      timer({ dueAt: 20_000, invocationId: "inv_c", kind: "cleanup", completionId: undefined, partitionKey: BIG_PARTITION_KEYS[2]! }),
      timer({ dueAt: 5_000, invocationId: "inv_d", kind: "start", completionId: undefined, partitionKey: 2n ** 63n }),
    ];
    const added = await store.transaction(async (t) => {
      const out = [];
      for (const s of specs) out.push(await t.addTimer(s));
      return out;
    });
    for (const [i, rec] of added.entries()) {
      assert.ok(Number.isInteger(rec.id) && rec.id > 0, `id ${rec.id}`);
      assertSameRecord(rec, { ...specs[i]!, id: rec.id });
    }
    assert.equal(new Set(added.map((r) => r.id)).size, added.length, "ids are distinct");
    const listed = await store.listTimers();
    assert.deepEqual(
      listed.map((r) => r.dueAt),
      [5_000, 10_000, 20_000, 30_000],
    );
    for (const rec of added) {
      const found = listed.find((r) => r.id === rec.id);
      assertSameRecord(found, rec);
      assert.equal(typeof found?.partitionKey, "bigint");
    }
    const byInvocation = Object.fromEntries(listed.map((r) => [r.invocationId, r]));
    assert.equal(byInvocation.inv_b?.completionId, undefined);
    assert.equal(byInvocation.inv_b?.epoch, 4);
    assert.equal(byInvocation.inv_a?.epoch, undefined);
  });

  test("timers due at the same time are listed in id order", async () => {
    const store = ctx.store();
    const added = await store.transaction(async (t) => {
      const out = [];
      for (let i = 0; i < 6; i++) out.push(await t.addTimer(timer({ dueAt: i % 2 === 0 ? 7_000 : 3_000, invocationId: `inv_${i}` })));
      return out;
    });
    const expected = [...added].sort((a, b) => a.dueAt - b.dueAt || a.id - b.id).map((r) => r.id);
    assert.deepEqual(
      (await store.listTimers()).map((r) => r.id),
      expected,
    );
  });

  test("timer ids are not reused after a delete", async () => {
    const store = ctx.store();
    const first = await store.transaction((t) => t.addTimer(timer()));
    await store.transaction((t) => t.deleteTimer(first.id));
    const second = await store.transaction((t) => t.addTimer(timer()));
    assert.ok(second.id > first.id, `${second.id} > ${first.id}`);
  });

  test("deleteTimer removes one; deleteTimersOf removes all of one invocation", async () => {
    const store = ctx.store();
    const [a1, a2, b1, c1] = await store.transaction(async (t) => [
      await t.addTimer(timer({ invocationId: "inv_a", dueAt: 1 })),
      await t.addTimer(timer({ invocationId: "inv_a", dueAt: 2, kind: "retry" })),
      await t.addTimer(timer({ invocationId: "inv_b", dueAt: 3 })),
      await t.addTimer(timer({ invocationId: "inv_c", dueAt: 4 })),
    ]);
    await store.transaction(async (t) => {
      await t.deleteTimer(c1!.id);
      await t.deleteTimer(987_654);
    });
    assert.deepEqual(
      (await store.listTimers()).map((r) => r.id),
      [a1!.id, a2!.id, b1!.id],
    );
    await store.transaction(async (t) => {
      await t.deleteTimersOf("inv_a");
      await t.deleteTimersOf("inv_none");
    });
    assert.deepEqual(
      (await store.listTimers()).map((r) => r.id),
      [b1!.id],
    );
  });
}

export function queryCases(ctx: ContractContext): void {
  test("expiredInvocations returns records whose retention ended, up to the limit", async () => {
    const store = ctx.store();
    await store.transaction(async (t) => {
      await t.putInvocation(invocation({ id: "inv_exp_100", status: "completed", expiresAt: 100 }));
      await t.putInvocation(invocation({ id: "inv_exp_150", status: "completed", expiresAt: 150 }));
      await t.putInvocation(invocation({ id: "inv_exp_300", status: "completed", expiresAt: 300 }));
      await t.putInvocation(invocation({ id: "inv_never", status: "completed", expiresAt: undefined }));
      await t.putInvocation(invocation({ id: "inv_running" }));
    });
    await store.transaction(async (t) => {
      assert.deepEqual(sortedStrings(await t.expiredInvocations(200, 10)), ["inv_exp_100", "inv_exp_150"]);
      assert.deepEqual(await t.expiredInvocations(50, 10), []);
      const limited = await t.expiredInvocations(200, 1);
      assert.equal(limited.length, 1);
      assert.ok(["inv_exp_100", "inv_exp_150"].includes(limited[0]!));
      assert.deepEqual(sortedStrings(await t.expiredInvocations(1_000_000, 10)), ["inv_exp_100", "inv_exp_150", "inv_exp_300"]);
      await t.deleteInvocation("inv_exp_100");
      assert.deepEqual(await t.expiredInvocations(200, 10), ["inv_exp_150"], "sees its own delete");
    });
  });

  test("listInvocationsByStatus filters by status and orders by creation time", async () => {
    const store = ctx.store();
    await store.transaction(async (t) => {
      await t.putInvocation(invocation({ id: "inv_r3", createdAt: 3_000 }));
      await t.putInvocation(invocation({ id: "inv_r1", createdAt: 1_000 }));
      await t.putInvocation(invocation({ id: "inv_s", status: "suspended", createdAt: 500 }));
      await t.putInvocation(invocation({ id: "inv_r2", createdAt: 2_000 }));
    });
    assert.deepEqual(await store.listInvocationsByStatus("running"), ["inv_r1", "inv_r2", "inv_r3"]);
    assert.deepEqual(await store.listInvocationsByStatus("suspended"), ["inv_s"]);
    assert.deepEqual(await store.listInvocationsByStatus("paused"), []);
  });
}

export function registryCases(ctx: ContractContext): void {
  test("deployments: put, list sorted by id, overwrite, delete", async () => {
    const store = ctx.store();
    assert.deepEqual(await store.listDeployments(), []);
    const d2 = deployment("dp_2", { sdkVersion: "restate-sdk-typescript/1.17.2", protocolType: "RequestResponse", httpVersion: "HTTP/1.1" });
    const d1 = deployment("dp_1");
    await store.putDeployment(d2);
    await store.putDeployment(d1);
    const listed = await store.listDeployments();
    assert.deepEqual(
      listed.map((d) => d.id),
      ["dp_1", "dp_2"],
    );
    assertSameRecord(listed, [d1, d2]);
    const d1b = deployment("dp_1", { uri: "http://elsewhere:9080", services: [] });
    await store.putDeployment(d1b);
    assertSameRecord(await store.listDeployments(), [d1b, d2]);
    await store.deleteDeployment("dp_1");
    await store.deleteDeployment("dp_unknown");
    assertSameRecord(await store.listDeployments(), [d2]);
  });

  test("services: put, list sorted by name, overwrite, delete some", async () => {
    const store = ctx.store();
    assert.deepEqual(await store.listServices(), []);
    const names = ["alpha", "Zeta", "Beta", "_x1", "a.b-c"];
    await store.putServices(names.map((n) => serviceRecord(n)));
    const expectedOrder = [...names].sort();
    assert.deepEqual(
      (await store.listServices()).map((s) => s.name),
      expectedOrder,
      "byte-wise order of names, not locale order",
    );
    const beta2 = serviceRecord("Beta", {
      revision: 2,
      deploymentId: "dp_2",
      overrides: { public: false, idempotencyRetentionMs: 172_800_000, retryPolicy: { maxAttempts: null } },
    });
    await store.putServices([beta2]);
    const listed = await store.listServices();
    assertSameRecord(
      listed.find((s) => s.name === "Beta"),
      beta2,
    );
    assert.equal(listed.length, names.length);
    await store.deleteServices(["alpha", "Zeta", "unknown"]);
    assert.deepEqual(
      (await store.listServices()).map((s) => s.name),
      ["Beta", "_x1", "a.b-c"],
    );
    await store.putServices([]);
    await store.deleteServices([]);
    assert.equal((await store.listServices()).length, 3);
  });

  test("registry records are copied on the way in and out", async () => {
    const store = ctx.store();
    const d = deployment("dp_1");
    await store.putDeployment(d);
    (d as { uri: string }).uri = "changed";
    const [got] = await store.listDeployments();
    assert.equal(got?.uri, "http://localhost:9080/dp_1");
    (got as { uri: string }).uri = "changed again";
    assert.equal((await store.listDeployments())[0]?.uri, "http://localhost:9080/dp_1");
  });
}
