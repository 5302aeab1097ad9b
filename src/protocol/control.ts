// Control messages other than Start: Suspension (0x0001), Error (0x0002), End (0x0003), CommandAck (0x0004),
// ProposeRunCompletion (0x0005), AwaitingOn (0x0006), ProposeRunCompletionAck (0x0007).
// Invariants:
// - Suspension carries either the V5/V6 flat lists (fields 1–3, packed or not) or the V7 `awaiting_on`
//   Future (field 4); both are decoded, and suspensionAwaitedIds() unions them.
// - ProposeRunCompletion.value (field 14) is RAW bytes, not a Value wrapper; a present-but-empty value
//   decodes as `{kind: "value", value: <0 bytes>}`, distinct from an absent result (`result: undefined`).
// - ErrorMessage optional fields (4, 5, 6, 8) are defined on decode only when present on the wire.
import {
  failureOf,
  readFailure,
  writeFailure,
  type FailureResult,
  type ValueResult,
} from "./common.ts";
import { flattenFuture, emptyAwaitedIds, readFuture, writeFuture, type AwaitedIds, type Future } from "./future.ts";
import { decodeWith, encodeWith } from "./proto-wire.ts";

// --- Suspension

export type SuspensionMessage = {
  /** V5/V6 field 1. */
  waitingCompletions: number[];
  /** V5/V6 field 2. */
  waitingSignals: number[];
  /** V5/V6 field 3. */
  waitingNamedSignals: string[];
  /** V7 field 4. */
  awaitingOn?: Future;
};

export function encodeSuspension(m: SuspensionMessage): Buffer {
  return encodeWith((w) => {
    w.packedUint32(1, m.waitingCompletions);
    w.packedUint32(2, m.waitingSignals);
    for (const name of m.waitingNamedSignals) w.string(3, name);
    if (m.awaitingOn) writeFuture(w, 4, m.awaitingOn);
  });
}

export function decodeSuspension(payload: Uint8Array): SuspensionMessage {
  return decodeWith("SuspensionMessage", payload, (r) => {
    const m: SuspensionMessage = { waitingCompletions: [], waitingSignals: [], waitingNamedSignals: [] };
    while (r.next()) {
      switch (r.field) {
        case 1:
          r.repeatedUint32(m.waitingCompletions);
          break;
        case 2:
          r.repeatedUint32(m.waitingSignals);
          break;
        case 3:
          m.waitingNamedSignals.push(r.string());
          break;
        case 4:
          m.awaitingOn = readFuture(r);
          break;
        default:
          r.skip();
      }
    }
    return m;
  });
}

/** Every completion id / signal index / signal name the suspended SDK waits for (V6 lists ∪ V7 tree). */
export function suspensionAwaitedIds(m: SuspensionMessage): AwaitedIds {
  const ids = emptyAwaitedIds();
  for (const id of m.waitingCompletions) ids.completionIds.add(id);
  for (const id of m.waitingSignals) ids.signalIndexes.add(id);
  for (const name of m.waitingNamedSignals) ids.signalNames.add(name);
  if (m.awaitingOn) flattenFuture(m.awaitingOn, ids);
  return ids;
}

// --- Error

export const ErrorBehavior = { Retry: 0, Pause: 1, Fail: 2 } as const;
export type ErrorBehavior = (typeof ErrorBehavior)[keyof typeof ErrorBehavior];

export type ErrorMessage = {
  code: number;
  message: string;
  stacktrace: string;
  relatedCommandIndex?: number;
  relatedCommandName?: string;
  /** A command message type id, e.g. 0x0411 for Run. */
  relatedCommandType?: number;
  /** Milliseconds; overrides the retry policy for the next retry only. */
  nextRetryDelay?: number;
  /** An ErrorBehavior value (V7); 0 = retry. Unknown values are kept as received. */
  behavior: number;
};

export function encodeError(m: ErrorMessage): Buffer {
  return encodeWith((w) => {
    if (m.code !== 0) w.uint32(1, m.code);
    if (m.message !== "") w.string(2, m.message);
    if (m.stacktrace !== "") w.string(3, m.stacktrace);
    if (m.relatedCommandIndex !== undefined) w.uint32(4, m.relatedCommandIndex);
    if (m.relatedCommandName !== undefined) w.string(5, m.relatedCommandName);
    if (m.relatedCommandType !== undefined) w.uint32(6, m.relatedCommandType);
    if (m.nextRetryDelay !== undefined) w.uint64(8, m.nextRetryDelay);
    if (m.behavior !== 0) w.uint32(9, m.behavior);
  });
}

