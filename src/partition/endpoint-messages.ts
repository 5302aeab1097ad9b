// Applies the messages an endpoint sends during an attempt: journal commands, run proposals, and the terminal
// messages End, Suspension and Error.
//
// Invariants:
// - Messages of a superseded attempt (older epoch) or of an invocation that is not running are ignored.
// - A command is validated before it is journaled; an invalid command fails the attempt and changes nothing
//   else of the invocation.
// - Every command is journaled as the bytes received, then acted upon (state, timers, calls, promises...).

import type { InvocationRecord } from "../storage/api/records.ts";
import type { Frame } from "../protocol/frame.ts";
import { MessageType, isCommand, isCustomEntry, messageTypeName } from "../protocol/message-types.ts";
import { decodeCommand } from "../protocol/command-decode.ts";
import type { Command } from "../protocol/commands.ts";
import {
  decodeError,
  decodeProposeRunCompletion,
  decodeSuspension,
  encodeProposeRunCompletionAck,
  ErrorBehavior,
  suspensionAwaitedIds,
} from "../protocol/control.ts";
import { FrameFlags, encodeFrame } from "../protocol/frame.ts";
import type { NotificationResult, InvocationTarget as ProtocolTarget } from "../protocol/common.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { ErrorCode } from "../core/errors.ts";
import { encodeInvocationId, parseAwakeableId, tryParseInvocationId } from "../core/ids.ts";
import type { Batch } from "./batch.ts";
import { appendNotification, attemptFailed, beginAttempt, complete, notificationKey, resultToNotification, CANCEL_SIGNAL_KEY } from "./lifecycle.ts";
import { createInvocation, idempotentInvocationId, workflowRunId, WORKFLOW_ALREADY_INVOKED } from "./invoke.ts";
import { deliverSignal } from "./signals.ts";

/** A command that breaks the protocol's rules; fails the attempt (code 500) with its error code recorded. */
class CommandRejected extends Error {
  readonly errorCode: string;
  constructor(errorCode: string, message: string) {
    super(message);
    this.errorCode = errorCode;
  }
}

export async function applyEndpointMessage(b: Batch, invocationId: string, epoch: number, frame: Frame): Promise<void> {
  const inv = await b.get(invocationId);
  if (!inv || inv.epoch !== epoch || inv.status !== "running") return;
  try {
    if (isCommand(frame.type)) {
      await applyCommand(b, inv, frame);
      return;
    }
    if (isCustomEntry(frame.type)) {
      await journalCommand(b, inv, frame);
      return;
    }
    switch (frame.type) {
      case MessageType.ProposeRunCompletion: {
        const m = decodeProposeRunCompletion(frame.payload);
        if (!m.result) throw new ProtocolError("ProposeRunCompletion without a result");
        const already = await b.txn.findNotifications(inv.id, [`c:${m.resultCompletionId}`]);
        if (already.length > 0) return;
        inv.retryCount = 0;
        inv.lastEntryAt = b.now;
        // V7 asks for an ack: the journal keeps the completion (replayed at this position), the stream gets the ack.
        const ack = frame.flags & FrameFlags.RequestedAck ? encodeFrame(MessageType.ProposeRunCompletionAck, encodeProposeRunCompletionAck({ completionId: m.resultCompletionId })) : undefined;
        await appendNotification(b, inv, MessageType.RunCompletion, { completionId: m.resultCompletionId }, m.result, ack);
        return;
      }
      case MessageType.End: {
        if (!inv.result) {
          await attemptFailed(b, inv, ErrorCode.ProtocolViolation, { code: 571, message: "the endpoint ended the invocation without an output" });
          return;
        }
        await complete(b, inv, inv.result);
        return;
      }
      case MessageType.Suspension: {
        const ids = suspensionAwaitedIds(decodeSuspension(frame.payload));
        const awaiting = { completions: [...ids.completionIds], signals: [...ids.signalIndexes], names: [...ids.signalNames] };
        if (awaiting.completions.length + awaiting.signals.length + awaiting.names.length === 0) {
          throw new ProtocolError("suspension without anything to await");
        }
        const keys = [
          ...awaiting.completions.map((c) => `c:${c}`),
          ...awaiting.signals.map((s) => `s:${s}`),
          ...awaiting.names.map((n) => `n:${n}`),
        ];
        const present = await b.txn.findNotifications(inv.id, keys);
        if (present.length > 0) {
          await beginAttempt(b, inv);
          return;
        }
        inv.status = "suspended";
        inv.awaiting = awaiting;
        b.touch(inv);
        return;
      }
      case MessageType.Error: {
        const m = decodeError(frame.payload);
        if (m.behavior === ErrorBehavior.Fail) {
          await complete(b, inv, { kind: "failure", failure: { code: m.code || 500, message: m.message } });
          return;
        }
        if (m.behavior === ErrorBehavior.Pause) {
          inv.failedAttempts += 1;
          inv.lastFailure = { code: m.code || 500, message: m.message, errorCode: ErrorCode.AttemptFailed };
          inv.status = "paused";
          b.touch(inv);
          b.emit({ kind: "log", level: "warn", message: `invocation ${inv.id} (${inv.service}/${inv.handler}) paused at the endpoint's request: ${m.message}` });
          return;
        }
        const related =
          m.relatedCommandIndex !== undefined || m.relatedCommandName
            ? `${m.relatedCommandType !== undefined ? messageTypeName(m.relatedCommandType) : "command"} #${m.relatedCommandIndex ?? "?"}${m.relatedCommandName ? ` '${m.relatedCommandName}'` : ""}`
            : undefined;
        await attemptFailed(
          b,
          inv,
          ErrorCode.AttemptFailed,
          { code: m.code || 500, message: m.message, ...(m.stacktrace ? { stacktrace: m.stacktrace } : {}) },
          { requestedDelayMs: m.nextRetryDelay },
          related,
        );
        return;
      }
      case MessageType.AwaitingOn:
        return;
      default:
        throw new ProtocolError(`unexpected message ${messageTypeName(frame.type)} from the endpoint`);
    }
  } catch (err) {
    if (err instanceof CommandRejected) {
      await attemptFailed(b, inv, err.errorCode, { code: 500, message: err.message });
      return;
    }
    if (err instanceof ProtocolError) {
      await attemptFailed(b, inv, ErrorCode.ProtocolViolation, { code: 571, message: err.message });
      return;
    }
    throw err;
  }
}

