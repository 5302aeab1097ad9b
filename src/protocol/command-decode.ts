// Decoder for every command the SDK sends (and the InputCommand the server stored).
// Invariants: unknown fields are skipped; the last occurrence of a scalar or oneof member wins (proto3);
// oneof presence is kept (void vs empty value vs absent); any malformed payload or unknown command type throws
// ProtocolError. Byte fields alias the payload.
import {
  EMPTY_BYTES,
  readFailure,
  readHeader,
  readInvocationTarget,
  readStateKeys,
  readValue,
  readVoid,
  type Header,
  type InvocationTarget,
} from "./common.ts";
import type { Command } from "./commands.ts";
import { ProtocolError } from "./errors.ts";
import { MessageType, messageTypeName } from "./message-types.ts";
import { decodeWith, type ProtoReader } from "./proto-wire.ts";

/** Fields shared by the simple commands: key at field 1 (bytes or string), result_completion_id 11, name 12. */
type Simple = { bytesKey: Buffer; stringKey: string; resultCompletionId: number; name: string };

function decodeSimple(r: ProtoReader, key: "bytes" | "string" | "none"): Simple {
  const out: Simple = { bytesKey: EMPTY_BYTES, stringKey: "", resultCompletionId: 0, name: "" };
  while (r.next()) {
    if (r.field === 1 && key === "bytes") out.bytesKey = r.bytes();
    else if (r.field === 1 && key === "string") out.stringKey = r.string();
    else if (r.field === 11) out.resultCompletionId = r.uint32();
    else if (r.field === 12) out.name = r.string();
    else r.skip();
  }
  return out;
}

function decodeBody(r: ProtoReader, type: number): Command {
  switch (type) {
    case MessageType.InputCommand: {
      const cmd: Command = { type, headers: [], name: "" };
      while (r.next()) {
        if (r.field === 1) cmd.headers.push(readHeader(r));
        else if (r.field === 12) cmd.name = r.string();
        else if (r.field === 14) cmd.value = readValue(r);
        else r.skip();
      }
      return cmd;
    }
    case MessageType.OutputCommand: {
      const cmd: Command = { type, result: undefined, name: "" };
      while (r.next()) {
        if (r.field === 12) cmd.name = r.string();
        else if (r.field === 14) cmd.result = { kind: "value", value: readValue(r) };
        else if (r.field === 15) cmd.result = readFailure(r);
        else r.skip();
      }
      return cmd;
    }
    case MessageType.GetLazyStateCommand: {
      const s = decodeSimple(r, "bytes");
      return { type, key: s.bytesKey, resultCompletionId: s.resultCompletionId, name: s.name };
    }
    case MessageType.SetStateCommand: {
      const cmd: Command = { type, key: EMPTY_BYTES, name: "" };
      while (r.next()) {
        if (r.field === 1) cmd.key = r.bytes();
        else if (r.field === 3) cmd.value = readValue(r);
        else if (r.field === 12) cmd.name = r.string();
        else r.skip();
      }
      return cmd;
    }
    case MessageType.ClearStateCommand: {
      const s = decodeSimple(r, "bytes");
      return { type, key: s.bytesKey, name: s.name };
    }
    case MessageType.ClearAllStateCommand:
      return { type, name: decodeSimple(r, "none").name };
    case MessageType.GetLazyStateKeysCommand:
    case MessageType.RunCommand: {
      const s = decodeSimple(r, "none");
      return { type, resultCompletionId: s.resultCompletionId, name: s.name };
    }
    case MessageType.GetEagerStateCommand: {
      const cmd: Command = { type, key: EMPTY_BYTES, result: undefined, name: "" };
      while (r.next()) {
        if (r.field === 1) cmd.key = r.bytes();
        else if (r.field === 12) cmd.name = r.string();
        else if (r.field === 13) {
          readVoid(r);
          cmd.result = { kind: "void" };
        } else if (r.field === 14) cmd.result = { kind: "value", value: readValue(r) };
        else r.skip();
      }
      return cmd;
    }
    case MessageType.GetEagerStateKeysCommand: {
      const cmd: Command = { type, keys: [], name: "" };
      while (r.next()) {
        if (r.field === 12) cmd.name = r.string();
        else if (r.field === 14) cmd.keys = readStateKeys(r);
        else r.skip();
      }
      return cmd;
    }
    case MessageType.GetPromiseCommand:
    case MessageType.PeekPromiseCommand: {
      const s = decodeSimple(r, "string");
      return { type, key: s.stringKey, resultCompletionId: s.resultCompletionId, name: s.name };
    }
    case MessageType.CompletePromiseCommand: {
      const cmd: Command = { type, key: "", completion: undefined, resultCompletionId: 0, name: "" };
      while (r.next()) {
        if (r.field === 1) cmd.key = r.string();
        else if (r.field === 2) cmd.completion = { kind: "value", value: readValue(r) };
        else if (r.field === 3) cmd.completion = readFailure(r);
        else if (r.field === 11) cmd.resultCompletionId = r.uint32();
        else if (r.field === 12) cmd.name = r.string();
        else r.skip();
      }
      return cmd;
    }
    case MessageType.SleepCommand: {
      const cmd: Command = { type, wakeUpTime: 0, resultCompletionId: 0, name: "" };
      while (r.next()) {
        if (r.field === 1) cmd.wakeUpTime = r.uint64Number();
        else if (r.field === 11) cmd.resultCompletionId = r.uint32();
        else if (r.field === 12) cmd.name = r.string();
        else r.skip();
      }
      return cmd;
    }
    case MessageType.CallCommand:
      return decodeCall(r);
    case MessageType.OneWayCallCommand:
      return decodeOneWayCall(r);
    case MessageType.SendSignalCommand: {
      const cmd: Command = { type, targetInvocationId: "", signal: undefined, result: undefined, entryName: "" };
      while (r.next()) {
        switch (r.field) {
          case 1:
            cmd.targetInvocationId = r.string();
            break;
          case 2:
            cmd.signal = { signalIndex: r.uint32() };
            break;
          case 3:
            cmd.signal = { signalName: r.string() };
            break;
          case 4:
            readVoid(r);
            cmd.result = { kind: "void" };
            break;
          case 5:
            cmd.result = { kind: "value", value: readValue(r) };
            break;
          case 6:
            cmd.result = readFailure(r);
            break;
          case 12:
            cmd.entryName = r.string();
            break;
          default:
            r.skip();
        }
      }
      return cmd;
    }
    case MessageType.AttachInvocationCommand:
    case MessageType.GetInvocationOutputCommand: {
      let target: InvocationTarget | undefined;
      let resultCompletionId = 0;
      let name = "";
      while (r.next()) {
        if (r.field === 1 || r.field === 3 || r.field === 4) target = readInvocationTarget(r);
        else if (r.field === 11) resultCompletionId = r.uint32();
        else if (r.field === 12) name = r.string();
        else r.skip();
      }
      return { type, target, resultCompletionId, name };
    }
    case MessageType.CompleteAwakeableCommand: {
      const cmd: Command = { type, awakeableId: "", result: undefined, name: "" };
      while (r.next()) {
        if (r.field === 1) cmd.awakeableId = r.string();
        else if (r.field === 2) cmd.result = { kind: "value", value: readValue(r) };
        else if (r.field === 3) cmd.result = readFailure(r);
        else if (r.field === 12) cmd.name = r.string();
        else r.skip();
      }
      return cmd;
    }
    default:
      throw new ProtocolError(`unknown command type ${messageTypeName(type)}`);
  }
}

