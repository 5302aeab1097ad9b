// Tests of the invoker's bookkeeping with a scripted endpoint client (no network): an attempt that ended is not
// kept reachable by the invoker, neither through its slot nor through the burst window it was launched in; an
// early start opens its stream when the current task ends, any other start on the next loop turn; a held
// invocation launches no attempt and gets no held-back notification before its time, nor after close.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { randomBytes } from "node:crypto";
import { Invoker } from "./invoker.ts";
import type { EndpointClient, EndpointStream, StreamListener } from "../endpoint/client.ts";
import type { Registry } from "../deployments/registry.ts";
import type { Store } from "../storage/api/store.ts";
import type { PartitionCommand } from "../partition/commands.ts";
import { deployment, invocation } from "../storage/contract/fixtures.ts";
import { encodeInvocationId, newInvocationId } from "../core/ids.ts";
import { encodeFrame } from "../protocol/frame.ts";
import { MessageType } from "../protocol/message-types.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** A client whose streams the test drives; it keeps only the listener of the stream opened last. */
function scriptedClient() {
  const opened: { listener: StreamListener | undefined; stream: WeakRef<EndpointStream> | undefined } = { listener: undefined, stream: undefined };
  const client = {
    open(_url: URL, _options: unknown, listener: StreamListener): EndpointStream {
      const stream: EndpointStream = { write() {}, end() {}, abort() {} };
      opened.listener = listener;
      opened.stream = new WeakRef(stream);
      return stream;
    },
    resetConnection() {},
  } as unknown as EndpointClient;
  return { client, opened };
}

const dp = deployment("dp_1", { uri: "http://127.0.0.1:1", httpVersion: "HTTP/2.0", protocolType: "BidiStream" });
const registry = {
  deployment: (id: string) => (id === dp.id ? dp : undefined),
  service: () => undefined,
  handler: () => undefined,
  sendsEagerState: () => false,
} as unknown as Registry;

/** A running invocation of a plain service and its snapshot, as a committed batch hands it over. */
function runningSnapshot() {
  const id = encodeInvocationId(newInvocationId(7n, randomBytes(16)));
  const inv = invocation({ id, epoch: 1, status: "running", deploymentId: dp.id, key: undefined, serviceType: "service", handlerType: undefined, protocolVersion: 5 });
  return { id, snapshot: { invocation: inv, journal: [] } };
}

test("an early start opens its stream when the current task ends; another start waits for the next loop turn", async () => {
  const { client, opened } = scriptedClient();
  const invoker = new Invoker({ store: {} as Store, registry, client, clock: { now: () => 1_000_000 }, submit: () => {}, log: () => {} });
  const early = runningSnapshot();
  invoker.start(early.id, 1, early.snapshot, true);
  assert.equal(opened.listener, undefined, "not inside the committing task itself");
  await Promise.resolve();
  assert.ok(opened.listener, "open once the task's microtasks ran, before any other task");
  opened.listener = undefined;

  const late = runningSnapshot();
  invoker.start(late.id, 1, late.snapshot);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(opened.listener, undefined, "a start after durability leaves this turn to the batch's replies");
  await new Promise((r) => setImmediate(r));
  assert.ok(opened.listener, "open on the next loop turn");
  invoker.close();
});

