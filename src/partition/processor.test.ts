// The partition processor's batching against a store whose durability the test controls: batches commit in
// order, a batch can commit while the previous one is being made durable, submitters hear back only after their
// batch is durable and in commit order, and no submitted command is left waiting. The first attempt of a new
// invocation starts at COMMIT, unless its id was removed before (in the batch or one not finished yet), when
// effects of the removed incarnation may still be waiting.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Committed, PartitionTxn, Store } from "../storage/api/store.ts";
import { MemoryStore } from "../storage/memory/memory-store.ts";
import type { PartitionDeps } from "./batch.ts";
import type { PartitionCommand } from "./commands.ts";
import { PartitionProcessor } from "./processor.ts";
import type { Effect } from "./effects.ts";
import { idempotentInvocationId } from "./invoke.ts";
import { Registry } from "../deployments/registry.ts";
import type { EndpointClient } from "../endpoint/client.ts";
import { deployment } from "../storage/contract/fixtures.ts";

/** A memory store whose commits become durable only when the test says so; COMMIT itself can be held too. */
class GatedStore {
  readonly inner = new MemoryStore();
  readonly gates: Array<{ open(): void; fail(err: Error): void }> = [];
  commits = 0;
  /** While set, COMMIT waits for it. */
  hold: Promise<void> | undefined;

  async commit<T>(fn: (txn: PartitionTxn) => Promise<T>): Promise<Committed<T>> {
    const result = await this.inner.transaction(fn);
    if (this.hold) await this.hold;
    this.commits++;
    let open!: () => void;
    let fail!: (err: Error) => void;
    const durable = new Promise<void>((resolve, reject) => {
      open = resolve;
      fail = reject;
    });
    durable.catch(() => undefined);
    this.gates.push({ open, fail });
    return { result, durable };
  }
}

const deps = { registry: undefined, clock: { now: () => 0 }, random: { bytes: (n: number) => Buffer.alloc(n) }, maxProtocolVersion: 7 } as unknown as PartitionDeps;
const cleanup: PartitionCommand = { kind: "cleanup", limit: 10 };
const tick = () => new Promise((r) => setImmediate(r));

function setup() {
  const store = new GatedStore();
  const processor = new PartitionProcessor(store as unknown as Store, deps, () => {});
  return { store, processor };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await tick();
  assert.ok(cond(), "condition not reached");
}

test("commands queued at a commit form the next batch, which commits while the previous one syncs; replies in commit order", async () => {
  const { store, processor } = setup();
  const order: string[] = [];
  let release!: () => void;
  store.hold = new Promise<void>((r) => (release = r));
  const a = processor.submit(cleanup).then(() => order.push("a"));
  await tick();
  const b = processor.submit(cleanup).then(() => order.push("b"));
  store.hold = undefined;
  release();
  await until(() => store.commits === 2);
  await tick();
  assert.deepEqual(order, [], "nothing answered before its commit is durable");
  store.gates[1]!.open();
  await tick();
  assert.deepEqual(order, [], "a later batch never finishes before an earlier one");
  store.gates[0]!.open();
  await Promise.all([a, b]);
  assert.deepEqual(order, ["a", "b"]);
});

test("commands that arrive while a batch syncs wait for it and then go into one batch", async () => {
  const { store, processor } = setup();
  const a = processor.submit(cleanup);
  await until(() => store.commits === 1);
  const rest = [processor.submit(cleanup), processor.submit(cleanup), processor.submit(cleanup)];
  for (let i = 0; i < 5; i++) await tick();
  assert.equal(store.commits, 1, "no small batch per arrival while one syncs");
  store.gates[0]!.open();
  await a;
  await until(() => store.commits === 2);
  store.gates[1]!.open();
  await Promise.all(rest);
  assert.equal(store.commits, 2, "the three waiting commands committed together");
});

test("a command submitted while the last batch finishes is applied without any further submission", async () => {
  const { store, processor } = setup();
  const a = processor.submit(cleanup);
  await until(() => store.commits === 1);
  // The queue is empty now and the processor only waits for the first batch: submit exactly then.
  await tick();
  const b = processor.submit(cleanup);
  store.gates[0]!.open();
  await a;
  await until(() => store.commits === 2);
  store.gates[1]!.open();
  await b;
});

test("when a commit cannot be made durable its commands fail, and later commands still run", async () => {
  const { store, processor } = setup();
  const a = processor.submit(cleanup);
  await until(() => store.commits === 1);
  store.gates[0]!.fail(new Error("fsync failed"));
  await assert.rejects(a, /fsync failed/);
  const b = processor.submit(cleanup);
  await until(() => store.commits === 2);
  store.gates[1]!.open();
  await b;
});

test("close waits until every submitted command finished", async () => {
  const { store, processor } = setup();
  let done = false;
  const a = processor.submit(cleanup).then(() => (done = true));
  await until(() => store.commits === 1);
  const closed = processor.close();
  await tick();
  assert.equal(done, false);
  store.gates[0]!.open();
  await closed;
  assert.equal(done, true);
  await a;
  await assert.rejects(processor.submit(cleanup), /shutting down/);
});

