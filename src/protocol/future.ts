// The V7 `Future` tree (what an SDK awaits: leaves are completion ids, signal indexes and signal names,
// inner nodes combine children) — codec and flattening into the set of awaited notification ids.
// Invariants: decoding is bounded by the reader's nesting limit (deep trees throw ProtocolError, never a
// stack overflow); combinator type 0 (UNKNOWN) is kept as decoded and must be read as FIRST_COMPLETED.
import type { ProtoReader, ProtoWriter } from "./proto-wire.ts";

export const CombinatorType = {
  Unknown: 0,
  FirstCompleted: 1,
  AllCompleted: 2,
  FirstSucceededOrAllFailed: 3,
  AllSucceededOrFirstFailed: 4,
} as const;
export type CombinatorType = (typeof CombinatorType)[keyof typeof CombinatorType];

export type Future = {
  waitingCompletions: number[];
  waitingSignals: number[];
  waitingNamedSignals: string[];
  nestedFutures: Future[];
  /** A CombinatorType value (unknown numbers are kept as received). */
  combinatorType: number;
};

/** Every leaf of a wait: what, if it arrives, may let the SDK make progress. */
export type AwaitedIds = {
  completionIds: Set<number>;
  signalIndexes: Set<number>;
  signalNames: Set<string>;
};

export function emptyAwaitedIds(): AwaitedIds {
  return { completionIds: new Set(), signalIndexes: new Set(), signalNames: new Set() };
}

/** Adds all leaves of `future` (recursively) to `into` and returns it. */
export function flattenFuture(future: Future, into: AwaitedIds = emptyAwaitedIds()): AwaitedIds {
  for (const id of future.waitingCompletions) into.completionIds.add(id);
  for (const id of future.waitingSignals) into.signalIndexes.add(id);
  for (const name of future.waitingNamedSignals) into.signalNames.add(name);
  for (const nested of future.nestedFutures) flattenFuture(nested, into);
  return into;
}

/** Writes the Future into `field` as a nested message. */
export function writeFuture(w: ProtoWriter, field: number, future: Future): void {
  w.fork(field);
  writeFutureBody(w, future);
  w.join();
}

function writeFutureBody(w: ProtoWriter, future: Future): void {
  w.packedUint32(1, future.waitingCompletions);
  w.packedUint32(2, future.waitingSignals);
  for (const name of future.waitingNamedSignals) w.string(3, name);
  for (const nested of future.nestedFutures) writeFuture(w, 4, nested);
  if (future.combinatorType !== 0) w.uint32(5, future.combinatorType);
}

/** Reads a Future message at the current field. */
export function readFuture(r: ProtoReader): Future {
  const future: Future = {
    waitingCompletions: [],
    waitingSignals: [],
    waitingNamedSignals: [],
    nestedFutures: [],
    combinatorType: 0,
  };
  const token = r.enter();
  while (r.next()) {
    switch (r.field) {
      case 1:
        r.repeatedUint32(future.waitingCompletions);
        break;
      case 2:
        r.repeatedUint32(future.waitingSignals);
        break;
      case 3:
        future.waitingNamedSignals.push(r.string());
        break;
      case 4:
        future.nestedFutures.push(readFuture(r));
        break;
      case 5:
        future.combinatorType = r.uint32();
        break;
      default:
        r.skip();
    }
  }
  r.leave(token);
  return future;
}
