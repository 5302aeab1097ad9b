// Round trips of invocation records through the JSON codec: every property set, only the required ones,
// success and failure results, strings that need escaping, and the text staying JSON that SQL can read by path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeInvocation, encodeInvocation } from "./invocation-codec.ts";
import type { InvocationRecord } from "./records.ts";
import { assertSameRecord } from "../contract/fixtures.ts";

/** A record with every property set: a property added to InvocationRecord must be added here (or this fails to compile). */
const full: InvocationRecord = {
  id: "inv_1aBcDeFgHiJk0123456789abcdefghijkl",
  partitionKey: 18_446_744_073_709_551_615n,
  status: "suspended",
  service: "Sv\u00e9 \"quoted\" \\ back",
  handler: "h\nline",
  key: "key/with\u2028odd\tchars",
  serviceType: "virtual_object",
  handlerType: "exclusive",
  idempotencyKey: "idem-\u{1F600}",
  source: { kind: "call", callerId: "inv_1caller", resultCompletionId: 3 },
  deploymentId: "dp_1",
  protocolVersion: 6,
  journalLength: 12,
  commandCount: 7,
  epoch: 4,
  retryCount: 2,
  failedAttempts: 5,
  lastEntryAt: 1_764_300_000_123,
  lastFailure: { code: 500, message: "boom", errorCode: "RT0007", relatedEntry: "[3] run" },
  nextRetryAt: 1_764_300_001_000,
  awaiting: { completions: [1, 2], signals: [17], names: ["p\"x"] },
  executionTime: 1_764_300_500_000,
  inboxSeq: 42,
  createdAt: 1_764_299_999_000,
  modifiedAt: 1_764_300_000_456,
  completedAt: 1_764_300_002_000,
  result: { kind: "failure", failure: { code: 409, message: "conflict \u0000 nul", metadata: [["k", "v"]], stacktrace: "at x" } },
  completionRetentionMs: 86_400_000,
  journalRetentionMs: 0,
  expiresAt: 1_764_386_402_000,
  cancelRequested: true,
};

const roundTrip = (r: InvocationRecord): InvocationRecord => {
  const { json, resultValue } = encodeInvocation(r);
  return decodeInvocation(json, resultValue);
};

test("a record with every property set survives the round trip", () => {
  assertSameRecord(roundTrip(full), full);
  const parsed = JSON.parse(encodeInvocation(full).json) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed).sort(), Object.keys(full).sort(), "every property is written");
});

test("a record with only the required properties survives the round trip; absent ones stay absent", () => {
  const sparse: InvocationRecord = {
    ...full,
    key: undefined,
    handlerType: undefined,
    idempotencyKey: undefined,
    source: { kind: "ingress" },
    deploymentId: undefined,
    protocolVersion: undefined,
    lastFailure: undefined,
    nextRetryAt: undefined,
    awaiting: undefined,
    executionTime: undefined,
    inboxSeq: undefined,
    completedAt: undefined,
    result: undefined,
    expiresAt: undefined,
    cancelRequested: false,
  };
  const back = roundTrip(sparse);
  assertSameRecord(back, sparse);
  for (const k of ["key", "deploymentId", "result", "expiresAt"] as const) assert.equal(k in JSON.parse(encodeInvocation(sparse).json), false, k);
});

test("a success result travels as the separate blob, its bytes intact", () => {
  const value = Buffer.from([0, 1, 2, 255, 0x7b]);
  const r: InvocationRecord = { ...full, status: "completed", result: { kind: "success", value } };
  const { json, resultValue } = encodeInvocation(r);
  assert.deepEqual(resultValue, value);
  assert.deepEqual(JSON.parse(json).result, { kind: "success" });
  const back = roundTrip(r);
  assert.deepEqual(back.result, { kind: "success", value });
});

test("the text is the JSON that JSON.stringify writes for the same record", () => {
  const { json } = encodeInvocation(full);
  const { result, partitionKey, ...rest } = full;
  const generic = JSON.parse(JSON.stringify({ ...rest, partitionKey: partitionKey.toString(), result })) as unknown;
  assert.deepEqual(JSON.parse(json), generic);
});
