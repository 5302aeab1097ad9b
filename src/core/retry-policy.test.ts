// Tests of the retry policy: the reference's defaults, the exponential backoff sequence capped at the
// maximum interval, giving up at the maximum number of attempts (pause or kill), the endpoint's requested
// delay, and merging of policy overrides.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { RetryPolicy } from "./types.ts";
import { DEFAULT_RETRY_POLICY, mergeRetryPolicy, nextRetry } from "./retry-policy.ts";

const delays = (policy: RetryPolicy, attempts: number): Array<number | string> =>
  Array.from({ length: attempts }, (_, i) => {
    const d = nextRetry(policy, i + 1);
    return d.kind === "retry" ? d.delayMs : `give-up:${d.then}`;
  });

test("the defaults are the reference server's: 500 ms, x2, at most 1 min, 70 attempts, then pause", () => {
  assert.deepEqual(DEFAULT_RETRY_POLICY, {
    initialIntervalMs: 500,
    exponentiationFactor: 2,
    maxIntervalMs: 60_000,
    maxAttempts: 70,
    onMaxAttempts: "pause",
  });
  assert.ok(Object.isFrozen(DEFAULT_RETRY_POLICY));
});

test("delays double from the initial interval and stay at the maximum interval", () => {
  assert.deepEqual(delays(DEFAULT_RETRY_POLICY, 10), [500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
});

test("the default policy retries 69 times and gives up (pause) after the 70th failed attempt", () => {
  const all = delays(DEFAULT_RETRY_POLICY, 71);
  assert.equal(all[68], 60_000, "after the 69th failure");
  assert.equal(all[69], "give-up:pause", "after the 70th failure");
  assert.equal(all[70], "give-up:pause");
  assert.equal(all.filter((d) => typeof d === "number").length, 69);
});

test("give-up follows onMaxAttempts: pause or kill", () => {
  const pause: RetryPolicy = { ...DEFAULT_RETRY_POLICY, initialIntervalMs: 100, maxAttempts: 3, onMaxAttempts: "pause" };
  const kill: RetryPolicy = { ...pause, onMaxAttempts: "kill" };
  assert.deepEqual(delays(pause, 4), [100, 200, "give-up:pause", "give-up:pause"]);
  assert.deepEqual(delays(kill, 4), [100, 200, "give-up:kill", "give-up:kill"]);
  assert.deepEqual(nextRetry({ ...kill, maxAttempts: 1 }, 1), { kind: "give-up", then: "kill" }, "one attempt: no retry at all");
});

test("without a maximum number of attempts the delays stay finite forever", () => {
  const unlimited: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: null };
  for (const attempt of [70, 1_000, 100_000]) assert.deepEqual(nextRetry(unlimited, attempt), { kind: "retry", delayMs: 60_000 });
});

test("other factors and intervals; fractional delays are rounded", () => {
  const policy: RetryPolicy = { initialIntervalMs: 100, exponentiationFactor: 1.5, maxIntervalMs: 400, maxAttempts: 10, onMaxAttempts: "kill" };
  assert.deepEqual(delays(policy, 6), [100, 150, 225, 338, 400, 400]);
  const constant: RetryPolicy = { ...policy, exponentiationFactor: 1 };
  assert.deepEqual(delays(constant, 3), [100, 100, 100]);
});

test("a delay requested by the endpoint replaces the computed one", () => {
  assert.deepEqual(nextRetry(DEFAULT_RETRY_POLICY, 1, 5_000), { kind: "retry", delayMs: 5_000 });
  assert.deepEqual(nextRetry(DEFAULT_RETRY_POLICY, 6, 250), { kind: "retry", delayMs: 250 });
  assert.deepEqual(nextRetry(DEFAULT_RETRY_POLICY, 3, 0), { kind: "retry", delayMs: 0 }, "zero is a valid request");
  assert.deepEqual(nextRetry(DEFAULT_RETRY_POLICY, 3, -1), { kind: "retry", delayMs: 2_000 }, "a negative request is ignored");
  assert.deepEqual(nextRetry(DEFAULT_RETRY_POLICY, 3, undefined), { kind: "retry", delayMs: 2_000 });
});

test("a requested delay does not prevent giving up", () => {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 2, onMaxAttempts: "kill" };
  assert.deepEqual(nextRetry(policy, 2, 100), { kind: "give-up", then: "kill" });
});

test("mergeRetryPolicy applies overrides in order; undefined fields inherit, null attempts mean unlimited", () => {
  const merged = mergeRetryPolicy(DEFAULT_RETRY_POLICY, { initialIntervalMs: 100, maxAttempts: 3 }, undefined, { maxAttempts: 5, onMaxAttempts: "kill" });
  assert.deepEqual(merged, { ...DEFAULT_RETRY_POLICY, initialIntervalMs: 100, maxAttempts: 5, onMaxAttempts: "kill" });
  assert.equal(mergeRetryPolicy(DEFAULT_RETRY_POLICY, { maxAttempts: null }).maxAttempts, null);
  assert.equal(mergeRetryPolicy({ ...DEFAULT_RETRY_POLICY, maxAttempts: null }, { maxAttempts: undefined }).maxAttempts, null);
  assert.equal(mergeRetryPolicy(DEFAULT_RETRY_POLICY), DEFAULT_RETRY_POLICY, "no overrides: the base itself");
  assert.deepEqual(mergeRetryPolicy(DEFAULT_RETRY_POLICY, {}), DEFAULT_RETRY_POLICY);
});
