// Bounds that keep memory in check under overload: attempts beyond the concurrency limit wait for a slot and
// still complete; bursts are staggered by the fresh-attempt bound; new invocations beyond the backlog limit are refused with 503 and Retry-After, and change
// nothing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { assertIngressError, startE2e } from "./harness.ts";
import { http } from "../support/http.ts";
import { waitFor } from "../support/admin-client.ts";

test("attempts beyond the concurrency limit wait for a slot and all complete", async (t) => {
  const env = await startE2e({ config: { maxConcurrentAttempts: 1 } });
  t.after(() => env.close());
  const started = Date.now();
  const calls = await Promise.all([1, 2, 3].map(() => http(`${env.ingress}/Greeter/sleep`, { json: { ms: 300 } })));
  for (const c of calls) assert.equal(c.status, 200, c.text);
  // One slot: the three handlers ran one after the other (each keeps its stream while it sleeps).
  assert.ok(Date.now() - started >= 850, `three 300 ms sleeps through one slot took ${Date.now() - started} ms`);
});

test("the fresh-attempt bound staggers a burst but does not hold new attempts behind long-running ones", async (t) => {
  const env = await startE2e({ config: { maxFreshAttempts: 1 } });
  t.after(() => env.close());
  const started = Date.now();
  const calls = await Promise.all([1, 2, 3].map(() => http(`${env.ingress}/Greeter/sleep`, { json: { ms: 1000 } })));
  for (const c of calls) assert.equal(c.status, 200, c.text);
  const took = Date.now() - started;
  // One fresh attempt at a time: each launch waits until the previous one is 250 ms old, so the third sleep
  // starts at least 500 ms after the first and ends no earlier than 1500 ms.
  assert.ok(took >= 1450, `three 1 s sleeps with one fresh slot took ${took} ms; the launches were not staggered`);
  // A running attempt older than the window no longer holds the bound: the sleeps overlap (serially: 3 s).
  assert.ok(took < 2900, `three 1 s sleeps with one fresh slot took ${took} ms; they ran one after the other`);
});

test("invocations waiting for a slot can be cancelled and killed; the cancel reaches the handler once it runs", async (t) => {
  const env = await startE2e({ config: { maxConcurrentAttempts: 1 } });
  t.after(() => env.close());
  const send = async (ms: number) => {
    const r = await http(`${env.ingress}/Greeter/sleep/send`, { json: { ms } });
    assert.equal(r.status, 202, r.text);
    return (r.json as { invocationId: string }).invocationId;
  };
  const holder = await send(1500);
  await waitFor(async () => (await env.perdure.store.listTimers()).some((x) => x.invocationId === holder), 5000);
  // Both wait behind the holder, started (status running) but without a stream yet.
  const cancelled = await send(30_000);
  const killed = await send(30_000);
  const attachCancelled = http(`${env.ingress}/restate/invocation/${cancelled}/attach`);
  const attachKilled = http(`${env.ingress}/restate/invocation/${killed}/attach`);
  const patch = (id: string, action: string) => http(`${env.admin}/invocations/${id}/${action}`, { method: "PATCH" });
  assert.equal((await patch(cancelled, "cancel")).status, 202);
  assert.equal((await patch(killed, "kill")).status, 200);
  assertIngressError(await attachKilled, 409, "killed", "invocation");
  // The cancel notification was appended while it waited; its attempt, once the slot frees, replays it.
  assertIngressError(await attachCancelled, 409, "Cancelled", "invocation");
  assert.equal((await http(`${env.ingress}/restate/invocation/${holder}/output`)).status, 200);
});

test("beyond the limit of invocations waiting for a slot new invocations get 503 and change nothing", async (t) => {
  const env = await startE2e({ config: { maxConcurrentAttempts: 1, maxWaitingAttempts: 1 } });
  t.after(() => env.close());
  const send = (ms: number, key: string) => http(`${env.ingress}/Greeter/sleep/send`, { json: { ms }, headers: { "idempotency-key": key } });
  assert.equal((await send(800, "holder")).status, 202);
  await waitFor(async () => (await env.perdure.store.listTimers()).length === 1, 5000);
  const first = await send(1, "first"); // waits for the slot
  const second = await send(1, "second"); // also waits: the limit counts strictly more than 1
  assert.equal(first.status, 202, first.text);
  assert.equal(second.status, 202, second.text);
  const refused = await send(1, "refused");
  assertIngressError(refused, 503, /overloaded/);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.equal((await http(`${env.ingress}/Greeter/noop`, { method: "POST" })).status, 503, "calls are refused too");
  // Once the holder is done the queue drains and new invocations are accepted again; the refused one never ran.
  await waitFor(async () => (await send(1, "later")).status === 202, 10_000);
  const key = (k: string) => http(`${env.ingress}/restate/invocation/Greeter/sleep/${k}/output`);
  for (const k of ["holder", "first", "second"]) await waitFor(async () => (await key(k)).status === 200, 10_000);
  assertIngressError(await key("refused"), 404, /not found/i);
});

test("beyond the backlog limit new invocations get 503 with Retry-After, the accepted ones complete", async (t) => {
  const env = await startE2e({ config: { maxBacklog: 0 } });
  t.after(() => env.close());
  const results = await Promise.all(
    Array.from({ length: 60 }, (_, i) => http(`${env.ingress}/Counter/burst/add/send`, { json: 1, headers: { "idempotency-key": `b${i}` } })),
  );
  let accepted = 0;
  for (const r of results) {
    if (r.status === 202) {
      accepted++;
      continue;
    }
    assert.equal(r.status, 503, r.text);
    assert.equal(r.headers.get("retry-after"), "1");
    assert.equal(r.headers.get("x-restate-error-source"), "ingress");
    assert.equal((r.json as { code: number }).code, 503);
  }
  assert.ok(accepted >= 1, "the first request always finds an empty backlog");
  // Every accepted deposit is applied once; refused ones never are.
  const deadline = Date.now() + 10_000;
  let total = 0;
  while (Date.now() < deadline) {
    total = (await http(`${env.ingress}/Counter/burst/get`, { method: "POST" })).json as number;
    if (total === accepted) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(total, accepted);
});
