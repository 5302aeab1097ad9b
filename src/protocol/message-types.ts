// Message type ids of the invocation protocol (V5–V7) and their ranges and display names.
// Invariants: ids match restate's header.rs table; ranges are 0x0000–0x03FF control, 0x0400–0x7FFF commands,
// 0x8000–0xFBFF notifications, 0xFC00–0xFFFF custom entries. 0x0004 (CommandAck) is listed for completeness
// but must never be sent to shared-core SDKs. Display names follow restate's `sys_journal.entry_type`
// ("Command: Run", "Notification: Sleep", "Notification: Signal").

export const MessageType = {
  // Control
  Start: 0x0000,
  Suspension: 0x0001,
  Error: 0x0002,
  End: 0x0003,
  CommandAck: 0x0004,
  ProposeRunCompletion: 0x0005,
  AwaitingOn: 0x0006,
  ProposeRunCompletionAck: 0x0007,
  // Commands
  InputCommand: 0x0400,
  OutputCommand: 0x0401,
  GetLazyStateCommand: 0x0402,
  SetStateCommand: 0x0403,
  ClearStateCommand: 0x0404,
  ClearAllStateCommand: 0x0405,
  GetLazyStateKeysCommand: 0x0406,
  GetEagerStateCommand: 0x0407,
  GetEagerStateKeysCommand: 0x0408,
  GetPromiseCommand: 0x0409,
  PeekPromiseCommand: 0x040a,
  CompletePromiseCommand: 0x040b,
  SleepCommand: 0x040c,
  CallCommand: 0x040d,
  OneWayCallCommand: 0x040e,
  SendSignalCommand: 0x0410,
  RunCommand: 0x0411,
  AttachInvocationCommand: 0x0412,
  GetInvocationOutputCommand: 0x0413,
  CompleteAwakeableCommand: 0x0414,
  // Notifications
  GetLazyStateCompletion: 0x8002,
  GetLazyStateKeysCompletion: 0x8006,
  GetPromiseCompletion: 0x8009,
  PeekPromiseCompletion: 0x800a,
  CompletePromiseCompletion: 0x800b,
  SleepCompletion: 0x800c,
  CallCompletion: 0x800d,
  CallInvocationIdCompletion: 0x800e,
  RunCompletion: 0x8011,
  AttachInvocationCompletion: 0x8012,
  GetInvocationOutputCompletion: 0x8013,
  Signal: 0xfbff,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export type CommandMessageType =
  | typeof MessageType.InputCommand
  | typeof MessageType.OutputCommand
  | typeof MessageType.GetLazyStateCommand
  | typeof MessageType.SetStateCommand
  | typeof MessageType.ClearStateCommand
  | typeof MessageType.ClearAllStateCommand
  | typeof MessageType.GetLazyStateKeysCommand
  | typeof MessageType.GetEagerStateCommand
  | typeof MessageType.GetEagerStateKeysCommand
  | typeof MessageType.GetPromiseCommand
  | typeof MessageType.PeekPromiseCommand
  | typeof MessageType.CompletePromiseCommand
  | typeof MessageType.SleepCommand
  | typeof MessageType.CallCommand
  | typeof MessageType.OneWayCallCommand
  | typeof MessageType.SendSignalCommand
  | typeof MessageType.RunCommand
  | typeof MessageType.AttachInvocationCommand
  | typeof MessageType.GetInvocationOutputCommand
  | typeof MessageType.CompleteAwakeableCommand;

export type NotificationMessageType =
  | typeof MessageType.GetLazyStateCompletion
  | typeof MessageType.GetLazyStateKeysCompletion
  | typeof MessageType.GetPromiseCompletion
  | typeof MessageType.PeekPromiseCompletion
  | typeof MessageType.CompletePromiseCompletion
  | typeof MessageType.SleepCompletion
  | typeof MessageType.CallCompletion
  | typeof MessageType.CallInvocationIdCompletion
  | typeof MessageType.RunCompletion
  | typeof MessageType.AttachInvocationCompletion
  | typeof MessageType.GetInvocationOutputCompletion
  | typeof MessageType.Signal;

const NAMES = new Map<number, string>([
  [MessageType.Start, "Start"],
  [MessageType.Suspension, "Suspension"],
  [MessageType.Error, "Error"],
  [MessageType.End, "End"],
  [MessageType.CommandAck, "CommandAck"],
  [MessageType.ProposeRunCompletion, "ProposeRunCompletion"],
  [MessageType.AwaitingOn, "AwaitingOn"],
  [MessageType.ProposeRunCompletionAck, "ProposeRunCompletionAck"],
  [MessageType.InputCommand, "Command: Input"],
  [MessageType.OutputCommand, "Command: Output"],
  [MessageType.GetLazyStateCommand, "Command: GetLazyState"],
  [MessageType.SetStateCommand, "Command: SetState"],
  [MessageType.ClearStateCommand, "Command: ClearState"],
  [MessageType.ClearAllStateCommand, "Command: ClearAllState"],
  [MessageType.GetLazyStateKeysCommand, "Command: GetLazyStateKeys"],
  [MessageType.GetEagerStateCommand, "Command: GetEagerState"],
  [MessageType.GetEagerStateKeysCommand, "Command: GetEagerStateKeys"],
  [MessageType.GetPromiseCommand, "Command: GetPromise"],
  [MessageType.PeekPromiseCommand, "Command: PeekPromise"],
  [MessageType.CompletePromiseCommand, "Command: CompletePromise"],
  [MessageType.SleepCommand, "Command: Sleep"],
  [MessageType.CallCommand, "Command: Call"],
  [MessageType.OneWayCallCommand, "Command: OneWayCall"],
  [MessageType.SendSignalCommand, "Command: SendSignal"],
  [MessageType.RunCommand, "Command: Run"],
  [MessageType.AttachInvocationCommand, "Command: AttachInvocation"],
  [MessageType.GetInvocationOutputCommand, "Command: GetInvocationOutput"],
  [MessageType.CompleteAwakeableCommand, "Command: CompleteAwakeable"],
  [MessageType.GetLazyStateCompletion, "Notification: GetLazyState"],
  [MessageType.GetLazyStateKeysCompletion, "Notification: GetLazyStateKeys"],
  [MessageType.GetPromiseCompletion, "Notification: GetPromise"],
  [MessageType.PeekPromiseCompletion, "Notification: PeekPromise"],
  [MessageType.CompletePromiseCompletion, "Notification: CompletePromise"],
  [MessageType.SleepCompletion, "Notification: Sleep"],
  [MessageType.CallCompletion, "Notification: Call"],
  [MessageType.CallInvocationIdCompletion, "Notification: CallInvocationId"],
  [MessageType.RunCompletion, "Notification: Run"],
  [MessageType.AttachInvocationCompletion, "Notification: AttachInvocation"],
  [MessageType.GetInvocationOutputCompletion, "Notification: GetInvocationOutput"],
  [MessageType.Signal, "Notification: Signal"],
]);

/** True for every id in the command range 0x0400–0x7FFF (known or not). */
export function isCommand(type: number): boolean {
  return type >= 0x0400 && type <= 0x7fff;
}

/** True for every id in the notification range 0x8000–0xFBFF (known or not). */
export function isNotification(type: number): boolean {
  return type >= 0x8000 && type <= 0xfbff;
}

/** True for custom entries 0xFC00–0xFFFF (persisted and replayed opaquely). */
export function isCustomEntry(type: number): boolean {
  return type >= 0xfc00 && type <= 0xffff;
}

/** True for control messages 0x0000–0x03FF. */
export function isControl(type: number): boolean {
  return type >= 0 && type <= 0x03ff;
}

/** True if `type` is one of the ids listed in MessageType. */
export function isKnownMessageType(type: number): type is MessageType {
  return NAMES.has(type);
}

/** True if `type` is one of the known command ids (type guard for CommandMessageType). */
export function isKnownCommand(type: number): type is CommandMessageType {
  return isCommand(type) && NAMES.has(type);
}

/** True if `type` is one of the known notification ids. */
export function isKnownNotification(type: number): type is NotificationMessageType {
  return isNotification(type) && NAMES.has(type);
}

function hex(type: number): string {
  return "0x" + type.toString(16).toUpperCase().padStart(4, "0");
}

/**
 * Human-readable name: "Command: Run", "Notification: Sleep", "Start", "Custom: 0xFC01",
 * "Unknown: 0x0999".
 */
export function messageTypeName(type: number): string {
  const name = NAMES.get(type);
  if (name !== undefined) return name;
  if (isCustomEntry(type)) return `Custom: ${hex(type)}`;
  return `Unknown: ${hex(type)}`;
}
