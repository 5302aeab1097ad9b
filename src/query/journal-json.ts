// What sys_journal shows of a stored journal entry: its name, the facts the reference has columns for (sleep
// wake-up time, promise name, called target, completion ids) and the entry as JSON in the shape the reference
// serialises its journal v2 entries (`entry_json`, `entry_lite_json`), which the `restate` CLI parses to
// describe an invocation: `{"Command":{"Sleep":{"wake_up_time":…,"completion_id":1,"name":""}}}`.
//
// Invariants:
// - Pure: bytes in, values out. An entry that does not decode gives no facts and no JSON (the row still shows
//   its index, type and raw bytes).
// - Byte fields are JSON arrays of numbers and strings are decoded lossily, as serde does with `Bytes` and
//   `ByteString`.

import {
  decodeCommand,
  decodeNotification,
  isCommand,
  isNotification,
  MessageType,
  type CallCommand,
  type Command,
  type Header,
  type InvocationTarget as ProtoTarget,
  type Notification,
  type NotificationResult,
  type OneWayCallCommand,
} from "../protocol/index.ts";
import { partitionKeyForKey } from "../core/ids.ts";

/** Looks up a service's type and a handler's type; undefined for services perdure does not know (any more). */
export interface ServiceTypes {
  serviceType(service: string): "service" | "virtual_object" | "workflow" | undefined;
  handlerType(service: string, handler: string): "exclusive" | "shared" | "workflow" | undefined;
}

export interface EntryFacts {
  readonly name: string | undefined;
  /** The completion id whose notification completes this command (the result of a call, a sleep, a run …). */
  readonly completion: number | undefined;
  /** For calls and sends: the completion id of the notification that carries the callee's invocation id. */
  readonly invocationIdCompletion: number | undefined;
  readonly invokedTarget: string | undefined;
  readonly sleepWakeupAt: number | undefined;
  readonly promiseName: string | undefined;
}

const NO_FACTS: EntryFacts = {
  name: undefined,
  completion: undefined,
  invocationIdCompletion: undefined,
  invokedTarget: undefined,
  sleepWakeupAt: undefined,
  promiseName: undefined,
};

export type DecodedEntry = { kind: "command"; command: Command } | { kind: "notification"; notification: Notification; type: number } | { kind: "other" };

export function decodeEntry(type: number, payload: Uint8Array): DecodedEntry {
  try {
    if (isCommand(type)) return { kind: "command", command: decodeCommand(type, payload) };
    if (isNotification(type)) return { kind: "notification", notification: decodeNotification(type, payload), type };
  } catch {
    // not decodable: shown without details
  }
  return { kind: "other" };
}

export function entryFacts(entry: DecodedEntry): EntryFacts {
  if (entry.kind !== "command") return NO_FACTS;
  const cmd = entry.command;
  const name = cmd.type === MessageType.SendSignalCommand ? cmd.entryName : cmd.name;
  const facts: { -readonly [K in keyof EntryFacts]: EntryFacts[K] } = { ...NO_FACTS, name };
  switch (cmd.type) {
    case MessageType.GetLazyStateCommand:
    case MessageType.GetLazyStateKeysCommand:
    case MessageType.RunCommand:
    case MessageType.AttachInvocationCommand:
    case MessageType.GetInvocationOutputCommand:
      facts.completion = cmd.resultCompletionId;
      break;
    case MessageType.GetPromiseCommand:
    case MessageType.PeekPromiseCommand:
    case MessageType.CompletePromiseCommand:
      facts.completion = cmd.resultCompletionId;
      facts.promiseName = cmd.key;
      break;
    case MessageType.SleepCommand:
      facts.completion = cmd.resultCompletionId;
      facts.sleepWakeupAt = cmd.wakeUpTime;
      break;
    case MessageType.CallCommand:
      facts.completion = cmd.resultCompletionId;
      facts.invocationIdCompletion = cmd.invocationIdNotificationIdx;
      facts.invokedTarget = formatTarget(cmd.serviceName, cmd.key, cmd.handlerName);
      break;
    case MessageType.OneWayCallCommand:
      facts.completion = cmd.invocationIdNotificationIdx;
      facts.invocationIdCompletion = cmd.invocationIdNotificationIdx;
      facts.invokedTarget = formatTarget(cmd.serviceName, cmd.key, cmd.handlerName);
      break;
    default:
      break;
  }
  return facts;
}

function formatTarget(service: string, key: string, handler: string): string {
  return key === "" ? `${service}/${handler}` : `${service}/${key}/${handler}`;
}

/** The invocation id a CallInvocationId notification carries. */
export function notificationInvocationId(entry: DecodedEntry): string | undefined {
  if (entry.kind !== "notification") return undefined;
  const r = entry.notification.result;
  return r.kind === "invocationId" ? r.invocationId : undefined;
}

