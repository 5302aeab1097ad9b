// Creating invocations: from the ingress (call or send) and from handlers (Call and OneWayCall commands).
//
// Invariants:
// - Ids are deterministic for workflow runs (workflow, id) and for requests with an idempotency key
//   (service, object key, handler, key), so a repeat finds the first invocation without a lookup table.
// - A new invocation's Input command is journal entry 0, written in the same transaction as the record.
// - A workflow's run handler executes once per workflow id; later calls get 409, later sends
//   "PreviouslyAccepted".

import type { InvocationRecord } from "../storage/api/records.ts";
import { deterministicInvocationId, encodeInvocationId, newInvocationId, partitionKeyForKey, timeOrderedUuid } from "../core/ids.ts";
import { encodeCommand } from "../protocol/command-encode.ts";
import { MessageType } from "../protocol/message-types.ts";
import type { Batch } from "./batch.ts";
import type { InvocationQuery, InvokeRequest } from "./commands.ts";
import { startOrQueue } from "./lifecycle.ts";

export type CreateResult =
  | { readonly kind: "created"; readonly invocation: InvocationRecord }
  | { readonly kind: "exists"; readonly invocation: InvocationRecord; readonly workflowRunAgain: boolean }
  | { readonly kind: "unknown-target"; readonly message: string };

export const WORKFLOW_ALREADY_INVOKED = "the workflow method was already invoked";

function randomPartitionKey(b: Batch): bigint {
  return b.deps.random.bytes(8).readBigUInt64BE(0);
}

/** The id an invocation query designates, derived without touching storage. */
export function queryInvocationId(q: InvocationQuery): string {
  switch (q.kind) {
    case "id":
      return q.invocationId;
    case "idempotency":
      return idempotentInvocationId(q.service, q.key, q.handler, q.idempotencyKey);
    case "workflow":
      return workflowRunId(q.service, q.key);
  }
}

export function workflowRunId(service: string, key: string): string {
  return encodeInvocationId(deterministicInvocationId(partitionKeyForKey(key), ["workflow", service, key]));
}

/** Partition of an idempotent request: its object key, or for plain services the request's own identity. */
function idempotentPartitionKey(service: string, key: string | undefined, handler: string, idempotencyKey: string): bigint {
  return partitionKeyForKey(key ?? `${service}/${handler}/${idempotencyKey}`);
}

export function idempotentInvocationId(service: string, key: string | undefined, handler: string, idempotencyKey: string): string {
  const pk = idempotentPartitionKey(service, key, handler, idempotencyKey);
  return encodeInvocationId(deterministicInvocationId(pk, ["idempotent", service, key ?? "", key === undefined ? "0" : "1", handler, idempotencyKey]));
}

/**
 * Reads an invocation, treating a completed one whose retention has ended as gone (and removing it now rather
 * than waiting for the periodic cleanup), so an expired idempotency key executes anew.
 */
export async function getLive(b: Batch, id: string): Promise<InvocationRecord | undefined> {
  const inv = await b.get(id);
  if (inv && inv.status === "completed" && inv.expiresAt !== undefined && inv.expiresAt <= b.now) {
    await b.remove(id);
    return undefined;
  }
  return inv;
}

export async function createInvocation(b: Batch, req: InvokeRequest): Promise<CreateResult> {
  const { registry } = b.deps;
  const svc = registry.service(req.target.service);
  const handler = svc?.definition.handlers.find((h) => h.name === req.target.handler);
  if (!svc || !handler) {
    return { kind: "unknown-target", message: `${req.target.service}/${req.target.handler} is not registered` };
  }
  const serviceType = svc.definition.ty;
  const isWorkflowRun = serviceType === "workflow" && handler.ty === "workflow";
  const key = req.target.key;
  let id: string;
  let partitionKey: bigint;
  if (isWorkflowRun) {
    id = workflowRunId(svc.name, key!);
    partitionKey = partitionKeyForKey(key!);
  } else if (req.idempotencyKey !== undefined) {
    id = idempotentInvocationId(svc.name, key, handler.name, req.idempotencyKey);
    partitionKey = idempotentPartitionKey(svc.name, key, handler.name, req.idempotencyKey);
  } else {
    partitionKey = key !== undefined ? partitionKeyForKey(key) : randomPartitionKey(b);
    id = encodeInvocationId(newInvocationId(partitionKey, timeOrderedUuid(b.now, b.deps.random.bytes(10))));
  }
  if (isWorkflowRun || req.idempotencyKey !== undefined) {
    const existing = await getLive(b, id);
    if (existing) return { kind: "exists", invocation: existing, workflowRunAgain: isWorkflowRun };
  }
  const settings = registry.settings(svc, handler);
  const executionTime = req.executionTime;
  const delayed = executionTime !== undefined && executionTime > b.now;
  const inv: InvocationRecord = {
    id,
    partitionKey,
    status: "scheduled",
    service: svc.name,
    handler: handler.name,
    key,
    serviceType,
    handlerType: handler.ty,
    idempotencyKey: req.idempotencyKey,
    source: req.source,
    deploymentId: undefined,
    protocolVersion: undefined,
    journalLength: 1,
    commandCount: 1,
    epoch: 0,
    retryCount: 0,
    failedAttempts: 0,
    lastEntryAt: b.now,
    lastFailure: undefined,
    nextRetryAt: undefined,
    awaiting: undefined,
    executionTime,
    inboxSeq: undefined,
    createdAt: b.now,
    modifiedAt: b.now,
    completedAt: undefined,
    result: undefined,
    completionRetentionMs: isWorkflowRun ? settings.workflowCompletionRetentionMs : settings.idempotencyRetentionMs,
    journalRetentionMs: settings.journalRetentionMs,
    expiresAt: undefined,
    cancelRequested: false,
  };
  const input = encodeCommand({
    type: MessageType.InputCommand,
    headers: req.headers.map(([k, v]) => ({ key: k, value: v })),
    value: req.input,
    name: "",
  });
  await b.startJournal(id, { index: 0, type: MessageType.InputCommand, payload: input, notificationKey: undefined, appendedAt: b.now });
  b.touch(inv);
  if (delayed) {
    const timer = await b.txn.addTimer({ partitionKey, dueAt: executionTime, kind: "start", invocationId: id, completionId: undefined, epoch: undefined });
    b.emit({ kind: "schedule-timer", timer });
  } else {
    await startOrQueue(b, inv);
  }
  return { kind: "created", invocation: inv };
}