export function decodeError(payload: Uint8Array): ErrorMessage {
  return decodeWith("ErrorMessage", payload, (r) => {
    const m: ErrorMessage = { code: 0, message: "", stacktrace: "", behavior: 0 };
    while (r.next()) {
      switch (r.field) {
        case 1:
          m.code = r.uint32();
          break;
        case 2:
          m.message = r.string();
          break;
        case 3:
          m.stacktrace = r.string();
          break;
        case 4:
          m.relatedCommandIndex = r.uint32();
          break;
        case 5:
          m.relatedCommandName = r.string();
          break;
        case 6:
          m.relatedCommandType = r.uint32();
          break;
        case 8:
          m.nextRetryDelay = r.uint64Number();
          break;
        case 9:
          m.behavior = r.uint32();
          break;
        default:
          r.skip();
      }
    }
    return m;
  });
}

// --- End (empty)

export function encodeEnd(): Buffer {
  return Buffer.alloc(0);
}

/** Validates an End payload (normally empty; unknown fields are skipped). */
export function decodeEnd(payload: Uint8Array): void {
  decodeWith("EndMessage", payload, (r) => {
    while (r.next()) r.skip();
  });
}

// --- CommandAck { command_index = 1 } (never send it to shared-core SDKs)

export type CommandAckMessage = { commandIndex: number };

export function encodeCommandAck(m: CommandAckMessage): Buffer {
  return encodeWith((w) => {
    if (m.commandIndex !== 0) w.uint32(1, m.commandIndex);
  });
}

export function decodeCommandAck(payload: Uint8Array): CommandAckMessage {
  return decodeWith("CommandAckMessage", payload, (r) => {
    let commandIndex = 0;
    while (r.next()) {
      if (r.field === 1) commandIndex = r.uint32();
      else r.skip();
    }
    return { commandIndex };
  });
}

// --- ProposeRunCompletion { result_completion_id = 1; oneof { bytes value = 14; Failure failure = 15 } }

export type ProposeRunCompletionMessage = {
  resultCompletionId: number;
  /** undefined = no result on the wire (a malformed proposal). */
  result: ValueResult | FailureResult | undefined;
};

export function encodeProposeRunCompletion(m: ProposeRunCompletionMessage): Buffer {
  return encodeWith((w) => {
    if (m.resultCompletionId !== 0) w.uint32(1, m.resultCompletionId);
    if (m.result?.kind === "value") w.bytes(14, m.result.value);
    else if (m.result?.kind === "failure") writeFailure(w, 15, failureOf(m.result));
  });
}

export function decodeProposeRunCompletion(payload: Uint8Array): ProposeRunCompletionMessage {
  return decodeWith("ProposeRunCompletionMessage", payload, (r) => {
    const m: ProposeRunCompletionMessage = { resultCompletionId: 0, result: undefined };
    while (r.next()) {
      switch (r.field) {
        case 1:
          m.resultCompletionId = r.uint32();
          break;
        case 14:
          m.result = { kind: "value", value: r.bytes() };
          break;
        case 15:
          m.result = readFailure(r);
          break;
        default:
          r.skip();
      }
    }
    return m;
  });
}

// --- AwaitingOn { Future awaiting_on = 1; bool executing_side_effects = 2 } (V7, informational)

export type AwaitingOnMessage = { awaitingOn?: Future; executingSideEffects: boolean };

export function encodeAwaitingOn(m: AwaitingOnMessage): Buffer {
  return encodeWith((w) => {
    if (m.awaitingOn) writeFuture(w, 1, m.awaitingOn);
    if (m.executingSideEffects) w.bool(2, true);
  });
}

export function decodeAwaitingOn(payload: Uint8Array): AwaitingOnMessage {
  return decodeWith("AwaitingOnMessage", payload, (r) => {
    const m: AwaitingOnMessage = { executingSideEffects: false };
    while (r.next()) {
      if (r.field === 1) m.awaitingOn = readFuture(r);
      else if (r.field === 2) m.executingSideEffects = r.bool();
      else r.skip();
    }
    return m;
  });
}

// --- ProposeRunCompletionAck { completion_id = 1 } (V7)

export type ProposeRunCompletionAckMessage = { completionId: number };

export function encodeProposeRunCompletionAck(m: ProposeRunCompletionAckMessage): Buffer {
  return encodeWith((w) => {
    if (m.completionId !== 0) w.uint32(1, m.completionId);
  });
}

export function decodeProposeRunCompletionAck(payload: Uint8Array): ProposeRunCompletionAckMessage {
  return decodeWith("ProposeRunCompletionAckMessage", payload, (r) => {
    let completionId = 0;
    while (r.next()) {
      if (r.field === 1) completionId = r.uint32();
      else r.skip();
    }
    return { completionId };
  });
}
