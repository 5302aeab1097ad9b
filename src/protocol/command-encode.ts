// Encoder for every command (the server only writes InputCommand; the rest serve tests and fake SDKs).
// Invariants: fields are written in field-number order; proto3 implicit-presence defaults are omitted;
// `optional` fields are written whenever defined (even ""); a set oneof member is always written, empty
// Value/Void/StateKeys included (tag + length 0).
import {
  failureOf,
  writeFailure,
  writeHeaders,
  writeInvocationTarget,
  writeStateKeys,
  writeValue,
  type FailureResult,
  type ValueResult,
  type VoidResult,
} from "./common.ts";
import type { Command } from "./commands.ts";
import { encodeFrame } from "./frame.ts";
import { MessageType } from "./message-types.ts";
import { encodeWith, type ProtoWriter } from "./proto-wire.ts";

function optString(w: ProtoWriter, field: number, value: string | undefined): void {
  if (value !== undefined) w.string(field, value);
}

function str(w: ProtoWriter, field: number, value: string): void {
  if (value !== "") w.string(field, value);
}

function u32(w: ProtoWriter, field: number, value: number): void {
  if (value !== 0) w.uint32(field, value);
}

function bytes(w: ProtoWriter, field: number, value: Uint8Array): void {
  if (value.length !== 0) w.bytes(field, value);
}

/** Writes a result oneof whose members live at fields voidField / valueField (Value) / failureField. */
function writeResult(
  w: ProtoWriter,
  result: VoidResult | ValueResult | FailureResult | undefined,
  voidField: number,
  valueField: number,
  failureField: number,
): void {
  if (result === undefined) return;
  if (result.kind === "void") w.emptyMessage(voidField);
  else if (result.kind === "value") writeValue(w, valueField, result.value);
  else writeFailure(w, failureField, failureOf(result));
}

function writeCommand(w: ProtoWriter, cmd: Command): void {
  switch (cmd.type) {
    case MessageType.InputCommand:
      writeHeaders(w, 1, cmd.headers);
      str(w, 12, cmd.name);
      if (cmd.value !== undefined) writeValue(w, 14, cmd.value);
      return;
    case MessageType.OutputCommand:
      str(w, 12, cmd.name);
      writeResult(w, cmd.result, 0, 14, 15);
      return;
    case MessageType.GetLazyStateCommand:
      bytes(w, 1, cmd.key);
      u32(w, 11, cmd.resultCompletionId);
      str(w, 12, cmd.name);
      return;
    case MessageType.SetStateCommand:
      bytes(w, 1, cmd.key);
      if (cmd.value !== undefined) writeValue(w, 3, cmd.value);
      str(w, 12, cmd.name);
      return;
    case MessageType.ClearStateCommand:
      bytes(w, 1, cmd.key);
      str(w, 12, cmd.name);
      return;
    case MessageType.ClearAllStateCommand:
      str(w, 12, cmd.name);
      return;
    case MessageType.GetLazyStateKeysCommand:
    case MessageType.RunCommand:
      u32(w, 11, cmd.resultCompletionId);
      str(w, 12, cmd.name);
      return;
    case MessageType.GetEagerStateCommand:
      bytes(w, 1, cmd.key);
      str(w, 12, cmd.name);
      writeResult(w, cmd.result, 13, 14, 0);
      return;
    case MessageType.GetEagerStateKeysCommand:
      str(w, 12, cmd.name);
      writeStateKeys(w, 14, cmd.keys);
      return;
    case MessageType.GetPromiseCommand:
    case MessageType.PeekPromiseCommand:
      str(w, 1, cmd.key);
      u32(w, 11, cmd.resultCompletionId);
      str(w, 12, cmd.name);
      return;
    case MessageType.CompletePromiseCommand:
      str(w, 1, cmd.key);
      writeResult(w, cmd.completion, 0, 2, 3);
      u32(w, 11, cmd.resultCompletionId);
      str(w, 12, cmd.name);
      return;
    case MessageType.SleepCommand:
      if (cmd.wakeUpTime !== 0) w.uint64(1, cmd.wakeUpTime);
      u32(w, 11, cmd.resultCompletionId);
      str(w, 12, cmd.name);
      return;
    case MessageType.CallCommand:
      str(w, 1, cmd.serviceName);
      str(w, 2, cmd.handlerName);
      bytes(w, 3, cmd.parameter);
      writeHeaders(w, 4, cmd.headers);
      str(w, 5, cmd.key);
      optString(w, 6, cmd.idempotencyKey);
      optString(w, 7, cmd.scope);
      optString(w, 8, cmd.limitKey);
      u32(w, 10, cmd.invocationIdNotificationIdx);
      u32(w, 11, cmd.resultCompletionId);
      str(w, 12, cmd.name);
      return;
    case MessageType.OneWayCallCommand:
      str(w, 1, cmd.serviceName);
      str(w, 2, cmd.handlerName);
      bytes(w, 3, cmd.parameter);
      if (cmd.invokeTime !== 0) w.uint64(4, cmd.invokeTime);
      writeHeaders(w, 5, cmd.headers);
      str(w, 6, cmd.key);
      optString(w, 7, cmd.idempotencyKey);
      optString(w, 8, cmd.scope);
      optString(w, 9, cmd.limitKey);
      u32(w, 10, cmd.invocationIdNotificationIdx);
      str(w, 12, cmd.name);
      return;
    case MessageType.SendSignalCommand:
      str(w, 1, cmd.targetInvocationId);
      if (cmd.signal !== undefined) {
        if ("signalIndex" in cmd.signal) w.uint32(2, cmd.signal.signalIndex);
        else w.string(3, cmd.signal.signalName);
      }
      writeResult(w, cmd.result, 4, 5, 6);
      str(w, 12, cmd.entryName);
      return;
    case MessageType.AttachInvocationCommand:
    case MessageType.GetInvocationOutputCommand:
      if (cmd.target !== undefined) writeInvocationTarget(w, cmd.target);
      u32(w, 11, cmd.resultCompletionId);
      str(w, 12, cmd.name);
      return;
    case MessageType.CompleteAwakeableCommand:
      str(w, 1, cmd.awakeableId);
      writeResult(w, cmd.result, 0, 2, 3);
      str(w, 12, cmd.name);
      return;
    default: {
      const unknown: never = cmd;
      throw new TypeError(`cannot encode command ${JSON.stringify(unknown)}`);
    }
  }
}

/** Protobuf payload of a command (frame type = cmd.type). */
export function encodeCommand(cmd: Command): Buffer {
  return encodeWith((w) => writeCommand(w, cmd));
}

/** Header + payload of a command frame. */
export function encodeCommandFrame(cmd: Command): Buffer {
  return encodeFrame(cmd.type, encodeCommand(cmd));
}
