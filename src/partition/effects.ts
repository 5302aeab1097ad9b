// Effects: what the partition asks the outside world to do once a batch has committed.
// Invariant: effects are produced by `apply` and executed only after the transaction that produced them is
// durable, in the order they were produced.

import type { InvocationRecord, JournalEntry, TimerRecord } from "../storage/api/records.ts";
import type { InvocationResponse, ResultWaiter } from "./commands.ts";

/**
 * What an attempt starts from, as the batch that started it committed it: the record, the whole journal and,
 * for handlers with eager state, the object's state (absent: lazy state, or not taken; then the invoker reads
 * it and waits for durability before sending it).
 */
export interface AttemptSnapshot {
  readonly invocation: InvocationRecord;
  readonly journal: readonly JournalEntry[];
  readonly state?: ReadonlyArray<[Buffer, Buffer]>;
}

export type Effect =
  /**
   * Start a new attempt of the invocation (epoch fences earlier attempts). `snapshot`, when the batch knew the
   * whole journal, is the committed record and journal, so the invoker need not read them back.
   */
  | {
      readonly kind: "start-attempt";
      readonly invocationId: string;
      readonly epoch: number;
      readonly snapshot?: AttemptSnapshot;
      /** Started at COMMIT, before the batch is durable (see the partition processor): no replies wait behind it. */
      readonly early?: boolean;
    }
  /**
   * Send a message (a notification or an ack) on the live stream of the attempt; with `notBefore` (ms since the
   * epoch), not before then.
   */
  | {
      readonly kind: "push";
      readonly invocationId: string;
      readonly epoch: number;
      readonly journalIndex: number | undefined;
      readonly frame: Buffer;
      readonly notBefore?: number;
    }
  /**
   * The invocation's journal holds a notification the endpoint must not see before `until` (a sleep committed
   * ahead of its due time): no attempt of it may start before then.
   */
  | { readonly kind: "hold"; readonly invocationId: string; readonly until: number }
  /** Stop the running attempt without asking the endpoint (kill, pause). */
  | { readonly kind: "abort-attempt"; readonly invocationId: string }
  /** Hand the result to ingress requests waiting on the invocation. */
  | { readonly kind: "respond"; readonly invocationId: string; readonly response: InvocationResponse }
  /** Register an ingress request that waits for the invocation's result. */
  | { readonly kind: "await-result"; readonly invocationId: string; readonly waiter: ResultWaiter }
  | { readonly kind: "schedule-timer"; readonly timer: TimerRecord }
  | { readonly kind: "log"; readonly level: "info" | "warn" | "error"; readonly message: string };
