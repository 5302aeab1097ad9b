// Notifications (0x8000–0xFBFF), encoded and decoded with ONE generic codec: every notification follows
// restate's NotificationTemplate duck type, only the frame's type id differs.
//   id:     completion_id 1 | signal_id 2 | signal_name 3
//   result: void 4 (Void{}) | value 5 (Value{content 1}) | failure 6 (Failure) | invocation_id 16 | state_keys 17
// Invariants:
// - The id and the result are both always written when set, even when "empty": completion id 0 is written,
//   `void` is tag + length 0, an empty value is `Value{}` (tag + length 0). SDKs rely on this presence.
// - decodeNotification requires an id and a result (the server only decodes what it wrote); it does not
//   check that the result kind fits the type id.
import {
  readFailure,
  readStateKeys,
  readValue,
  readVoid,
  writeFailure,
  writeStateKeys,
  writeValue,
  failureOf,
  type NotificationResult,
} from "./common.ts";
import { ProtocolError } from "./errors.ts";
import { encodeFrame } from "./frame.ts";
import { isNotification, messageTypeName, type NotificationMessageType } from "./message-types.ts";
import { decodeWith, encodeWith } from "./proto-wire.ts";

export type NotificationId = { completionId: number } | { signalIndex: number } | { signalName: string };

export type Notification = { id: NotificationId; result: NotificationResult };

/** A notification together with its message type id (what the journal stores). */
export type TypedNotification = Notification & { type: NotificationMessageType };

export function encodeNotification(n: Notification): Buffer {
  return encodeWith((w) => {
    const id = n.id;
    if ("completionId" in id) w.uint32(1, id.completionId);
    else if ("signalIndex" in id) w.uint32(2, id.signalIndex);
    else w.string(3, id.signalName);
    const result = n.result;
    switch (result.kind) {
      case "void":
        w.emptyMessage(4);
        break;
      case "value":
        writeValue(w, 5, result.value);
        break;
      case "failure":
        writeFailure(w, 6, failureOf(result));
        break;
      case "invocationId":
        w.string(16, result.invocationId);
        break;
      case "stateKeys":
        writeStateKeys(w, 17, result.keys);
        break;
    }
  });
}

/** Header + payload of a notification frame. */
export function encodeNotificationFrame(type: NotificationMessageType, n: Notification): Buffer {
  return encodeFrame(type, encodeNotification(n));
}

export function decodeNotification(type: number, payload: Uint8Array): Notification {
  if (!isNotification(type)) {
    throw new ProtocolError(`${messageTypeName(type)} is not a notification type`);
  }
  return decodeWith(messageTypeName(type), payload, (r) => {
    let id: NotificationId | undefined;
    let result: NotificationResult | undefined;
    while (r.next()) {
      switch (r.field) {
        case 1:
          id = { completionId: r.uint32() };
          break;
        case 2:
          id = { signalIndex: r.uint32() };
          break;
        case 3:
          id = { signalName: r.string() };
          break;
        case 4:
          readVoid(r);
          result = { kind: "void" };
          break;
        case 5:
          result = { kind: "value", value: readValue(r) };
          break;
        case 6:
          result = readFailure(r);
          break;
        case 16:
          result = { kind: "invocationId", invocationId: r.string() };
          break;
        case 17:
          result = { kind: "stateKeys", keys: readStateKeys(r) };
          break;
        default:
          r.skip();
      }
    }
    if (id === undefined) throw new ProtocolError("notification without id");
    if (result === undefined) throw new ProtocolError("notification without result");
    return { id, result };
  });
}

/** Convenience: the id as restate prints it ("CompletionId: 3", "SignalIndex: 1", "SignalName: x"). */
export function notificationIdString(id: NotificationId): string {
  if ("completionId" in id) return `CompletionId: ${id.completionId}`;
  if ("signalIndex" in id) return `SignalIndex: ${id.signalIndex}`;
  return `SignalName: ${id.signalName}`;
}
