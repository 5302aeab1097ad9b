// Delivering signals to invocations: awakeable completions, named signals, and the built-in cancel signal.
// Invariant: an indexed signal is delivered at most once per invocation (a second completion of the same
// awakeable is ignored); signals to completed invocations are dropped.

import type { InvocationRecord } from "../storage/api/records.ts";
import { MessageType } from "../protocol/message-types.ts";
import type { NotificationResult } from "../protocol/common.ts";
import type { Batch } from "./batch.ts";
import { appendNotification, notificationKey } from "./lifecycle.ts";
import type { SignalId } from "./commands.ts";

/** Returns false when the signal was not delivered (already delivered, or the invocation completed). */
export async function deliverSignal(b: Batch, target: InvocationRecord, signal: SignalId, result: NotificationResult): Promise<boolean> {
  if (target.status === "completed") return false;
  if ("signalIndex" in signal) {
    const key = notificationKey(signal);
    if ((await b.txn.findNotifications(target.id, [key])).length > 0) return false;
    if (signal.signalIndex === 1) target.cancelRequested = true;
  }
  await appendNotification(b, target, MessageType.Signal, signal, result);
  return true;
}