// --- entry_json

const utf8 = new TextDecoder("utf-8");
const str = (b: Uint8Array): string => utf8.decode(b);
const bytes = (b: Uint8Array): number[] => Array.from(b);
const failure = (f: { code: number; message: string; metadata?: ReadonlyArray<readonly [string, string]> }) => {
  const out: Record<string, unknown> = { code: f.code, message: f.message };
  if (f.metadata && f.metadata.length > 0) out.metadata = f.metadata.map(([key, value]) => ({ key, value }));
  return out;
};
const headers = (hs: readonly Header[]) => hs.map((h) => ({ name: h.key, value: h.value }));

const EMPTY_SPAN_CONTEXT = {
  span_context: {
    trace_id: new Array<number>(16).fill(0),
    span_id: new Array<number>(8).fill(0),
    trace_flags: 0,
    is_remote: false,
    trace_state: "",
  },
  cause: null,
};

const DAY = { secs: 86_400, nanos: 0 };

function invocationTarget(types: ServiceTypes, service: string, key: string, handler: string): Record<string, unknown> {
  const ty = types.serviceType(service) ?? (key === "" ? "service" : "virtual_object");
  const handlerTy = types.handlerType(service, handler);
  if (ty === "service") return { Service: { name: service, handler, scope: null } };
  if (ty === "workflow") return { Workflow: { name: service, key, handler, handler_ty: handlerTy === "shared" ? "Shared" : "Workflow", scope: null } };
  return { VirtualObject: { name: service, key, handler, handler_ty: handlerTy === "shared" ? "Shared" : "Exclusive", scope: null } };
}

function attachTarget(t: ProtoTarget | undefined): Record<string, unknown> | null {
  if (!t) return null;
  switch (t.kind) {
    case "invocationId":
      return { InvocationId: t.invocationId };
    case "idempotentRequest":
      return {
        IdempotentRequest: {
          service_name: t.serviceName,
          service_key: t.serviceKey ?? null,
          service_handler: t.handlerName,
          idempotency_key: t.idempotencyKey,
          scope: t.scope ?? null,
          partition_key: Number(partitionKeyForKey(t.serviceKey ?? `${t.serviceName}/${t.handlerName}/${t.idempotencyKey}`)),
        },
      };
    case "workflow":
      return { Workflow: { service_name: t.workflowName, key: t.workflowKey, partition_key: Number(partitionKeyForKey(t.workflowKey)), scope: t.scope ?? null } };
  }
}

type Result = { kind: "void" } | { kind: "value"; value: Uint8Array } | { kind: "failure"; code: number; message: string; metadata?: Array<[string, string]> } | undefined;

function resultJson(r: Result | NotificationResult): unknown {
  if (!r || r.kind === "void") return "Void";
  if (r.kind === "value") return { Success: bytes(r.value) };
  if (r.kind === "failure") return { Failure: failure(r) };
  return "Void";
}

function resultLite(r: Result | NotificationResult): string {
  if (!r || r.kind === "void") return "Void";
  if (r.kind === "value") return "Success";
  if (r.kind === "failure") return "Failure";
  if (r.kind === "invocationId") return "InvocationId";
  return "StateKeys";
}

const COMPLETION_NAMES = new Map<number, string>([
  [MessageType.GetLazyStateCompletion, "GetLazyState"],
  [MessageType.GetLazyStateKeysCompletion, "GetLazyStateKeys"],
  [MessageType.GetPromiseCompletion, "GetPromise"],
  [MessageType.PeekPromiseCompletion, "PeekPromise"],
  [MessageType.CompletePromiseCompletion, "CompletePromise"],
  [MessageType.SleepCompletion, "Sleep"],
  [MessageType.CallCompletion, "Call"],
  [MessageType.CallInvocationIdCompletion, "CallInvocationId"],
  [MessageType.RunCompletion, "Run"],
  [MessageType.AttachInvocationCompletion, "AttachInvocation"],
  [MessageType.GetInvocationOutputCompletion, "GetInvocationOutput"],
]);

/** The entry as the reference's `entry_json` (full) or `entry_lite_json` (lite); undefined when not decodable. */
export function entryJson(entry: DecodedEntry, invokedId: string | null, types: ServiceTypes, lite: boolean): string | undefined {
  if (entry.kind === "command") {
    const body = lite ? commandLite(entry.command, invokedId, types) : commandFull(entry.command, invokedId, types);
    return body === undefined ? undefined : JSON.stringify({ Command: body });
  }
  if (entry.kind === "notification") {
    const body = lite ? notificationLite(entry.type, entry.notification) : notificationFull(entry.type, entry.notification);
    return body === undefined ? undefined : JSON.stringify({ Notification: body });
  }
  return undefined;
}

