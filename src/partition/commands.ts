// Commands the partition processor applies, and the outcomes it returns to their submitters.
// Everything that changes durable state enters the partition as one of these commands.

import type { InvocationTarget, Failure, InvocationResult } from "../core/types.ts";
import type { Frame } from "../protocol/frame.ts";
import type { InvocationSource, TimerRecord } from "../storage/api/records.ts";
import type { NotificationResult } from "../protocol/common.ts";

export interface InvokeRequest {
  readonly target: InvocationTarget;
  readonly input: Buffer;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly idempotencyKey: string | undefined;
  /** Absolute ms; set for delayed sends. */
  readonly executionTime: number | undefined;
  readonly source: InvocationSource;
  /** `call`: the submitter waits for the result; `send`: it only wants the id. */
  readonly mode: "call" | "send";
}

/** How attach/output find an invocation. */
export type InvocationQuery =
  | { readonly kind: "id"; readonly invocationId: string }
  | { readonly kind: "idempotency"; readonly service: string; readonly key: string | undefined; readonly handler: string; readonly idempotencyKey: string }
  | { readonly kind: "workflow"; readonly service: string; readonly key: string };

export type SignalId = { readonly signalIndex: number } | { readonly signalName: string };

export type PartitionCommand =
  | { readonly kind: "invoke"; readonly request: InvokeRequest; readonly waiter?: ResultWaiter }
  /** Attach (with a waiter) or output (without). */
  | { readonly kind: "get-result"; readonly query: InvocationQuery; readonly waiter?: ResultWaiter }
  | { readonly kind: "endpoint-message"; readonly invocationId: string; readonly epoch: number; readonly frame: Frame }
  | {
      readonly kind: "attempt-failed";
      readonly invocationId: string;
      readonly epoch: number;
      readonly errorCode: string;
      readonly failure: Failure;
      readonly retryAfterMs?: number;
    }
  | { readonly kind: "timer-fired"; readonly timer: TimerRecord }
  | { readonly kind: "signal"; readonly invocationId: string; readonly signal: SignalId; readonly result: NotificationResult }
  | { readonly kind: "cancel" | "kill" | "purge" | "pause" | "resume"; readonly invocationId: string }
  /** Start a completed invocation again, as a new invocation with the same target and input. */
  | { readonly kind: "restart-as-new"; readonly invocationId: string }
  | { readonly kind: "recover"; readonly running: readonly string[] }
  /** Replace the state of one object or workflow key (admin), if its version still matches. */
  | {
      readonly kind: "replace-state";
      readonly service: string;
      readonly key: string;
      readonly expectedVersion: string | undefined;
      readonly state: ReadonlyArray<readonly [Buffer, Buffer]>;
    }
  | { readonly kind: "cleanup"; readonly limit: number };

/** A completed invocation's answer, as sent to a waiting ingress request. */
export interface InvocationResponse {
  readonly invocationId: string;
  readonly result: InvocationResult;
  /** Output content type of the handler, if any. */
  readonly contentType: string | undefined;
  readonly setContentTypeIfEmpty: boolean;
  /** Set when the result was already stored before this request (idempotent replay, attach to completed). */
  readonly expiresAt: number | undefined;
}

/** Receives the response of an invocation once it completes (in memory: a waiting HTTP request). */
export interface ResultWaiter {
  resolve(response: InvocationResponse): void;
}

export type InvokeOutcome =
  | { readonly kind: "completed"; readonly response: InvocationResponse }
  | { readonly kind: "accepted"; readonly invocationId: string; readonly executionTime: number | undefined; readonly previously: boolean }
  | { readonly kind: "rejected"; readonly invocationId: string | undefined; readonly status: number; readonly message: string; readonly source: "ingress" | "invocation" };

export type GetResultOutcome =
  | { readonly kind: "completed"; readonly response: InvocationResponse }
  | { readonly kind: "waiting"; readonly invocationId: string }
  | { readonly kind: "not-ready"; readonly invocationId: string }
  | { readonly kind: "not-found"; readonly invocationId: string | undefined };

export type AdminOutcome =
  | { readonly kind: "ok"; readonly status: 200 | 202; readonly newInvocationId?: string }
  | { readonly kind: "not-found" }
  | { readonly kind: "conflict"; readonly message: string };

export type CommandOutcome = InvokeOutcome | GetResultOutcome | AdminOutcome | { readonly kind: "done" };
