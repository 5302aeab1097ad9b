// Partition commands that come from outside an attempt: ingress invocations and result queries, timers,
// operator actions (cancel, kill, purge, pause, resume), recovery after a restart, and retention cleanup.

import { MessageType } from "../protocol/message-types.ts";
import type { Batch } from "./batch.ts";
import type { AdminOutcome, GetResultOutcome, InvocationQuery, InvokeOutcome, InvokeRequest, ResultWaiter, SignalId } from "./commands.ts";
import type { InvocationRecord, TimerRecord } from "../storage/api/records.ts";
import { decodeNotification } from "../protocol/notifications.ts";
import { decodeCommand } from "../protocol/command-decode.ts";
import type { NotificationResult } from "../protocol/common.ts";
import { appendNotification, beginAttempt, complete, responseOf, startOrQueue } from "./lifecycle.ts";
import { createInvocation, getLive, queryInvocationId, WORKFLOW_ALREADY_INVOKED } from "./invoke.ts";
import { deliverSignal } from "./signals.ts";
import { sameStateVersion, stateVersion } from "../core/state-version.ts";
import { partitionKeyForKey } from "../core/ids.ts";

export async function applyInvoke(b: Batch, req: InvokeRequest, waiter: ResultWaiter | undefined): Promise<InvokeOutcome> {
  const created = await createInvocation(b, req);
  if (created.kind === "unknown-target") {
    return { kind: "rejected", invocationId: undefined, status: 404, message: created.message, source: "ingress" };
  }
  const inv = created.invocation;
  if (created.kind === "exists") {
    if (req.mode === "send") return { kind: "accepted", invocationId: inv.id, executionTime: inv.executionTime, previously: true };
    if (created.workflowRunAgain) {
      return { kind: "rejected", invocationId: inv.id, status: 409, message: WORKFLOW_ALREADY_INVOKED, source: "invocation" };
    }
    if (inv.status === "completed") return { kind: "completed", response: responseOf(b, inv, true) };
  }
  if (req.mode === "call" && waiter) b.emit({ kind: "await-result", invocationId: inv.id, waiter });
  return { kind: "accepted", invocationId: inv.id, executionTime: inv.executionTime, previously: created.kind === "exists" };
}

export async function applyGetResult(b: Batch, query: InvocationQuery, waiter: ResultWaiter | undefined): Promise<GetResultOutcome> {
  const id = queryInvocationId(query);
  const inv = await getLive(b, id);
  if (!inv) return { kind: "not-found", invocationId: id };
  if (inv.status === "completed") return { kind: "completed", response: responseOf(b, inv, true) };
  if (!waiter) return { kind: "not-ready", invocationId: id };
  b.emit({ kind: "await-result", invocationId: id, waiter });
  return { kind: "waiting", invocationId: id };
}

export async function applyTimer(b: Batch, timer: TimerRecord): Promise<void> {
  await b.txn.deleteTimer(timer.id);
  const inv = await b.get(timer.invocationId);
  if (!inv || inv.status === "completed") return;
  switch (timer.kind) {
    case "sleep":
      // A sleep timer fires ahead of its due time (see the timer queue): the completion is committed now and
      // reaches the endpoint when due.
      await appendNotification(b, inv, MessageType.SleepCompletion, { completionId: timer.completionId ?? 0 }, { kind: "void" }, undefined, timer.dueAt);
      return;
    case "start":
      if (inv.status === "scheduled") await startOrQueue(b, inv);
      return;
    case "retry":
      if (inv.status === "backing-off" && inv.epoch === timer.epoch) await beginAttempt(b, inv);
      return;
    default:
      return;
  }
}

export async function applySignal(b: Batch, invocationId: string, signal: SignalId, result: NotificationResult): Promise<AdminOutcome> {
  const inv = await b.get(invocationId);
  if (!inv) return { kind: "not-found" };
  await deliverSignal(b, inv, signal, result);
  return { kind: "ok", status: 202 };
}

const CANCELLED = { code: 409, message: "Cancelled" };
const KILLED = { code: 409, message: "killed" };

export async function applyOperation(b: Batch, op: "cancel" | "kill" | "purge" | "pause" | "resume", invocationId: string): Promise<AdminOutcome> {
  const inv = await b.get(invocationId);
  if (!inv) return { kind: "not-found" };
  const completed = inv.status === "completed";
  switch (op) {
    case "cancel":
    case "kill": {
      if (completed) return { kind: "conflict", message: `The invocation '${inv.id}' was already completed.` };
      if (inv.status === "scheduled" || inv.status === "inboxed") {
        // Not started yet: it disappears, and whoever waits for it learns why.
        const failure = op === "cancel" ? CANCELLED : KILLED;
        inv.result = { kind: "failure", failure };
        b.emit({ kind: "respond", invocationId: inv.id, response: responseOf(b, inv, false) });
        for (const cb of await b.txn.takeCallbacks(inv.id)) {
          const waiter = await b.get(cb.invocationId);
          if (waiter) await appendNotification(b, waiter, cb.notificationType, { completionId: cb.completionId }, { kind: "failure", ...failure });
        }
        await b.remove(inv.id);
        return { kind: "ok", status: 200 };
      }
      if (op === "cancel") {
        await deliverSignal(b, inv, { signalIndex: 1 }, { kind: "void" });
        return { kind: "ok", status: 202 };
      }
      await kill(b, inv);
      return { kind: "ok", status: 200 };
    }
    case "purge":
      if (!completed) return { kind: "conflict", message: `The invocation '${inv.id}' is not yet completed.` };
      await b.remove(inv.id);
      return { kind: "ok", status: 200 };
    case "pause":
      if (completed || inv.status === "paused") return { kind: "conflict", message: `The invocation '${inv.id}' is not running, cannot be paused.` };
      if (inv.status === "running") b.emit({ kind: "abort-attempt", invocationId: inv.id });
      inv.status = "paused";
      inv.epoch += 1;
      b.touch(inv);
      return { kind: "ok", status: 200 };
    case "resume":
      if (completed) return { kind: "conflict", message: `The invocation '${inv.id}' is completed, cannot be resumed.` };
      if (inv.status === "paused" || inv.status === "backing-off") await beginAttempt(b, inv);
      return { kind: "ok", status: 200 };
  }
}