test("an attempt that ended is not retained by the invoker, even within the burst window it was launched in", async () => {
  const { client, opened } = scriptedClient();
  const submitted: PartitionCommand[] = [];
  const invoker = new Invoker({
    store: {} as Store, // a start with a snapshot reads nothing
    registry,
    client,
    clock: { now: () => 1_000_000 }, // time stands still: the launch stays inside the burst window
    submit: (cmd) => submitted.push(cmd),
    log: () => {},
    maxFreshAttempts: 128,
    freshWindowMs: 250,
  });
  const { id, snapshot } = runningSnapshot();
  invoker.start(id, 1, snapshot);
  await new Promise((r) => setImmediate(r)); // streams open on the next turn
  await new Promise((r) => setImmediate(r));
  assert.ok(opened.listener, "the attempt opened its stream");
  assert.equal(invoker.activeAttempts, 1);

  opened.listener.onResponse(200, { "content-type": "application/vnd.restate.invocation.v5" });
  opened.listener.onData(encodeFrame(MessageType.End, Buffer.alloc(0)));
  opened.listener.onEnd();
  opened.listener = undefined;
  assert.deepEqual(
    submitted.map((c) => c.kind),
    ["endpoint-message"],
    "the End message went to the partition",
  );
  assert.equal(invoker.activeAttempts, 0);

  await new Promise((r) => setImmediate(r));
  gc();
  assert.equal(opened.stream?.deref(), undefined, "the ended attempt (and its stream) can be collected");
  invoker.close();
});

/** A store for starts without a snapshot: the invocation as stored, an empty journal, everything durable. */
function storeOf(inv: ReturnType<typeof runningSnapshot>["snapshot"]["invocation"]): Store {
  return { readInvocation: async () => inv, readJournal: async () => [], durableBarrier: async () => {} } as unknown as Store;
}

test("a held invocation launches no attempt before the hold ends, then one from the journal as stored", async () => {
  const { client, opened } = scriptedClient();
  const { id, snapshot } = runningSnapshot();
  const invoker = new Invoker({ store: storeOf(snapshot.invocation), registry, client, clock: { now: () => Date.now() }, submit: () => {}, log: () => {} });
  const until = Date.now() + 40;
  invoker.hold(id, until);
  invoker.start(id, 1, snapshot);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(opened.listener, undefined, "no stream while held");
  while (!opened.listener && Date.now() < until + 1_000) await new Promise((r) => setTimeout(r, 5));
  assert.ok(opened.listener, "the attempt launched once the hold ended");
  assert.ok(Date.now() >= until, "not before the hold ended");
  invoker.close();
});

test("a notification pushed with a not-before time reaches the stream only then", async () => {
  const writes: Array<{ at: number; bytes: number }> = [];
  const { client, opened } = scriptedClient();
  const recording = {
    open(url: URL, options: unknown, listener: StreamListener): EndpointStream {
      const stream = client.open(url, options as never, listener);
      return { ...stream, write: (chunk: Buffer) => void writes.push({ at: Date.now(), bytes: chunk.length }) };
    },
    resetConnection() {},
  } as unknown as EndpointClient;
  const { id, snapshot } = runningSnapshot();
  const invoker = new Invoker({ store: {} as Store, registry, client: recording, clock: { now: () => Date.now() }, submit: () => {}, log: () => {} });
  invoker.start(id, 1, snapshot);
  while (!opened.listener) await new Promise((r) => setImmediate(r));
  opened.listener.onResponse(200, { "content-type": "application/vnd.restate.invocation.v5" });
  const started = writes.length; // Start (and the empty journal)
  assert.ok(started >= 1);
  const notBefore = Date.now() + 40;
  const frame = encodeFrame(MessageType.SleepCompletion, Buffer.from([1]));
  invoker.push(id, 1, 1, frame, notBefore);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(writes.length, started, "held back before its time");
  while (writes.length === started && Date.now() < notBefore + 1_000) await new Promise((r) => setTimeout(r, 5));
  assert.equal(writes.length, started + 1, "sent once its time came");
  assert.ok(writes[started]!.at >= notBefore, "not before its time");
  invoker.close();
});

test("after close, a start held back by a hold does not launch", async () => {
  const { client, opened } = scriptedClient();
  const { id, snapshot } = runningSnapshot();
  const invoker = new Invoker({ store: storeOf(snapshot.invocation), registry, client, clock: { now: () => Date.now() }, submit: () => {}, log: () => {} });
  invoker.hold(id, Date.now() + 20);
  invoker.start(id, 1, snapshot);
  invoker.close();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(opened.listener, undefined);
});