async function journalCommand(b: Batch, inv: InvocationRecord, frame: Frame): Promise<void> {
  const index = inv.journalLength;
  await b.appendJournal(inv.id, { index, type: frame.type, payload: frame.payload, notificationKey: undefined, appendedAt: b.now });
  inv.journalLength = index + 1;
  inv.commandCount += 1;
  inv.retryCount = 0;
  inv.lastEntryAt = b.now;
  b.touch(inv);
}

function validate(b: Batch, inv: InvocationRecord, cmd: Command): void {
  const keyed = inv.serviceType !== "service";
  const canWrite = keyed && inv.handlerType !== "shared";
  switch (cmd.type) {
    case MessageType.InputCommand:
      throw new CommandRejected(ErrorCode.ProtocolViolation, "the endpoint sent an Input command");
    case MessageType.GetLazyStateCommand:
    case MessageType.GetLazyStateKeysCommand:
    case MessageType.GetEagerStateCommand:
    case MessageType.GetEagerStateKeysCommand:
      if (!keyed) throw new CommandRejected(ErrorCode.CommandNotAllowed, `${inv.service} is a service without state: state can only be read by virtual objects and workflows`);
      return;
    case MessageType.SetStateCommand:
    case MessageType.ClearStateCommand:
    case MessageType.ClearAllStateCommand:
      if (!canWrite) throw new CommandRejected(ErrorCode.CommandNotAllowed, `${inv.service}/${inv.handler} cannot write state: only exclusive object handlers and workflow runs can`);
      return;
    case MessageType.GetPromiseCommand:
    case MessageType.PeekPromiseCommand:
    case MessageType.CompletePromiseCommand:
      if (inv.serviceType !== "workflow") throw new CommandRejected(ErrorCode.CommandNotAllowed, "durable promises exist only in workflows");
      return;
    case MessageType.CallCommand:
    case MessageType.OneWayCallCommand: {
      const svc = b.deps.registry.service(cmd.serviceName);
      const handler = svc?.definition.handlers.find((h) => h.name === cmd.handlerName);
      if (!svc || !handler) throw new CommandRejected(ErrorCode.UnknownTarget, `call to unknown target ${cmd.serviceName}/${cmd.handlerName}`);
      const targetKeyed = svc.definition.ty !== "service";
      if (!targetKeyed && cmd.key !== "") throw new CommandRejected(ErrorCode.ProtocolViolation, `a key was given for service ${cmd.serviceName}, which has no keys`);
      if (cmd.idempotencyKey === "") throw new CommandRejected(ErrorCode.ProtocolViolation, "the idempotency key of a call cannot be empty");
      return;
    }
    case MessageType.SendSignalCommand:
      if (!tryParseInvocationId(cmd.targetInvocationId)) throw new CommandRejected(ErrorCode.ProtocolViolation, `bad invocation id '${cmd.targetInvocationId}'`);
      if (!cmd.signal || !cmd.result) throw new CommandRejected(ErrorCode.ProtocolViolation, "SendSignal without a signal id or a result");
      return;
    case MessageType.CompleteAwakeableCommand:
      try {
        const parsed = parseAwakeableId(cmd.awakeableId);
        if (parsed.legacy) throw new Error("legacy awakeable ids are not supported");
      } catch (err) {
        throw new CommandRejected(ErrorCode.ProtocolViolation, `bad awakeable id '${cmd.awakeableId}': ${(err as Error).message}`);
      }
      if (!cmd.result) throw new CommandRejected(ErrorCode.ProtocolViolation, "CompleteAwakeable without a result");
      return;
    case MessageType.AttachInvocationCommand:
    case MessageType.GetInvocationOutputCommand:
      if (!cmd.target) throw new CommandRejected(ErrorCode.ProtocolViolation, "attach without a target");
      if (cmd.target.kind === "invocationId" && !tryParseInvocationId(cmd.target.invocationId)) {
        throw new CommandRejected(ErrorCode.ProtocolViolation, `bad invocation id '${cmd.target.invocationId}'`);
      }
      return;
    default:
      return;
  }
}