/** Ends an invocation without asking its endpoint, and with it the calls it is still waiting for. */
async function kill(b: Batch, inv: InvocationRecord): Promise<void> {
  if (inv.status === "completed") return;
  b.emit({ kind: "abort-attempt", invocationId: inv.id });
  const children: string[] = [];
  for (const entry of await b.txn.readJournal(inv.id)) {
    if (entry.type !== MessageType.CallInvocationIdCompletion) continue;
    const n = decodeNotification(entry.type, entry.payload);
    if (n.result.kind === "invocationId") children.push(n.result.invocationId);
  }
  await complete(b, inv, { kind: "failure", failure: KILLED });
  for (const id of children) {
    const child = await b.get(id);
    if (child && child.status !== "completed" && child.source.kind === "call" && child.source.callerId === inv.id) {
      if (child.status === "scheduled" || child.status === "inboxed") await b.remove(child.id);
      else await kill(b, child);
    }
  }
}

/** After a restart: every invocation that was running gets a new attempt. */
export async function applyRecover(b: Batch, running: readonly string[]): Promise<void> {
  for (const id of running) {
    const inv = await b.get(id);
    if (inv && inv.status === "running") await beginAttempt(b, inv);
  }
}

/** Removes completed invocations whose retention has ended. */
export async function applyCleanup(b: Batch, limit: number): Promise<number> {
  const expired = await b.txn.expiredInvocations(b.now, limit);
  for (const id of expired) await b.remove(id);
  return expired.length;
}

/**
 * Replaces a key's state with `state` when `expectedVersion` (if given) matches the current state's version;
 * otherwise the change is dropped (and logged).
 */
export async function applyReplaceState(
  b: Batch,
  service: string,
  key: string,
  expectedVersion: string | undefined,
  state: ReadonlyArray<readonly [Buffer, Buffer]>,
): Promise<AdminOutcome> {
  if (expectedVersion !== undefined) {
    const current = stateVersion(await b.txn.getAllState(service, key));
    if (!sameStateVersion(current, expectedVersion)) {
      // As the reference does, a stale edit is acknowledged and dropped; the log says why nothing changed.
      b.emit({ kind: "log", level: "warn", message: `state change of ${service}/${key} dropped: the state changed since it was read (version ${current}, the change expected ${expectedVersion})` });
      return { kind: "ok", status: 202 };
    }
  }
  await b.txn.clearAllState(service, key);
  const pk = partitionKeyForKey(key);
  for (const [k, v] of state) await b.txn.setState(pk, service, key, k, v);
  b.emit({ kind: "log", level: "info", message: `state of ${service}/${key} replaced through the admin API (${state.length} entries)` });
  return { kind: "ok", status: 202 };
}

/** Restarts a completed invocation as a new one with the same target, headers and input (from its journal). */
export async function applyRestartAsNew(b: Batch, invocationId: string): Promise<AdminOutcome> {
  const inv = await getLive(b, invocationId);
  if (!inv) return { kind: "not-found" };
  if (inv.status !== "completed") return { kind: "conflict", message: `The invocation '${inv.id}' is not yet completed.` };
  if (inv.serviceType === "workflow" && inv.handlerType === "workflow") {
    return { kind: "conflict", message: `The invocation '${inv.id}' is a workflow run; a workflow id runs once.` };
  }
  const first = (await b.txn.readJournal(inv.id))[0];
  if (!first || first.type !== MessageType.InputCommand) {
    return { kind: "conflict", message: `The journal of '${inv.id}' is no longer retained, so its input is unknown.` };
  }
  const input = decodeCommand(first.type, first.payload);
  if (input.type !== MessageType.InputCommand) return { kind: "conflict", message: `The journal of '${inv.id}' does not start with its input.` };
  const created = await createInvocation(b, {
    target: { service: inv.service, handler: inv.handler, key: inv.key },
    input: Buffer.from(input.value ?? new Uint8Array()),
    headers: input.headers.map((h) => [h.key, h.value] as const),
    idempotencyKey: undefined,
    executionTime: undefined,
    source: { kind: "ingress" },
    mode: "send",
  });
  if (created.kind === "unknown-target") return { kind: "conflict", message: `${inv.service}/${inv.handler} is no longer registered` };
  return { kind: "ok", status: 200, newInvocationId: created.invocation.id };
}
