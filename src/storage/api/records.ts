// Records persisted by perdure: invocations, journal entries, state, timers, promises, deployments.
// Pure data. Every partitioned record carries the partition key so a partition can move as a unit.

import type { Failure, InvocationOptions, InvocationResult, ServiceDefinition, ServiceType, HandlerType } from "../../core/types.ts";

/**
 * Invocation lifecycle:
 *   scheduled  -> (execution time reached) -> inboxed | running
 *   inboxed    -> (object key free) -> running
 *   running    -> suspended | backing-off | paused | completed
 *   suspended  -> (awaited notification arrives) -> running
 *   backing-off-> (retry timer) -> running
 *   paused     -> (resume) -> running
 */
export type InvocationStatus = "scheduled" | "inboxed" | "running" | "suspended" | "backing-off" | "paused" | "completed";

/** Who created the invocation and where its result goes besides attached ingress requests. */
export type InvocationSource =
  | { readonly kind: "ingress" }
  | { readonly kind: "call"; readonly callerId: string; readonly resultCompletionId: number }
  | { readonly kind: "send"; readonly callerId: string };

export interface AwaitedSet {
  readonly completions: readonly number[];
  readonly signals: readonly number[];
  readonly names: readonly string[];
}

export interface InvocationRecord {
  readonly id: string;
  readonly partitionKey: bigint;
  status: InvocationStatus;
  readonly service: string;
  readonly handler: string;
  /** Object key or workflow id; `undefined` for plain services. */
  readonly key: string | undefined;
  readonly serviceType: ServiceType;
  readonly handlerType: HandlerType | undefined;
  readonly idempotencyKey: string | undefined;
  readonly source: InvocationSource;
  /** Deployment and protocol version pinned at the first attempt. */
  deploymentId: string | undefined;
  protocolVersion: number | undefined;
  /** Number of entries (commands and notifications, Input included) in the journal. */
  journalLength: number;
  /** Number of commands in the journal (Input included). */
  commandCount: number;
  /** Increments with every attempt; fences commands from superseded attempts. */
  epoch: number;
  /** Failed attempts since the last stored entry (reset when an entry is stored). */
  retryCount: number;
  /** Failed attempts in total. */
  failedAttempts: number;
  lastEntryAt: number;
  lastFailure: (Failure & { readonly errorCode: string; readonly relatedEntry?: string }) | undefined;
  nextRetryAt: number | undefined;
  /** One-time retry delay asked by the endpoint for the next attempt. */
  awaiting: AwaitedSet | undefined;
  readonly executionTime: number | undefined;
  /** Inbox order for exclusive invocations queued on an object key. */
  inboxSeq: number | undefined;
  readonly createdAt: number;
  modifiedAt: number;
  completedAt: number | undefined;
  /** The Output command's result, kept until End; then the final result. */
  result: InvocationResult | undefined;
  /** How long the result stays attachable after completion, and when it expires. */
  readonly completionRetentionMs: number;
  readonly journalRetentionMs: number;
  expiresAt: number | undefined;
  /** Whether a cancel signal was already delivered. */
  cancelRequested: boolean;
}

export interface JournalEntry {
  readonly index: number;
  readonly type: number;
  readonly payload: Buffer;
  /** For notifications: "c:<completion id>", "s:<signal index>" or "n:<signal name>". */
  readonly notificationKey: string | undefined;
  readonly appendedAt: number;
}

/** Somebody waiting for an invocation's result or a workflow promise, to be notified through its journal. */
export interface Callback {
  readonly invocationId: string;
  readonly completionId: number;
  /** Notification message type to append when the target completes. */
  readonly notificationType: number;
}

export type TimerKind = "sleep" | "start" | "retry" | "cleanup";

export interface TimerRecord {
  readonly id: number;
  readonly partitionKey: bigint;
  readonly dueAt: number;
  readonly kind: TimerKind;
  readonly invocationId: string;
  /** For sleep timers, the completion id to notify. */
  readonly completionId: number | undefined;
  /** For retry timers, the epoch the retry belongs to. */
  readonly epoch: number | undefined;
}

export type PromiseResult = { readonly kind: "value"; readonly value: Buffer } | { readonly kind: "failure"; readonly failure: Failure };

export interface DeploymentRecord {
  readonly id: string;
  readonly uri: string;
  readonly protocolType: "BidiStream" | "RequestResponse";
  readonly httpVersion: "HTTP/2.0" | "HTTP/1.1";
  readonly additionalHeaders: Readonly<Record<string, string>>;
  readonly minProtocolVersion: number;
  readonly maxProtocolVersion: number;
  readonly sdkVersion: string | undefined;
  readonly createdAt: number;
  readonly services: readonly ServiceDefinition[];
}

/** A service as registered: its definition, the deployment that serves it, and admin overrides. */
export interface ServiceRecord {
  readonly name: string;
  readonly revision: number;
  readonly deploymentId: string;
  readonly definition: ServiceDefinition;
  /** Settings changed through `PATCH /services/{name}`; win over the manifest. */
  readonly overrides: InvocationOptions & { readonly public?: boolean };
}
