// Nested protobuf types shared by commands, notifications and control messages (Value, Failure, Header,
// StateKeys, Void, invocation targets) and their field-level codecs.
// Invariants:
// - Oneof presence is explicit in the types: a result is `{kind: "void"}`, `{kind: "value"}` (possibly empty
//   bytes) or `{kind: "failure"}`; an absent oneof is `undefined`. Encoders always emit a set oneof member,
//   even when empty (`Void{}` and `Value{}` become tag + length 0).
// - Decoded byte fields are subarrays of the payload (no copy). Absent bytes decode as a zero-length buffer.
// - Failure.metadata is present on decoded values only when at least one entry was on the wire.
import type { ProtoReader, ProtoWriter } from "./proto-wire.ts";

/** Shared zero-length buffer for absent/empty byte fields. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

export type Header = { key: string; value: string };

export type VoidResult = { kind: "void" };
export type ValueResult = { kind: "value"; value: Uint8Array };
export type FailureResult = {
  kind: "failure";
  code: number;
  message: string;
  metadata?: Array<[string, string]>;
};
export type InvocationIdResult = { kind: "invocationId"; invocationId: string };
export type StateKeysResult = { kind: "stateKeys"; keys: Uint8Array[] };
/** Result part of a notification (fields 4, 5, 6, 16, 17). */
export type NotificationResult = VoidResult | ValueResult | FailureResult | InvocationIdResult | StateKeysResult;

/** A failure without its discriminant (Failure message). */
export type Failure = Omit<FailureResult, "kind">;

/** Target of AttachInvocation / GetInvocationOutput (oneof fields 1 / 3 / 4). */
export type InvocationTarget =
  | { kind: "invocationId"; invocationId: string }
  | {
      kind: "idempotentRequest";
      serviceName: string;
      /** Absent for plain services (the proto field is `optional`). */
      serviceKey?: string;
      handlerName: string;
      idempotencyKey: string;
      /** V7. */
      scope?: string;
    }
  | { kind: "workflow"; workflowName: string; workflowKey: string; /** V7. */ scope?: string };

// --- Value { bytes content = 1 }

/** Writes `Value{content}` into `field` (present even when content is empty). */
export function writeValue(w: ProtoWriter, field: number, content: Uint8Array): void {
  if (content.length === 0) {
    w.emptyMessage(field);
    return;
  }
  w.fork(field).bytes(1, content).join();
}

/** Reads a `Value` message at the current field and returns its content. */
export function readValue(r: ProtoReader): Buffer {
  let content: Buffer = EMPTY_BYTES;
  const token = r.enter();
  while (r.next()) {
    if (r.field === 1) content = r.bytes();
    else r.skip();
  }
  r.leave(token);
  return content;
}

// --- Void {}

/** Reads (and ignores the content of) a `Void` message at the current field. */
export function readVoid(r: ProtoReader): void {
  const token = r.enter();
  while (r.next()) r.skip();
  r.leave(token);
}

// --- Failure { uint32 code = 1; string message = 2; repeated FailureMetadata metadata = 3 {key = 1, value = 2} }

export function writeFailure(w: ProtoWriter, field: number, failure: Failure): void {
  w.fork(field);
  if (failure.code !== 0) w.uint32(1, failure.code);
  if (failure.message !== "") w.string(2, failure.message);
  if (failure.metadata) {
    for (const [key, value] of failure.metadata) {
      w.fork(3);
      if (key !== "") w.string(1, key);
      if (value !== "") w.string(2, value);
      w.join();
    }
  }
  w.join();
}

export function readFailure(r: ProtoReader): FailureResult {
  let code = 0;
  let message = "";
  let metadata: Array<[string, string]> | undefined;
  const token = r.enter();
  while (r.next()) {
    switch (r.field) {
      case 1:
        code = r.uint32();
        break;
      case 2:
        message = r.string();
        break;
      case 3:
        (metadata ??= []).push(readStringPair(r));
        break;
      default:
        r.skip();
    }
  }
  r.leave(token);
  const out: FailureResult = { kind: "failure", code, message };
  if (metadata) out.metadata = metadata;
  return out;
}

