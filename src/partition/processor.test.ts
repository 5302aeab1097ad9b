// The partition processor's batching against a store whose durability the test controls: batches commit in
// order, a batch can commit while the previous one is being made durable, submitters hear back only after their
// batch is durable and in commit order, and no submitted command is left waiting.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Committed, PartitionTxn, Store } from "../storage/api/store.ts";
import { MemoryStore } from "../storage/memory/memory-store.ts";
import type { PartitionDeps } from "./batch.ts";
import type { PartitionCommand } from "./commands.ts";
import { PartitionProcessor } from "./processor.ts";

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
