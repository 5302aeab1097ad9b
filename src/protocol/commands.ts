// The journal commands (0x0400–0x7FFF) as a discriminated union keyed by their numeric MessageType.
// `switch (cmd.type) { case MessageType.CallCommand: … }` narrows to the right shape.
// Invariants:
// - Every proto field is represented; proto3 scalars default to 0 / "" / empty bytes when absent.
// - `optional` proto fields and non-oneof nested messages whose absence matters (Input/SetState value) are
//   `?:` and defined only when present on the wire. Oneofs are `result` / `completion` / `signal` / `target`
//   unions, `undefined` when no member was on the wire.
// - Commands are stored and replayed as the raw bytes received; these types exist to act on them.
import type { FailureResult, Header, InvocationTarget, ValueResult, VoidResult } from "./common.ts";
import { MessageType } from "./message-types.ts";

type T = typeof MessageType;

export type InputCommand = {
  type: T["InputCommand"];
  headers: Header[];
  /** Value{content} at field 14; undefined when absent. */
  value?: Uint8Array;
  name: string;
};

export type OutputCommand = {
  type: T["OutputCommand"];
  result: ValueResult | FailureResult | undefined;
  name: string;
};

export type GetLazyStateCommand = {
  type: T["GetLazyStateCommand"];
  key: Uint8Array;
  resultCompletionId: number;
  name: string;
};

export type SetStateCommand = {
  type: T["SetStateCommand"];
  key: Uint8Array;
  /** Value{content} at field 3; undefined when absent. */
  value?: Uint8Array;
  name: string;
};

export type ClearStateCommand = { type: T["ClearStateCommand"]; key: Uint8Array; name: string };

export type ClearAllStateCommand = { type: T["ClearAllStateCommand"]; name: string };

export type GetLazyStateKeysCommand = {
  type: T["GetLazyStateKeysCommand"];
  resultCompletionId: number;
  name: string;
};

export type GetEagerStateCommand = {
  type: T["GetEagerStateCommand"];
  key: Uint8Array;
  /** void 13 (state absent) / value 14. */
  result: VoidResult | ValueResult | undefined;
  name: string;
};

export type GetEagerStateKeysCommand = {
  type: T["GetEagerStateKeysCommand"];
  /** StateKeys at field 14 (always written by the encoder). */
  keys: Uint8Array[];
  name: string;
};

export type GetPromiseCommand = {
  type: T["GetPromiseCommand"];
  key: string;
  resultCompletionId: number;
  name: string;
};

export type PeekPromiseCommand = {
  type: T["PeekPromiseCommand"];
  key: string;
  resultCompletionId: number;
  name: string;
};

export type CompletePromiseCommand = {
  type: T["CompletePromiseCommand"];
  key: string;
  /** completion_value 2 / completion_failure 3. */
  completion: ValueResult | FailureResult | undefined;
  resultCompletionId: number;
  name: string;
};

export type SleepCommand = {
  type: T["SleepCommand"];
  /** Absolute wake-up time, ms since the Unix epoch. */
  wakeUpTime: number;
  resultCompletionId: number;
  name: string;
};

export type CallCommand = {
  type: T["CallCommand"];
  serviceName: string;
  handlerName: string;
  parameter: Uint8Array;
  headers: Header[];
  key: string;
  idempotencyKey?: string;
  /** V7. */
  scope?: string;
  /** V7. */
  limitKey?: string;
  invocationIdNotificationIdx: number;
  resultCompletionId: number;
  name: string;
};

export type OneWayCallCommand = {
  type: T["OneWayCallCommand"];
  serviceName: string;
  handlerName: string;
  parameter: Uint8Array;
  /** Absolute ms since the Unix epoch; 0 or past = now. */
  invokeTime: number;
  headers: Header[];
  key: string;
  idempotencyKey?: string;
  /** V7. */
  scope?: string;
  /** V7. */
  limitKey?: string;
  invocationIdNotificationIdx: number;
  name: string;
};

/** Which signal: idx 2 (1 = cancel, 17+ = awakeables) or name 3. */
export type SignalTarget = { signalIndex: number } | { signalName: string };

export type SendSignalCommand = {
  type: T["SendSignalCommand"];
  targetInvocationId: string;
  signal: SignalTarget | undefined;
  result: VoidResult | ValueResult | FailureResult | undefined;
  /** Entry name (field 12). */
  entryName: string;
};

export type RunCommand = { type: T["RunCommand"]; resultCompletionId: number; name: string };

export type AttachInvocationCommand = {
  type: T["AttachInvocationCommand"];
  target: InvocationTarget | undefined;
  resultCompletionId: number;
  name: string;
};

export type GetInvocationOutputCommand = {
  type: T["GetInvocationOutputCommand"];
  target: InvocationTarget | undefined;
  resultCompletionId: number;
  name: string;
};

export type CompleteAwakeableCommand = {
  type: T["CompleteAwakeableCommand"];
  awakeableId: string;
  /** value 2 / failure 3. */
  result: ValueResult | FailureResult | undefined;
  name: string;
};

export type Command =
  | InputCommand
  | OutputCommand
  | GetLazyStateCommand
  | SetStateCommand
  | ClearStateCommand
  | ClearAllStateCommand
  | GetLazyStateKeysCommand
  | GetEagerStateCommand
  | GetEagerStateKeysCommand
  | GetPromiseCommand
  | PeekPromiseCommand
  | CompletePromiseCommand
  | SleepCommand
  | CallCommand
  | OneWayCallCommand
  | SendSignalCommand
  | RunCommand
  | AttachInvocationCommand
  | GetInvocationOutputCommand
  | CompleteAwakeableCommand;

/** The command shape for a given type id: `CommandOf<typeof MessageType.SleepCommand>` = SleepCommand. */
export type CommandOf<K extends Command["type"]> = Extract<Command, { type: K }>;

/** The entry name of a command (SendSignal keeps it in `entryName`). */
export function commandName(cmd: Command): string {
  return cmd.type === MessageType.SendSignalCommand ? cmd.entryName : cmd.name;
}

/** Completion ids the command allocates (notifications the server will produce for it), in order. */
export function commandCompletionIds(cmd: Command): number[] {
  switch (cmd.type) {
    case MessageType.GetLazyStateCommand:
    case MessageType.GetLazyStateKeysCommand:
    case MessageType.GetPromiseCommand:
    case MessageType.PeekPromiseCommand:
    case MessageType.CompletePromiseCommand:
    case MessageType.SleepCommand:
    case MessageType.RunCommand:
    case MessageType.AttachInvocationCommand:
    case MessageType.GetInvocationOutputCommand:
      return [cmd.resultCompletionId];
    case MessageType.CallCommand:
      return [cmd.invocationIdNotificationIdx, cmd.resultCompletionId];
    case MessageType.OneWayCallCommand:
      return [cmd.invocationIdNotificationIdx];
    default:
      return [];
  }
}