/** Converts a decoded/constructed failure result to the plain Failure shape (drops `kind`). */
export function failureOf(result: FailureResult): Failure {
  const out: Failure = { code: result.code, message: result.message };
  if (result.metadata) out.metadata = result.metadata;
  return out;
}

// --- Header { string key = 1; string value = 2 } (also FailureMetadata)

function readStringPair(r: ProtoReader): [string, string] {
  let key = "";
  let value = "";
  const token = r.enter();
  while (r.next()) {
    if (r.field === 1) key = r.string();
    else if (r.field === 2) value = r.string();
    else r.skip();
  }
  r.leave(token);
  return [key, value];
}

export function writeHeaders(w: ProtoWriter, field: number, headers: readonly Header[]): void {
  for (const h of headers) {
    w.fork(field);
    if (h.key !== "") w.string(1, h.key);
    if (h.value !== "") w.string(2, h.value);
    w.join();
  }
}

export function readHeader(r: ProtoReader): Header {
  const [key, value] = readStringPair(r);
  return { key, value };
}

// --- StateKeys { repeated bytes keys = 1 }

/** Writes `StateKeys{keys}` into `field` (present even when there are no keys). */
export function writeStateKeys(w: ProtoWriter, field: number, keys: readonly Uint8Array[]): void {
  w.fork(field);
  for (const k of keys) w.bytes(1, k);
  w.join();
}

export function readStateKeys(r: ProtoReader): Buffer[] {
  const keys: Buffer[] = [];
  const token = r.enter();
  while (r.next()) {
    if (r.field === 1) keys.push(r.bytes());
    else r.skip();
  }
  r.leave(token);
  return keys;
}

// --- Invocation targets: oneof { string invocation_id = 1; IdempotentRequestTarget = 3; WorkflowTarget = 4 }
// IdempotentRequestTarget { service_name 1, optional service_key 2, handler_name 3, idempotency_key 4,
// optional scope 5 }; WorkflowTarget { workflow_name 1, workflow_key 2, optional scope 3 }.

export function writeInvocationTarget(w: ProtoWriter, target: InvocationTarget): void {
  switch (target.kind) {
    case "invocationId":
      w.string(1, target.invocationId);
      return;
    case "idempotentRequest":
      w.fork(3);
      if (target.serviceName !== "") w.string(1, target.serviceName);
      if (target.serviceKey !== undefined) w.string(2, target.serviceKey);
      if (target.handlerName !== "") w.string(3, target.handlerName);
      if (target.idempotencyKey !== "") w.string(4, target.idempotencyKey);
      if (target.scope !== undefined) w.string(5, target.scope);
      w.join();
      return;
    case "workflow":
      w.fork(4);
      if (target.workflowName !== "") w.string(1, target.workflowName);
      if (target.workflowKey !== "") w.string(2, target.workflowKey);
      if (target.scope !== undefined) w.string(3, target.scope);
      w.join();
      return;
  }
}

/** Reads the target oneof member in the current field (1, 3 or 4); other fields return undefined. */
export function readInvocationTarget(r: ProtoReader): InvocationTarget | undefined {
  const field = r.field;
  switch (field) {
    case 1:
      return { kind: "invocationId", invocationId: r.string() };
    case 3: {
      const t: InvocationTarget = {
        kind: "idempotentRequest",
        serviceName: "",
        handlerName: "",
        idempotencyKey: "",
      };
      const token = r.enter();
      while (r.next()) {
        if (r.field === 1) t.serviceName = r.string();
        else if (r.field === 2) t.serviceKey = r.string();
        else if (r.field === 3) t.handlerName = r.string();
        else if (r.field === 4) t.idempotencyKey = r.string();
        else if (r.field === 5) t.scope = r.string();
        else r.skip();
      }
      r.leave(token);
      return t;
    }
    case 4: {
      const t: InvocationTarget = { kind: "workflow", workflowName: "", workflowKey: "" };
      const token = r.enter();
      while (r.next()) {
        if (r.field === 1) t.workflowName = r.string();
        else if (r.field === 2) t.workflowKey = r.string();
        else if (r.field === 3) t.scope = r.string();
        else r.skip();
      }
      r.leave(token);
      return t;
    }
    default:
      return undefined;
  }
}
