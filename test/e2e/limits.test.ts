// Bounds that keep memory in check under overload: attempts beyond the concurrency limit wait for a slot and
// still complete; new invocations beyond the backlog limit are refused with 503 and Retry-After, and change
// nothing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { startE2e } from "./harness.ts";
import { http } from "../support/http.ts";

test("attempts beyond the concurrency limit wait for a slot and all complete", async (t) => {
  const env = await startE2e({ config: { maxConcurrentAttempts: 1 } });
  t.after(() => env.close());
  const started = Date.now();
  const calls = await Promise.all([1, 2, 3].map(() => http(`${env.ingress}/Greeter/sleep`, { json: { ms: 300 } })));
  for (const c of calls) assert.equal(c.status, 200, c.text);
  // One slot: the three handlers ran one after the other (each keeps its stream while it sleeps).
  assert.ok(Date.now() - started >= 850, `three 300 ms sleeps through one slot took ${Date.now() - started} ms`);
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
