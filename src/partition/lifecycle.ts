// Invocation lifecycle transitions shared by every partition command: starting attempts, queueing on an
// object key, delivering notifications, failing attempts with backoff, and completing.
//
// Invariants:
// - An attempt only starts with a fresh epoch; messages from older epochs are ignored by the caller.
// - A notification is appended to the journal before it is pushed to a live stream, and it wakes a suspended
//   invocation only when the invocation awaits it (the cancel signal always wakes).
// - Completing an invocation releases its object lock, starts the next queued invocation for that key,
//   notifies callbacks (callers, attachers) through their journals, and answers waiting ingress requests.

import type { InvocationRecord } from "../storage/api/records.ts";
import type { Failure, InvocationResult } from "../core/types.ts";
import { ErrorCode } from "../core/errors.ts";
import { nextRetry, DEFAULT_RETRY_POLICY } from "../core/retry-policy.ts";
import { encodeFrame } from "../protocol/frame.ts";
import { encodeNotification, type NotificationId } from "../protocol/notifications.ts";
import type { NotificationResult } from "../protocol/common.ts";
import { pickProtocolVersion } from "../protocol/endpoint-manifest.ts";
import type { Batch } from "./batch.ts";
import type { InvocationResponse } from "./commands.ts";

export function notificationKey(id: NotificationId): string {
  if ("completionId" in id) return `c:${id.completionId}`;
  if ("signalIndex" in id) return `s:${id.signalIndex}`;
  return `n:${id.signalName}`;
}

export const CANCEL_SIGNAL_KEY = "s:1";

function awaits(inv: InvocationRecord, key: string): boolean {
  if (key === CANCEL_SIGNAL_KEY) return true;
  const a = inv.awaiting;
  if (!a) return false;
  const [kind, rest] = [key.slice(0, 1), key.slice(2)];
  if (kind === "c") return a.completions.includes(Number(rest));
  if (kind === "s") return a.signals.includes(Number(rest));
  return a.names.includes(rest);
}

/**
 * Appends a notification to an invocation's journal and pushes it or wakes the invocation.
 * `liveFrame` replaces what a live attempt receives (V7 run acks: the journal keeps the completion, the stream
 * gets the ack). `notBefore`: the endpoint must not see it before then (a sleep committed ahead of its due time);
 * the invocation is held until then (no attempt starts, the push waits).
 */
export async function appendNotification(
  b: Batch,
  inv: InvocationRecord,
  type: number,
  id: NotificationId,
  result: NotificationResult,
  liveFrame?: Buffer,
  notBefore?: number,
): Promise<void> {
  if (inv.status === "completed") return;
  const payload = encodeNotification({ id, result });
  const key = notificationKey(id);
  const index = inv.journalLength;
  await b.appendJournal(inv.id, { index, type, payload, notificationKey: key, appendedAt: b.now });
  inv.journalLength = index + 1;
  b.touch(inv);
  const held = notBefore !== undefined && notBefore > b.now ? notBefore : undefined;
  if (held !== undefined) b.emit({ kind: "hold", invocationId: inv.id, until: held });
  if (inv.status === "running") {
    const frame = liveFrame ?? encodeFrame(type, payload);
    b.emit({ kind: "push", invocationId: inv.id, epoch: inv.epoch, journalIndex: index, frame, ...(held !== undefined ? { notBefore: held } : {}) });
  } else if (inv.status === "suspended" && awaits(inv, key)) {
    await beginAttempt(b, inv);
  }
}

/** Starts a new attempt: pins the deployment on the first one and bumps the epoch. */
export async function beginAttempt(b: Batch, inv: InvocationRecord): Promise<void> {
  inv.awaiting = undefined;
  inv.nextRetryAt = undefined;
  if (inv.deploymentId === undefined) {
    const svc = b.deps.registry.service(inv.service);
    const deployment = svc && b.deps.registry.deployment(svc.deploymentId);
    const version = deployment && pickProtocolVersion(deployment.minProtocolVersion, deployment.maxProtocolVersion, b.deps.maxProtocolVersion);
    if (!deployment || version === undefined) {
      inv.status = "running";
      b.touch(inv);
      await attemptFailed(b, inv, ErrorCode.NoDeployment, { code: 500, message: "no deployment was found to process the invocation" });
      return;
    }
    inv.deploymentId = deployment.id;
    inv.protocolVersion = version;
  }
  inv.status = "running";
  inv.epoch += 1;
  b.touch(inv);
  // The attempt starts from what this batch commits: no read (and no wait for later commits) after it.
  const journal = await b.journalForStart(inv.id);
  if (!journal) {
    b.emit({ kind: "start-attempt", invocationId: inv.id, epoch: inv.epoch });
    return;
  }
  const state = b.deps.registry.sendsEagerState(inv) ? await b.txn.getAllState(inv.service, inv.key!) : undefined;
  b.emit({ kind: "start-attempt", invocationId: inv.id, epoch: inv.epoch, snapshot: { invocation: inv, journal, ...(state ? { state } : {}) } });
}

/** Starts an invocation now, or queues it behind the exclusive handler holding its object key. */
export async function startOrQueue(b: Batch, inv: InvocationRecord): Promise<void> {
  if (holdsObjectLock(inv)) {
    const holder = await b.txn.getLock(inv.service, inv.key!);
    if (holder !== undefined && holder !== inv.id) {
      inv.status = "inboxed";
      inv.inboxSeq = await b.txn.nextInboxSeq();
      b.touch(inv);
      return;
    }
    await b.txn.setLock(inv.partitionKey, inv.service, inv.key!, inv.id);
  }
  await beginAttempt(b, inv);
}