function callRequest(cmd: CallCommand | OneWayCallCommand, invokedId: string | null, types: ServiceTypes) {
  return {
    invocation_id: invokedId,
    invocation_target: invocationTarget(types, cmd.serviceName, cmd.key, cmd.handlerName),
    span_context: EMPTY_SPAN_CONTEXT,
    parameter: bytes(cmd.parameter),
    headers: headers(cmd.headers),
    idempotency_key: cmd.idempotencyKey ?? null,
    completion_retention_duration: DAY,
    journal_retention_duration: DAY,
  };
}

function signalId(s: { signalIndex: number } | { signalName: string } | undefined): unknown {
  if (!s) return null;
  return "signalIndex" in s ? { Index: s.signalIndex } : { Name: s.signalName };
}

function commandFull(cmd: Command, invokedId: string | null, types: ServiceTypes): Record<string, unknown> | undefined {
  switch (cmd.type) {
    case MessageType.InputCommand:
      return { Input: { headers: headers(cmd.headers), payload: bytes(cmd.value ?? new Uint8Array()), name: cmd.name } };
    case MessageType.OutputCommand:
      return { Output: { result: resultJson(cmd.result), name: cmd.name } };
    case MessageType.GetLazyStateCommand:
      return { GetLazyState: { key: str(cmd.key), completion_id: cmd.resultCompletionId, name: cmd.name } };
    case MessageType.SetStateCommand:
      return { SetState: { key: str(cmd.key), value: bytes(cmd.value ?? new Uint8Array()), name: cmd.name } };
    case MessageType.ClearStateCommand:
      return { ClearState: { key: str(cmd.key), name: cmd.name } };
    case MessageType.ClearAllStateCommand:
      return { ClearAllState: { name: cmd.name } };
    case MessageType.GetLazyStateKeysCommand:
      return { GetLazyStateKeys: { completion_id: cmd.resultCompletionId, name: cmd.name } };
    case MessageType.GetEagerStateCommand:
      return { GetEagerState: { key: str(cmd.key), result: resultJson(cmd.result), name: cmd.name } };
    case MessageType.GetEagerStateKeysCommand:
      return { GetEagerStateKeys: { state_keys: cmd.keys.map(str), name: cmd.name } };
    case MessageType.GetPromiseCommand:
      return { GetPromise: { key: cmd.key, completion_id: cmd.resultCompletionId, name: cmd.name } };
    case MessageType.PeekPromiseCommand:
      return { PeekPromise: { key: cmd.key, completion_id: cmd.resultCompletionId, name: cmd.name } };
    case MessageType.CompletePromiseCommand:
      return { CompletePromise: { key: cmd.key, value: resultJson(cmd.completion), completion_id: cmd.resultCompletionId, name: cmd.name } };
    case MessageType.SleepCommand:
      return { Sleep: { wake_up_time: cmd.wakeUpTime, completion_id: cmd.resultCompletionId, name: cmd.name } };
    case MessageType.CallCommand:
      if (invokedId === null) return undefined;
      return {
        Call: {
          request: callRequest(cmd, invokedId, types),
          invocation_id_completion_id: cmd.invocationIdNotificationIdx,
          result_completion_id: cmd.resultCompletionId,
          name: cmd.name,
        },
      };
    case MessageType.OneWayCallCommand:
      if (invokedId === null) return undefined;
      return {
        OneWayCall: {
          request: callRequest(cmd, invokedId, types),
          invoke_time: cmd.invokeTime,
          invocation_id_completion_id: cmd.invocationIdNotificationIdx,
          name: cmd.name,
        },
      };
    case MessageType.SendSignalCommand:
      return { SendSignal: { target_invocation_id: cmd.targetInvocationId, signal_id: signalId(cmd.signal), result: resultJson(cmd.result), name: cmd.entryName } };
    case MessageType.RunCommand:
      return { Run: { completion_id: cmd.resultCompletionId, name: cmd.name } };
    case MessageType.AttachInvocationCommand:
      return { AttachInvocation: { target: attachTarget(cmd.target), completion_id: cmd.resultCompletionId, name: cmd.name } };
    case MessageType.GetInvocationOutputCommand:
      return { GetInvocationOutput: { target: attachTarget(cmd.target), completion_id: cmd.resultCompletionId, name: cmd.name } };
    case MessageType.CompleteAwakeableCommand:
      return { CompleteAwakeable: { id: cmd.awakeableId, result: resultJson(cmd.result), name: cmd.name } };
  }
}

/** `name` is left out of lite entries when empty, as the reference's serde attributes say. */
function named<T extends Record<string, unknown>>(body: T, name: string): T {
  return name === "" ? body : { ...body, name };
}

