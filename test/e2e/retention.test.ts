// Retention: a completed invocation stays attachable, and its idempotency key deduplicates, for the service's
// idempotency_retention; after it the key executes anew and the old result is gone. Also the service-level retry
// policy set through PATCH /services.

import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import { startE2e, type E2eEnv } from "./harness.ts";
import { http } from "../support/http.ts";

describe("retention and service settings", () => {
  let env: E2eEnv;
  before(async () => {
    env = await startE2e();
  });
  after(() => env?.close());

  test("after idempotency_retention ends, the key executes anew and the old result is gone", async () => {
    const patch = await http(`${env.admin}/services/Counter`, { method: "PATCH", json: { idempotency_retention: "1s" } });
    assert.equal(patch.status, 200, patch.text);
    assert.equal((patch.json as { idempotency_retention: string }).idempotency_retention, "1s");

    const call = () => http(`${env.ingress}/Counter/ret1/countExec`, { json: "x", headers: { "idempotency-key": "ret-key" } });
    const first = await call();
    assert.deepEqual(first.json, { execs: 1, input: "x" });
    const repeat = await call();
    assert.deepEqual(repeat.json, { execs: 1, input: "x" }, "within the retention the result is replayed");
    const expires = Date.parse(repeat.headers.get("idempotency-expires") ?? "");
    assert.ok(expires - Date.now() <= 1_000, "idempotency-expires reflects the 1 s retention");

    await new Promise((r) => setTimeout(r, 1_200));
    const byKey = await http(`${env.ingress}/restate/invocation/Counter/ret1/countExec/ret-key/output`);
    assert.equal(byKey.status, 404, "the expired result is gone");
    const again = await call();
    assert.deepEqual(again.json, { execs: 2, input: "x" }, "after the retention the key executes anew");
    await http(`${env.admin}/services/Counter`, { method: "PATCH", json: { idempotency_retention: "1d" } });
  });

  test("PATCH retry_policy sets the service's policy and shows in its metadata", async () => {
    const res = await http(`${env.admin}/services/Greeter`, {
      method: "PATCH",
      json: { retry_policy: { initial_interval: "50ms", exponentiation_factor: 1.5, max_attempts: 5, max_interval: "2s", on_max_attempts: "Kill" } },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((res.json as { retry_policy: unknown }).retry_policy, {
      initial_interval: "50ms",
      exponentiation_factor: 1.5,
      max_attempts: 5,
      max_interval: "2s",
      on_max_attempts: "Kill",
    });
    const bad = await http(`${env.admin}/services/Greeter`, { method: "PATCH", json: { retry_policy: { on_max_attempts: "Explode" } } });
    assert.equal(bad.status, 422);
    const unchanged = await http(`${env.admin}/services/Greeter`);
    assert.equal((unchanged.json as { retry_policy: { on_max_attempts: string } }).retry_policy.on_max_attempts, "Kill", "a rejected patch changes nothing");
  });
});
