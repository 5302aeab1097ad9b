// End to end: the Counter virtual object. State kept per key across calls, exclusive handlers queued per
// key (a second call on a busy key waits, other keys and shared handlers do not), keys percent-decoded,
// clearAll, terminal errors from an object.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { http } from "../support/http.ts";
import { assertIngressError, post, startE2e, uniqueKey, type E2eEnv, type SendAck } from "./harness.ts";

let env: E2eEnv;

before(async () => {
  env = await startE2e();
});

after(async () => {
  await env?.close();
});

const counter = (key: string, handler: string) => `${env.ingress}/Counter/${encodeURIComponent(key)}/${handler}`;

test("state survives across calls on one key", async () => {
  const key = uniqueKey("state");
  const first = await post(counter(key, "add"), 5);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json, 5);
  const second = await post(counter(key, "add"), 3);
  assert.equal(second.json, 8);
  const get = await http(counter(key, "get"));
  assert.equal(get.status, 200, get.text);
  assert.equal(get.json, 8);
  // add without input adds 0 and still answers the current value
  const none = await post(counter(key, "add"));
  assert.equal(none.json, 8);
});

test("state is per key", async () => {
  const a = uniqueKey("a");
  const b = uniqueKey("b");
  assert.equal((await post(counter(a, "add"), 10)).json, 10);
  assert.equal((await post(counter(b, "add"), 1)).json, 1);
  assert.equal((await http(counter(a, "get"))).json, 10);
  assert.equal((await http(counter(b, "get"))).json, 1);
  assert.equal((await http(counter(uniqueKey("never"), "get"))).json, 0);
});

test("object keys are percent-decoded: differently encoded forms of one key share state", async () => {
  const base = uniqueKey("enc");
  const add = await post(`${env.ingress}/Counter/${base}x%2Fy%20z/add`, 4);
  assert.equal(add.status, 200, add.text);
  // lower-case escapes decode to the same key "…x/y z"
  const get = await http(`${env.ingress}/Counter/${base}x%2fy%20z/get`);
  assert.equal(get.json, 4, get.text);
  // a literal "%2F" (encoded as %252F) is a different key
  const other = await http(`${env.ingress}/Counter/${base}x%252Fy%20z/get`);
  assert.equal(other.json, 0, other.text);
  // the empty key is a valid key
  const empty = await post(`${env.ingress}/Counter//add`, 2);
  assert.equal(empty.status, 200, empty.text);
});

test("clear removes the key's state", async () => {
  const key = uniqueKey("clear");
  await post(counter(key, "add"), 7);
  await post(counter(key, "countExec"), "x");
  const cleared = await post(counter(key, "clear"));
  assert.equal(cleared.status, 200, cleared.text);
  assert.equal(cleared.text, "");
  assert.equal((await http(counter(key, "get"))).json, 0);
  assert.equal((await http(counter(key, "execs"))).json, 0);
  assert.equal((await post(counter(key, "add"), 1)).json, 1, "adding after clear starts from 0");
});

test("per-key ordering: an exclusive call waits for the running one; other keys and shared handlers do not", async () => {
  const key = uniqueKey("busy");
  const blockMs = 1200;
  const t0 = Date.now();
  const sent = await post(counter(key, "block/send"), { ms: blockMs });
  assert.equal(sent.status, 202, sent.text);
  const blockId = (sent.json as SendAck).invocationId;

  let blockDoneAt = 0;
  const blockDone = http(`${env.ingress}/restate/invocation/${blockId}/attach`).then((res) => {
    blockDoneAt = Date.now();
    return res;
  });

  // Queued behind the block on the same key.
  let queuedDoneAt = 0;
  const queued = post(counter(key, "add"), 1).then((res) => {
    queuedDoneAt = Date.now();
    return res;
  });

  // Another key and a shared handler on the busy key answer while the block still runs.
  const otherKey = await post(counter(uniqueKey("free"), "add"), 2);
  assert.equal(otherKey.status, 200, otherKey.text);
  assert.equal(otherKey.json, 2);
  const shared = await http(counter(key, "get"));
  assert.equal(shared.status, 200, shared.text);
  assert.equal(shared.json, 0, "the shared get does not see the queued add yet");
  const stillRunning = await http(`${env.ingress}/restate/invocation/${blockId}/output`);
  assertIngressError(stillRunning, 470, "the invocation exists but has not completed yet");
  assert.equal(queuedDoneAt, 0, "the queued add must not have completed while the block runs");

  const [blockRes, queuedRes] = await Promise.all([blockDone, queued]);
  assert.equal(blockRes.status, 200, blockRes.text);
  assert.equal(blockRes.json, "unblocked");
  assert.equal(queuedRes.status, 200, queuedRes.text);
  assert.equal(queuedRes.json, 1);
  assert.ok(queuedDoneAt >= blockDoneAt - 50, `add finished ${blockDoneAt - queuedDoneAt} ms before the block ended`);
  assert.ok(queuedDoneAt - t0 >= blockMs - 100, `add finished after ${queuedDoneAt - t0} ms, the block takes ${blockMs} ms`);
});

test("exclusive handlers on one key run one after the other; shared ones concurrently", async () => {
  const key = uniqueKey("conc");
  // Completion order decides, not durations: a short handler sent after a long one on the same key finishes
  // after it when both are exclusive, and before it when both are shared.
  const finished: string[] = [];
  const track = (name: string, res: Promise<{ status: number; text: string }>) =>
    res.then((r) => {
      finished.push(name);
      assert.equal(r.status, 200, r.text);
    });

  const longBlock = await post(counter(key, "block/send"), { ms: 800 });
  const longId = (longBlock.json as SendAck).invocationId;
  const shortBlock = await post(counter(key, "block/send"), { ms: 0 });
  const shortId = (shortBlock.json as SendAck).invocationId;
  await Promise.all([
    track("long exclusive", http(`${env.ingress}/restate/invocation/${longId}/attach`)),
    track("short exclusive", http(`${env.ingress}/restate/invocation/${shortId}/attach`)),
  ]);
  assert.deepEqual(finished, ["long exclusive", "short exclusive"]);

  // A shared handler on the key is not held up by a long shared one.
  const longShared = await post(counter(key, "sharedSleep/send"), { ms: 60_000 });
  const longSharedId = (longShared.json as SendAck).invocationId;
  const short = await post(counter(key, "sharedSleep"), { ms: 0 });
  assert.equal(short.status, 200, short.text);
  assert.equal(short.json, "slept");
  assertIngressError(
    await http(`${env.ingress}/restate/invocation/${longSharedId}/output`),
    470,
    "the invocation exists but has not completed yet",
  );
  // An exclusive handler on the same key is not held up by it either (shared handlers take no lock).
  const exclusive = await post(counter(key, "add"), 3);
  assert.equal(exclusive.json, 3, exclusive.text);
  const cancelled = await http(`${env.admin}/invocations/${longSharedId}/cancel`, { method: "PATCH" });
  assert.equal(cancelled.status, 202, cancelled.text);
});

test("many concurrent exclusive adds on one key each apply exactly once", async () => {
  const key = uniqueKey("many");
  const results = await Promise.all(Array.from({ length: 20 }, () => post(counter(key, "add"), 1)));
  const values = results.map((r) => r.json as number).sort((x, y) => x - y);
  assert.deepEqual(values, Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal((await http(counter(key, "get"))).json, 20);
});

test("TerminalError from an object handler", async () => {
  const res = await post(counter(uniqueKey("fail"), "fail"));
  assertIngressError(res, 400, "object failure", "invocation");
  assert.deepEqual(res.json, { code: 400, message: "object failure", source: "invocation" });
});