function commandLite(cmd: Command, invokedId: string | null, types: ServiceTypes): Record<string, unknown> | undefined {
  switch (cmd.type) {
    case MessageType.InputCommand:
      return { Input: {} };
    case MessageType.OutputCommand:
      return { Output: { result: resultLite(cmd.result) } };
    case MessageType.GetLazyStateCommand:
      return { GetLazyState: { key: str(cmd.key), completion_id: cmd.resultCompletionId } };
    case MessageType.SetStateCommand:
      return { SetState: { key: str(cmd.key) } };
    case MessageType.ClearStateCommand:
      return { ClearState: { key: str(cmd.key) } };
    case MessageType.ClearAllStateCommand:
      return { ClearAllState: {} };
    case MessageType.GetLazyStateKeysCommand:
      return { GetLazyStateKeys: { completion_id: cmd.resultCompletionId } };
    case MessageType.GetEagerStateCommand:
      return { GetEagerState: { key: str(cmd.key), result: resultLite(cmd.result) } };
    case MessageType.GetEagerStateKeysCommand:
      return { GetEagerStateKeys: {} };
    case MessageType.GetPromiseCommand:
      return { GetPromise: { key: cmd.key, completion_id: cmd.resultCompletionId } };
    case MessageType.PeekPromiseCommand:
      return { PeekPromise: { key: cmd.key, completion_id: cmd.resultCompletionId } };
    case MessageType.CompletePromiseCommand:
      return { CompletePromise: { key: cmd.key, completion_id: cmd.resultCompletionId } };
    case MessageType.SleepCommand:
      return { Sleep: named({ wake_up_time: cmd.wakeUpTime, completion_id: cmd.resultCompletionId }, cmd.name) };
    case MessageType.CallCommand:
      if (invokedId === null) return undefined;
      return {
        Call: named(
          {
            invocation_id: invokedId,
            invocation_target: invocationTarget(types, cmd.serviceName, cmd.key, cmd.handlerName),
            invocation_id_completion_id: cmd.invocationIdNotificationIdx,
            result_completion_id: cmd.resultCompletionId,
          },
          cmd.name,
        ),
      };
    case MessageType.OneWayCallCommand:
      if (invokedId === null) return undefined;
      return {
        OneWayCall: named(
          {
            invocation_id: invokedId,
            invocation_target: invocationTarget(types, cmd.serviceName, cmd.key, cmd.handlerName),
            invoke_time: cmd.invokeTime,
            invocation_id_completion_id: cmd.invocationIdNotificationIdx,
          },
          cmd.name,
        ),
      };
    case MessageType.SendSignalCommand:
      return { SendSignal: { target_invocation_id: cmd.targetInvocationId, signal_id: signalId(cmd.signal), result: resultLite(cmd.result) } };
    case MessageType.RunCommand:
      return { Run: named({ completion_id: cmd.resultCompletionId }, cmd.name) };
    case MessageType.AttachInvocationCommand:
      return { AttachInvocation: { target: attachTarget(cmd.target), completion_id: cmd.resultCompletionId } };
    case MessageType.GetInvocationOutputCommand:
      return { GetInvocationOutput: { target: attachTarget(cmd.target), completion_id: cmd.resultCompletionId } };
    case MessageType.CompleteAwakeableCommand:
      return { CompleteAwakeable: { id: cmd.awakeableId, result: resultLite(cmd.result) } };
  }
}

function notificationFull(type: number, n: Notification): Record<string, unknown> | undefined {
  const id = n.id;
  const r = n.result;
  if (type === MessageType.Signal) {
    const sid = "signalIndex" in id ? { Index: id.signalIndex } : "signalName" in id ? { Name: id.signalName } : undefined;
    if (!sid) return undefined;
    return { Signal: { id: sid, result: resultJson(r) } };
  }
  const name = COMPLETION_NAMES.get(type);
  if (!name || !("completionId" in id)) return undefined;
  const completion_id = id.completionId;
  let body: Record<string, unknown>;
  switch (type) {
    case MessageType.SleepCompletion:
      body = { completion_id };
      break;
    case MessageType.CallInvocationIdCompletion:
      body = { completion_id, invocation_id: r.kind === "invocationId" ? r.invocationId : null };
      break;
    case MessageType.GetLazyStateKeysCompletion:
      body = { completion_id, state_keys: r.kind === "stateKeys" ? r.keys.map(str) : [] };
      break;
    default:
      body = { completion_id, result: resultJson(r) };
  }
  return { Completion: { [name]: body } };
}

function notificationLite(type: number, n: Notification): Record<string, unknown> | undefined {
  const id = n.id;
  const nid = "completionId" in id ? { CompletionId: id.completionId } : "signalIndex" in id ? { SignalIndex: id.signalIndex } : { SignalName: id.signalName };
  if (type === MessageType.Signal) return { ty: "Signal", id: nid, result: resultLite(n.result) };
  const name = COMPLETION_NAMES.get(type);
  if (!name) return undefined;
  return { ty: { Completion: name }, id: nid, result: resultLite(n.result) };
}
