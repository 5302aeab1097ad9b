// Public surface of the invocation-protocol codec: framing, message type ids, and typed encoders/decoders
// for control messages, commands and notifications. Pure: no I/O, no clock, no dependencies outside this folder.
export { ProtocolError } from "./errors.ts";
export { ProtoReader, ProtoWriter, WireType, MAX_NESTING_DEPTH, encodeWith, decodeWith } from "./proto-wire.ts";
export {
  FrameDecoder,
  FrameFlags,
  FRAME_HEADER_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  encodeFrame,
  writeFrameHeader,
  type Frame,
} from "./frame.ts";
export {
  MessageType,
  isCommand,
  isNotification,
  isCustomEntry,
  isControl,
  isKnownMessageType,
  isKnownCommand,
  isKnownNotification,
  messageTypeName,
  type CommandMessageType,
  type NotificationMessageType,
} from "./message-types.ts";
export {
  EMPTY_BYTES,
  failureOf,
  type Header,
  type VoidResult,
  type ValueResult,
  type FailureResult,
  type InvocationIdResult,
  type StateKeysResult,
  type NotificationResult,
  type Failure,
  type InvocationTarget,
} from "./common.ts";
export { CombinatorType, flattenFuture, emptyAwaitedIds, type Future, type AwaitedIds } from "./future.ts";
export { encodeStart, decodeStart, type StartMessage, type StateEntry } from "./start.ts";
export {
  ErrorBehavior,
  encodeSuspension,
  decodeSuspension,
  suspensionAwaitedIds,
  encodeError,
  decodeError,
  encodeEnd,
  decodeEnd,
  encodeCommandAck,
  decodeCommandAck,
  encodeProposeRunCompletion,
  decodeProposeRunCompletion,
  encodeAwaitingOn,
  decodeAwaitingOn,
  encodeProposeRunCompletionAck,
  decodeProposeRunCompletionAck,
  type SuspensionMessage,
  type ErrorMessage,
  type CommandAckMessage,
  type ProposeRunCompletionMessage,
  type AwaitingOnMessage,
  type ProposeRunCompletionAckMessage,
} from "./control.ts";
export {
  encodeNotification,
  encodeNotificationFrame,
  decodeNotification,
  notificationIdString,
  type Notification,
  type NotificationId,
  type TypedNotification,
} from "./notifications.ts";
export { commandName, commandCompletionIds } from "./commands.ts";
export type * from "./commands.ts";
export { encodeCommand, encodeCommandFrame } from "./command-encode.ts";
export { decodeCommand } from "./command-decode.ts";