function decodeCall(r: ProtoReader): Command {
  const headers: Header[] = [];
  const cmd: Command = {
    type: MessageType.CallCommand,
    serviceName: "",
    handlerName: "",
    parameter: EMPTY_BYTES,
    headers,
    key: "",
    invocationIdNotificationIdx: 0,
    resultCompletionId: 0,
    name: "",
  };
  while (r.next()) {
    switch (r.field) {
      case 1:
        cmd.serviceName = r.string();
        break;
      case 2:
        cmd.handlerName = r.string();
        break;
      case 3:
        cmd.parameter = r.bytes();
        break;
      case 4:
        headers.push(readHeader(r));
        break;
      case 5:
        cmd.key = r.string();
        break;
      case 6:
        cmd.idempotencyKey = r.string();
        break;
      case 7:
        cmd.scope = r.string();
        break;
      case 8:
        cmd.limitKey = r.string();
        break;
      case 10:
        cmd.invocationIdNotificationIdx = r.uint32();
        break;
      case 11:
        cmd.resultCompletionId = r.uint32();
        break;
      case 12:
        cmd.name = r.string();
        break;
      default:
        r.skip();
    }
  }
  return cmd;
}

function decodeOneWayCall(r: ProtoReader): Command {
  const headers: Header[] = [];
  const cmd: Command = {
    type: MessageType.OneWayCallCommand,
    serviceName: "",
    handlerName: "",
    parameter: EMPTY_BYTES,
    invokeTime: 0,
    headers,
    key: "",
    invocationIdNotificationIdx: 0,
    name: "",
  };
  while (r.next()) {
    switch (r.field) {
      case 1:
        cmd.serviceName = r.string();
        break;
      case 2:
        cmd.handlerName = r.string();
        break;
      case 3:
        cmd.parameter = r.bytes();
        break;
      case 4:
        cmd.invokeTime = r.uint64Number();
        break;
      case 5:
        headers.push(readHeader(r));
        break;
      case 6:
        cmd.key = r.string();
        break;
      case 7:
        cmd.idempotencyKey = r.string();
        break;
      case 8:
        cmd.scope = r.string();
        break;
      case 9:
        cmd.limitKey = r.string();
        break;
      case 10:
        cmd.invocationIdNotificationIdx = r.uint32();
        break;
      case 12:
        cmd.name = r.string();
        break;
      default:
        r.skip();
    }
  }
  return cmd;
}

/** Decodes a command payload of message type `type` (must be a known command id). */
export function decodeCommand(type: number, payload: Uint8Array): Command {
  return decodeWith(messageTypeName(type), payload, (r) => decodeBody(r, type));
}