test("posted commands are applied in order with submitted ones; a failed sync or a closed processor reaches onFailure", async () => {
  const { store, processor } = setup();
  const failures: unknown[] = [];
  processor.post(cleanup, (err) => failures.push(err));
  const after = processor.submit(cleanup);
  await until(() => store.commits === 1);
  store.gates[0]!.open();
  await after;
  assert.equal(failures.length, 0, "an applied, durable command reports nothing");
  processor.post(cleanup, (err) => failures.push(err));
  await until(() => store.commits === 2);
  store.gates[1]!.fail(new Error("disk gone"));
  await until(() => failures.length === 1);
  assert.match(String(failures[0]), /disk gone/);
  await processor.close();
  processor.post(cleanup, (err) => failures.push(err));
  assert.equal(failures.length, 2);
  assert.equal((failures[1] as Error).name, "ShuttingDown");
});

/** A processor over a registry that knows the fixture deployment's Greeter service; every effect is recorded. */
async function withGreeter() {
  const store = new GatedStore();
  const dp = deployment("dp_1");
  await store.inner.putDeployment(dp);
  await store.inner.putServices([{ name: "Greeter", revision: 1, deploymentId: dp.id, definition: dp.services[0]!, overrides: {} }]);
  const clock = { now: () => 1_000 };
  const random = { bytes: (n: number) => Buffer.alloc(n, 7) };
  const registry = new Registry({ store: store.inner, client: undefined as unknown as EndpointClient, clock, random });
  await registry.load();
  const effects: Effect[] = [];
  const processor = new PartitionProcessor(store as unknown as Store, { registry, clock, random, maxProtocolVersion: 7 }, (e) => effects.push(e));
  return { store, processor, effects };
}

const sendGreet = (idempotencyKey: string): PartitionCommand => ({
  kind: "invoke",
  request: { target: { service: "Greeter", handler: "greet", key: undefined }, input: Buffer.from("{}"), headers: [], idempotencyKey, executionTime: undefined, source: { kind: "ingress" }, mode: "send" },
});

const starts = (effects: Effect[]) => effects.filter((e) => e.kind === "start-attempt");

test("a new invocation's first attempt starts at COMMIT, before the batch is durable; the reply still waits", async () => {
  const { store, processor, effects } = await withGreeter();
  let replied = false;
  const sent = processor.submit(sendGreet("k1")).then(() => (replied = true));
  await until(() => store.commits === 1);
  const id = idempotentInvocationId("Greeter", undefined, "greet", "k1");
  assert.deepEqual(starts(effects).map((e) => [e.invocationId, e.epoch]), [[id, 1]], "started while the commit syncs");
  const first = starts(effects)[0]!;
  assert.ok(first.kind === "start-attempt" && first.snapshot, "from the batch's snapshot");
  assert.ok(first.kind === "start-attempt" && first.early === true, "marked early for the invoker");
  await tick();
  assert.equal(replied, false, "the 202 waits for durability");
  assert.equal(processor.earlyStarts, 1);
  store.gates[0]!.open();
  await sent;
  assert.equal(starts(effects).length, 1, "started once");
});

test("a re-created invocation's start waits while the batch that removed its id (and aborts its old attempt) is unfinished", async () => {
  const { store, processor, effects } = await withGreeter();
  const id = idempotentInvocationId("Greeter", undefined, "greet", "k2");
  let release!: () => void;
  store.hold = new Promise<void>((r) => (release = r));
  // Batch 1: create, kill (aborts the attempt once durable) and purge the invocation.
  const first = [processor.submit(sendGreet("k2")), processor.submit({ kind: "kill", invocationId: id }), processor.submit({ kind: "purge", invocationId: id })];
  await tick();
  // Batch 2, committed while batch 1 syncs: the same idempotency key creates the same invocation id again.
  const again = processor.submit(sendGreet("k2"));
  store.hold = undefined;
  release();
  await until(() => store.commits === 2);
  await tick();
  assert.deepEqual(effects.map((e) => e.kind), ["start-attempt"], "only batch 1's start ran early");
  store.gates[0]!.open();
  await Promise.all(first);
  assert.ok(effects.some((e) => e.kind === "abort-attempt"), "batch 1's abort ran once durable");
  assert.equal(starts(effects).length, 1, "the new start waits for its own batch");
  store.gates[1]!.open();
  await again;
  const kinds = effects.map((e) => e.kind);
  assert.equal(starts(effects).length, 2);
  assert.ok(kinds.lastIndexOf("start-attempt") > kinds.indexOf("abort-attempt"), "the abort of the old attempt comes before the new start");
  const last = starts(effects)[1]!;
  assert.ok(last.kind === "start-attempt" && last.early === undefined, "the delayed start is not marked early");
  assert.equal(processor.earlyStarts, 1);
});

test("a start is not early when the same batch removed its id before it (the old attempt's abort goes first)", async () => {
  const { store, processor, effects } = await withGreeter();
  const id = idempotentInvocationId("Greeter", undefined, "greet", "k3");
  // One batch: create, kill, purge, create again. The second start comes after the abort of the first.
  const all = [
    processor.submit(sendGreet("k3")),
    processor.submit({ kind: "kill", invocationId: id }),
    processor.submit({ kind: "purge", invocationId: id }),
    processor.submit(sendGreet("k3")),
  ];
  await until(() => store.commits === 1);
  await tick();
  assert.equal(starts(effects).length, 1, "the first start ran early, the second waits behind the abort");
  store.gates[0]!.open();
  await Promise.all(all);
  const kinds = effects.map((e) => e.kind);
  assert.equal(starts(effects).length, 2);
  assert.ok(kinds.lastIndexOf("start-attempt") > kinds.indexOf("abort-attempt"));
});
