// Serialisation of invocation records for adapters that store them as text (JSON) plus a result blob.
// Invariant: decode(encode(r)) deep-equals r; bigints and buffers survive the round trip.

import type { InvocationResult } from "../../core/types.ts";
import type { InvocationRecord } from "./records.ts";

type Json = Record<string, unknown>;

export function encodeInvocation(inv: InvocationRecord): { json: string; resultValue: Buffer | null } {
  const { result, partitionKey, ...rest } = inv;
  const doc: Json = { ...rest, partitionKey: partitionKey.toString() };
  let resultValue: Buffer | null = null;
  if (result) {
    if (result.kind === "success") {
      doc.result = { kind: "success" };
      resultValue = result.value;
    } else {
      doc.result = result;
    }
  }
  return { json: JSON.stringify(doc), resultValue };
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
