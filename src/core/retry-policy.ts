// Retry policy defaults and the backoff computation for failed attempts.
// Pure: given a policy and an attempt number, returns the delay or the decision to stop.

import type { RetryPolicy } from "./types.ts";

/** The reference server's defaults: 500 ms, x2, at most 1 min, 70 attempts, then pause. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  initialIntervalMs: 500,
  exponentiationFactor: 2,
  maxIntervalMs: 60_000,
  maxAttempts: 70,
  onMaxAttempts: "pause",
});

export function mergeRetryPolicy(base: RetryPolicy, ...overrides: Array<Partial<RetryPolicy> | undefined>): RetryPolicy {
  let out: RetryPolicy = base;
  for (const o of overrides) {
    if (!o) continue;
    out = {
      initialIntervalMs: o.initialIntervalMs ?? out.initialIntervalMs,
      exponentiationFactor: o.exponentiationFactor ?? out.exponentiationFactor,
      maxIntervalMs: o.maxIntervalMs ?? out.maxIntervalMs,
      maxAttempts: o.maxAttempts !== undefined ? o.maxAttempts : out.maxAttempts,
      onMaxAttempts: o.onMaxAttempts ?? out.onMaxAttempts,
    };
  }
  return out;
}

export type RetryDecision = { readonly kind: "retry"; readonly delayMs: number } | { readonly kind: "give-up"; readonly then: "pause" | "kill" };

/**
 * Decides what happens after the `failedAttempts`-th failed attempt (1 = the first attempt failed).
 * `requestedDelayMs` (from the endpoint's `next_retry_delay`) overrides the computed delay once.
 */
export function nextRetry(policy: RetryPolicy, failedAttempts: number, requestedDelayMs?: number): RetryDecision {
  if (policy.maxAttempts !== null && failedAttempts >= policy.maxAttempts) {
    return { kind: "give-up", then: policy.onMaxAttempts };
  }
  if (requestedDelayMs !== undefined && requestedDelayMs >= 0) return { kind: "retry", delayMs: requestedDelayMs };
  const exp = policy.initialIntervalMs * Math.pow(policy.exponentiationFactor, Math.max(0, failedAttempts - 1));
  return { kind: "retry", delayMs: Math.min(Math.round(exp), policy.maxIntervalMs) };
}