/** Exclusive handlers of virtual objects run one at a time per key. */
export function holdsObjectLock(inv: InvocationRecord): boolean {
  return inv.serviceType === "virtual_object" && inv.handlerType === "exclusive" && inv.key !== undefined;
}

/** Records a failed attempt and decides between retry (with backoff), pause and kill. */
export async function attemptFailed(
  b: Batch,
  inv: InvocationRecord,
  errorCode: string,
  failure: Failure,
  delay: { readonly requestedDelayMs?: number | undefined; readonly minimumDelayMs?: number | undefined } = {},
  relatedEntry?: string,
): Promise<void> {
  inv.failedAttempts += 1;
  inv.retryCount += 1;
  inv.lastFailure = { ...failure, errorCode, ...(relatedEntry ? { relatedEntry } : {}) };
  b.emit({ kind: "abort-attempt", invocationId: inv.id });
  const svc = b.deps.registry.service(inv.service);
  const policy = svc ? b.deps.registry.settings(svc, b.deps.registry.handler(inv.service, inv.handler)).retryPolicy : DEFAULT_RETRY_POLICY;
  // The endpoint's own `next_retry_delay` replaces the policy's delay once; an HTTP Retry-After only lengthens it.
  let decision = nextRetry(policy, inv.failedAttempts, delay.requestedDelayMs);
  if (decision.kind === "retry" && delay.minimumDelayMs !== undefined) {
    decision = { kind: "retry", delayMs: Math.max(decision.delayMs, delay.minimumDelayMs) };
  }
  const what = `invocation ${inv.id} (${inv.service}/${inv.handler}) attempt ${inv.failedAttempts} failed [${errorCode}] ${failure.code}: ${failure.message}`;
  if (decision.kind === "retry") {
    inv.status = "backing-off";
    inv.nextRetryAt = b.now + decision.delayMs;
    b.touch(inv);
    const timer = await b.txn.addTimer({ partitionKey: inv.partitionKey, dueAt: inv.nextRetryAt, kind: "retry", invocationId: inv.id, completionId: undefined, epoch: inv.epoch });
    b.emit({ kind: "schedule-timer", timer });
    b.emit({ kind: "log", level: "warn", message: `${what}; retrying in ${decision.delayMs} ms` });
  } else if (decision.then === "pause") {
    inv.status = "paused";
    b.touch(inv);
    b.emit({ kind: "log", level: "error", message: `${what}; retries exhausted, invocation paused` });
  } else {
    b.emit({ kind: "log", level: "error", message: `${what}; retries exhausted, invocation failed` });
    await complete(b, inv, { kind: "failure", failure: { code: failure.code, message: failure.message, ...(failure.stacktrace ? { stacktrace: failure.stacktrace } : {}) } });
  }
}

export function resultToNotification(result: InvocationResult): NotificationResult {
  return result.kind === "success"
    ? { kind: "value", value: result.value }
    : { kind: "failure", code: result.failure.code, message: result.failure.message, ...(result.failure.metadata ? { metadata: result.failure.metadata.map(([k, v]) => [k, v] as [string, string]) } : {}) };
}

export function responseOf(b: Batch, inv: InvocationRecord, replay: boolean): InvocationResponse {
  const handler = b.deps.registry.handler(inv.service, inv.handler);
  return {
    invocationId: inv.id,
    result: inv.result ?? { kind: "failure", failure: { code: 500, message: "invocation has no result" } },
    contentType: handler?.output.contentType,
    setContentTypeIfEmpty: handler?.output.setContentTypeIfEmpty ?? false,
    expiresAt: replay ? inv.expiresAt : undefined,
  };
}

/** Completes an invocation with its final result. */
export async function complete(b: Batch, inv: InvocationRecord, result: InvocationResult): Promise<void> {
  if (inv.status === "completed") return;
  inv.status = "completed";
  inv.result = result;
  inv.completedAt = b.now;
  inv.expiresAt = b.now + inv.completionRetentionMs;
  inv.awaiting = undefined;
  inv.nextRetryAt = undefined;
  b.touch(inv);
  await b.txn.deleteTimersOf(inv.id);
  if (inv.journalRetentionMs === 0) await b.deleteJournal(inv.id);
  await releaseObjectLock(b, inv);
  for (const cb of await b.txn.takeCallbacks(inv.id)) {
    const waiter = await b.get(cb.invocationId);
    if (waiter) await appendNotification(b, waiter, cb.notificationType, { completionId: cb.completionId }, resultToNotification(result));
  }
  b.emit({ kind: "respond", invocationId: inv.id, response: responseOf(b, inv, false) });
  if (result.kind === "failure") {
    b.emit({ kind: "log", level: "info", message: `invocation ${inv.id} (${inv.service}/${inv.handler}) completed with failure ${result.failure.code}: ${result.failure.message}` });
  }
}

/** Releases the object key held by `inv` and starts the next queued invocation for that key. */
export async function releaseObjectLock(b: Batch, inv: InvocationRecord): Promise<void> {
  if (!holdsObjectLock(inv)) return;
  const holder = await b.txn.getLock(inv.service, inv.key!);
  if (holder !== inv.id) return;
  await b.txn.releaseLock(inv.service, inv.key!);
  await b.flush();
  const nextId = await b.txn.nextInboxed(inv.service, inv.key!);
  if (nextId === undefined) return;
  const next = await b.get(nextId);
  if (!next) return;
  next.inboxSeq = undefined;
  await b.txn.setLock(next.partitionKey, next.service, next.key!, next.id);
  await beginAttempt(b, next);
}
