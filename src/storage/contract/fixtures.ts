// Record builders and comparison helpers shared by the storage contract suite.
// Invariant: builders return complete, valid records; every test changes only what it is about.

import assert from "node:assert/strict";
import type { Store } from "../api/store.ts";
import type { DeploymentRecord, InvocationRecord, JournalEntry, ServiceRecord, TimerRecord } from "../api/records.ts";

/** What an adapter's test file hands to the contract: a fresh, empty store and how to dispose of it. */
export interface StoreHandle {
  readonly store: Store;
  cleanup(): Promise<void>;
}

export type MakeStore = () => Promise<StoreHandle>;

/** Gives each case the store of the test that is running. */
export interface ContractContext {
  store(): Store;
}

/** Partition keys are u64: these sit at and above 2^63, where a signed 64-bit column would go negative. */
export const BIG_PARTITION_KEYS: readonly bigint[] = [2n ** 63n, 2n ** 63n + 12345n, 2n ** 64n - 1n];

export function invocation(overrides: Partial<InvocationRecord> = {}): InvocationRecord {
  return {
    id: "inv_contract_1",
    partitionKey: 42n,
    status: "running",
    service: "Counter",
    handler: "add",
    key: "k1",
    serviceType: "virtual_object",
    handlerType: "exclusive",
    idempotencyKey: undefined,
    source: { kind: "ingress" },
    deploymentId: undefined,
    protocolVersion: undefined,
    journalLength: 1,
    commandCount: 1,
    epoch: 0,
    retryCount: 0,
    failedAttempts: 0,
    lastEntryAt: 1_000,
    lastFailure: undefined,
    nextRetryAt: undefined,
    awaiting: undefined,
    executionTime: undefined,
    inboxSeq: undefined,
    createdAt: 1_000,
    modifiedAt: 1_000,
    completedAt: undefined,
    result: undefined,
    completionRetentionMs: 86_400_000,
    journalRetentionMs: 86_400_000,
    expiresAt: undefined,
    cancelRequested: false,
    ...overrides,
  };
}

/** An invocation with every optional field set, so a round trip exercises all of them. */
export function fullInvocation(overrides: Partial<InvocationRecord> = {}): InvocationRecord {
  return invocation({
    id: "inv_contract_full",
    partitionKey: 2n ** 64n - 2n,
    status: "completed",
    idempotencyKey: "idem-ü-1",
    source: { kind: "call", callerId: "inv_caller", resultCompletionId: 7 },
    deploymentId: "dp_1",
    protocolVersion: 6,
    journalLength: 9,
    commandCount: 5,
    epoch: 3,
    retryCount: 2,
    failedAttempts: 4,
    lastEntryAt: 5_000,
    lastFailure: { code: 500, message: "boom", metadata: [["k", "v"]], stacktrace: "Error: boom\n  at x", errorCode: "RT0007", relatedEntry: "#3 Run" },
    nextRetryAt: 6_000,
    awaiting: { completions: [1, 2], signals: [17], names: ["sig"] },
    executionTime: 2_000,
    inboxSeq: 12,
    modifiedAt: 7_000,
    completedAt: 7_000,
    result: { kind: "success", value: Buffer.from([0x00, 0xff, 0x7b, 0x22, 0x00, 0x80]) },
    expiresAt: 86_407_000,
    cancelRequested: true,
    ...overrides,
  });
}

export function entry(index: number, overrides: Partial<JournalEntry> = {}): JournalEntry {
  return {
    index,
    type: 0x0400 + index,
    payload: Buffer.from([index, 0x00, 0xff, index]),
    notificationKey: undefined,
    appendedAt: 1_000 + index,
    ...overrides,
  };
}

export function timer(overrides: Partial<Omit<TimerRecord, "id">> = {}): Omit<TimerRecord, "id"> {
  return {
    partitionKey: 42n,
    dueAt: 10_000,
    kind: "sleep",
    invocationId: "inv_contract_1",
    completionId: 1,
    epoch: undefined,
    ...overrides,
  };
}

export function deployment(id: string, overrides: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return {
    id,
    uri: `http://localhost:9080/${id}`,
    protocolType: "BidiStream",
    httpVersion: "HTTP/2.0",
    additionalHeaders: { "x-token": "t" },
    minProtocolVersion: 5,
    maxProtocolVersion: 6,
    sdkVersion: undefined,
    createdAt: 1_000,
    services: [
      {
        name: "Greeter",
        ty: "service",
        handlers: [
          {
            name: "greet",
            ty: undefined,
            input: { required: false, contentType: "application/json" },
            output: { contentType: "application/json", setContentTypeIfEmpty: false },
            options: {},
          },
        ],
        options: { retryPolicy: { maxAttempts: 3, onMaxAttempts: "kill" } },
      },
    ],
    ...overrides,
  };
}

export function serviceRecord(name: string, overrides: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    name,
    revision: 1,
    deploymentId: "dp_1",
    definition: { name, ty: "virtual_object", handlers: [], options: {} },
    overrides: {},
    ...overrides,
  };
}

/**
 * Drops properties whose value is `undefined`, recursively. Adapters that store records as JSON do not keep
 * them, and no reader tells the two apart (`record.field` is `undefined` either way).
 */
export function withoutUndefined<T>(value: T): T {
  if (Buffer.isBuffer(value) || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v: unknown) => withoutUndefined(v)) as T;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = withoutUndefined(v);
  return out as T;
}

/** Deep equality up to absent-versus-undefined properties. */
export function assertSameRecord<T>(actual: T, expected: T, message?: string): void {
  assert.deepEqual(withoutUndefined(actual), withoutUndefined(expected), message);
}

/** A promise and the function that settles it, for holding a transaction open at a known point. */
export function gate(): { readonly promise: Promise<void>; open(): void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, open: () => resolve() };
}

/** Lets other queued work (timers, I/O callbacks, microtasks) run. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const sortedStrings = (xs: readonly string[]): string[] => [...xs].sort();
