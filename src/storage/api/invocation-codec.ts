// Serialisation of invocation records for adapters that store them as text (JSON) plus a result blob.
//
// Invariants:
// - decode(encode(r)) deep-equals r (up to properties that are undefined); bigints and buffers survive the
//   round trip.
// - The text is plain JSON with the record's property names, so SQL can read fields by path (the /query views
//   do); a record is written on every change of an invocation, so the encoder writes the known shape directly
//   instead of copying the record into a document for JSON.stringify. Every property of InvocationRecord is
//   written (the round-trip test holds a record with all of them set).

import type { InvocationResult } from "../../core/types.ts";
import type { InvocationRecord } from "./records.ts";

type Json = Record<string, unknown>;

const q = JSON.stringify;

export function encodeInvocation(inv: InvocationRecord): { json: string; resultValue: Buffer | null } {
  let s = `{"id":${q(inv.id)},"partitionKey":"${inv.partitionKey}","status":"${inv.status}","service":${q(inv.service)},"handler":${q(inv.handler)}`;
  if (inv.key !== undefined) s += `,"key":${q(inv.key)}`;
  s += `,"serviceType":"${inv.serviceType}"`;
  if (inv.handlerType !== undefined) s += `,"handlerType":"${inv.handlerType}"`;
  if (inv.idempotencyKey !== undefined) s += `,"idempotencyKey":${q(inv.idempotencyKey)}`;
  s += `,"source":${q(inv.source)}`;
  if (inv.deploymentId !== undefined) s += `,"deploymentId":${q(inv.deploymentId)}`;
  if (inv.protocolVersion !== undefined) s += `,"protocolVersion":${num(inv.protocolVersion)}`;
  s +=
    `,"journalLength":${num(inv.journalLength)},"commandCount":${num(inv.commandCount)},"epoch":${num(inv.epoch)}` +
    `,"retryCount":${num(inv.retryCount)},"failedAttempts":${num(inv.failedAttempts)},"lastEntryAt":${num(inv.lastEntryAt)}`;
  if (inv.lastFailure !== undefined) s += `,"lastFailure":${q(inv.lastFailure)}`;
  if (inv.nextRetryAt !== undefined) s += `,"nextRetryAt":${num(inv.nextRetryAt)}`;
  if (inv.awaiting !== undefined) s += `,"awaiting":${q(inv.awaiting)}`;
  if (inv.executionTime !== undefined) s += `,"executionTime":${num(inv.executionTime)}`;
  if (inv.inboxSeq !== undefined) s += `,"inboxSeq":${num(inv.inboxSeq)}`;
  s += `,"createdAt":${num(inv.createdAt)},"modifiedAt":${num(inv.modifiedAt)}`;
  if (inv.completedAt !== undefined) s += `,"completedAt":${num(inv.completedAt)}`;
  let resultValue: Buffer | null = null;
  const result = inv.result;
  if (result) {
    if (result.kind === "success") {
      s += `,"result":{"kind":"success"}`;
      resultValue = result.value;
    } else {
      s += `,"result":${q(result)}`;
    }
  }
  s += `,"completionRetentionMs":${num(inv.completionRetentionMs)},"journalRetentionMs":${num(inv.journalRetentionMs)}`;
  if (inv.expiresAt !== undefined) s += `,"expiresAt":${num(inv.expiresAt)}`;
  s += `,"cancelRequested":${inv.cancelRequested ? "true" : "false"}}`;
  return { json: s, resultValue };
}

/** A number as JSON writes it (a non-finite one, which no record holds, as null like JSON.stringify). */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : "null";
}

export function decodeInvocation(json: string, resultValue: Uint8Array | null): InvocationRecord {
  const doc = JSON.parse(json) as Json & { partitionKey: string; result?: { kind: string } };
  let result: InvocationResult | undefined;
  if (doc.result) {
    result =
      doc.result.kind === "success"
        ? { kind: "success", value: resultValue ? Buffer.from(resultValue) : Buffer.alloc(0) }
        : (doc.result as InvocationResult);
  }
  return { ...(doc as unknown as InvocationRecord), partitionKey: BigInt(doc.partitionKey), result };
}