function targetId(t: ProtocolTarget): string {
  switch (t.kind) {
    case "invocationId":
      return t.invocationId;
    case "idempotentRequest":
      return idempotentInvocationId(t.serviceName, t.serviceKey, t.handlerName, t.idempotencyKey);
    case "workflow":
      return workflowRunId(t.workflowName, t.workflowKey);
  }
}

async function applyCommand(b: Batch, inv: InvocationRecord, frame: Frame): Promise<void> {
  const cmd = decodeCommand(frame.type, frame.payload);
  validate(b, inv, cmd);
  await journalCommand(b, inv, frame);
  const key = inv.key ?? "";
  switch (cmd.type) {
    case MessageType.OutputCommand:
      if (!cmd.result) throw new CommandRejected(ErrorCode.ProtocolViolation, "Output command without a result");
      inv.result =
        cmd.result.kind === "value"
          ? { kind: "success", value: Buffer.from(cmd.result.value) }
          : { kind: "failure", failure: { code: cmd.result.code, message: cmd.result.message, ...(cmd.result.metadata ? { metadata: cmd.result.metadata } : {}) } };
      return;
    case MessageType.GetLazyStateCommand: {
      const value = await b.txn.getState(inv.service, key, Buffer.from(cmd.key));
      await appendNotification(b, inv, MessageType.GetLazyStateCompletion, { completionId: cmd.resultCompletionId }, value ? { kind: "value", value } : { kind: "void" });
      return;
    }
    case MessageType.GetLazyStateKeysCommand: {
      const keys = (await b.txn.getAllState(inv.service, key)).map(([k]) => k);
      await appendNotification(b, inv, MessageType.GetLazyStateKeysCompletion, { completionId: cmd.resultCompletionId }, { kind: "stateKeys", keys });
      return;
    }
    case MessageType.SetStateCommand:
      await b.txn.setState(inv.partitionKey, inv.service, key, Buffer.from(cmd.key), Buffer.from(cmd.value ?? new Uint8Array()));
      return;
    case MessageType.ClearStateCommand:
      await b.txn.clearState(inv.service, key, Buffer.from(cmd.key));
      return;
    case MessageType.ClearAllStateCommand:
      await b.txn.clearAllState(inv.service, key);
      return;
    case MessageType.SleepCommand: {
      const timer = await b.txn.addTimer({ partitionKey: inv.partitionKey, dueAt: cmd.wakeUpTime, kind: "sleep", invocationId: inv.id, completionId: cmd.resultCompletionId, epoch: undefined });
      b.emit({ kind: "schedule-timer", timer });
      return;
    }
    case MessageType.CallCommand:
    case MessageType.OneWayCallCommand: {
      const isCall = cmd.type === MessageType.CallCommand;
      const created = await createInvocation(b, {
        target: { service: cmd.serviceName, handler: cmd.handlerName, key: b.deps.registry.service(cmd.serviceName)!.definition.ty === "service" ? undefined : cmd.key },
        input: Buffer.from(cmd.parameter),
        headers: cmd.headers.map((h) => [h.key, h.value] as const),
        idempotencyKey: cmd.idempotencyKey,
        executionTime: !isCall && cmd.invokeTime > 0 ? cmd.invokeTime : undefined,
        source: isCall ? { kind: "call", callerId: inv.id, resultCompletionId: cmd.resultCompletionId } : { kind: "send", callerId: inv.id },
        mode: isCall ? "call" : "send",
      });
      if (created.kind === "unknown-target") throw new CommandRejected(ErrorCode.UnknownTarget, created.message);
      const child = created.invocation;
      await appendNotification(b, inv, MessageType.CallInvocationIdCompletion, { completionId: cmd.invocationIdNotificationIdx }, { kind: "invocationId", invocationId: child.id });
      if (isCall) {
        if (created.kind === "exists" && created.workflowRunAgain) {
          await appendNotification(b, inv, MessageType.CallCompletion, { completionId: cmd.resultCompletionId }, { kind: "failure", code: 409, message: WORKFLOW_ALREADY_INVOKED });
        } else if (child.status === "completed" && child.result) {
          await appendNotification(b, inv, MessageType.CallCompletion, { completionId: cmd.resultCompletionId }, resultToNotification(child.result));
        } else {
          await b.txn.addCallback(child.partitionKey, child.id, { invocationId: inv.id, completionId: cmd.resultCompletionId, notificationType: MessageType.CallCompletion });
        }
      }
      return;
    }
    case MessageType.SendSignalCommand: {
      const target = await b.get(cmd.targetInvocationId);
      if (target) await deliverSignal(b, target, cmd.signal!, cmd.result!);
      return;
    }
    case MessageType.CompleteAwakeableCommand: {
      const parsed = parseAwakeableId(cmd.awakeableId);
      if (parsed.legacy) return;
      const target = await b.get(encodeInvocationId(parsed.invocationId));
      if (target) await deliverSignal(b, target, { signalIndex: parsed.signalIndex }, cmd.result!);
      return;
    }
    case MessageType.GetPromiseCommand: {
      const p = await b.txn.getPromise(inv.service, key, cmd.key);
      if (p) {
        await appendNotification(b, inv, MessageType.GetPromiseCompletion, { completionId: cmd.resultCompletionId }, promiseResult(p));
      } else {
        await b.txn.addCallback(inv.partitionKey, promiseTarget(inv.service, key, cmd.key), { invocationId: inv.id, completionId: cmd.resultCompletionId, notificationType: MessageType.GetPromiseCompletion });
      }
      return;
    }
    case MessageType.PeekPromiseCommand: {
      const p = await b.txn.getPromise(inv.service, key, cmd.key);
      await appendNotification(b, inv, MessageType.PeekPromiseCompletion, { completionId: cmd.resultCompletionId }, p ? promiseResult(p) : { kind: "void" });
      return;
    }
    case MessageType.CompletePromiseCommand: {
      if (!cmd.completion) throw new CommandRejected(ErrorCode.ProtocolViolation, "CompletePromise without a value or failure");
      const existing = await b.txn.getPromise(inv.service, key, cmd.key);
      if (existing) {
        await appendNotification(b, inv, MessageType.CompletePromiseCompletion, { completionId: cmd.resultCompletionId }, { kind: "failure", code: 409, message: "promise was already completed" });
        return;
      }
      const result =
        cmd.completion.kind === "value"
          ? ({ kind: "value", value: Buffer.from(cmd.completion.value) } as const)
          : ({ kind: "failure", failure: { code: cmd.completion.code, message: cmd.completion.message } } as const);
      await b.txn.putPromise(inv.partitionKey, inv.service, key, cmd.key, result);
      for (const cb of await b.txn.takeCallbacks(promiseTarget(inv.service, key, cmd.key))) {
        const waiter = cb.invocationId === inv.id ? inv : await b.get(cb.invocationId);
        if (waiter) await appendNotification(b, waiter, cb.notificationType, { completionId: cb.completionId }, promiseResult(result));
      }
      await appendNotification(b, inv, MessageType.CompletePromiseCompletion, { completionId: cmd.resultCompletionId }, { kind: "void" });
      return;
    }
    case MessageType.AttachInvocationCommand:
    case MessageType.GetInvocationOutputCommand: {
      const id = targetId(cmd.target!);
      const target = await b.get(id);
      const isAttach = cmd.type === MessageType.AttachInvocationCommand;
      const type = isAttach ? MessageType.AttachInvocationCompletion : MessageType.GetInvocationOutputCompletion;
      const completionId = { completionId: cmd.resultCompletionId };
      if (target?.status === "completed" && target.result) {
        await appendNotification(b, inv, type, completionId, resultToNotification(target.result));
      } else if (!target) {
        await appendNotification(b, inv, type, completionId, isAttach ? { kind: "failure", code: 404, message: "not found" } : { kind: "void" });
      } else if (isAttach) {
        await b.txn.addCallback(target.partitionKey, target.id, { invocationId: inv.id, completionId: cmd.resultCompletionId, notificationType: type });
      } else {
        await appendNotification(b, inv, type, completionId, { kind: "void" });
      }
      return;
    }
    default:
      return;
  }
}

export function promiseTarget(service: string, key: string, name: string): string {
  return `promise:${service}/${key}/${name}`;
}

function promiseResult(p: { kind: "value"; value: Buffer } | { kind: "failure"; failure: { code: number; message: string } }): NotificationResult {
  return p.kind === "value" ? { kind: "value", value: p.value } : { kind: "failure", code: p.failure.code, message: p.failure.message };
}

export { notificationKey, CANCEL_SIGNAL_KEY };
