// A bounded cache of committed invocation records, so a partition transaction that touches an invocation
// written by a recent one (an attempt's messages, a timer, the end) does not read and decode its row again.
//
// Invariants:
// - `committed` holds records exactly as the last committed transaction wrote them (or as read from the
//   database); writes of the open transaction stay in `pending` until `commit()` and vanish on `rollback()`,
//   so a rolled-back transaction never leaves a trace here.
// - Records are copied on the way in and out: changing a returned record's fields (or its result bytes)
//   changes nothing cached. Other nested values (source, awaiting, lastFailure) are shared: the partition
//   replaces them, never changes them in place.
// - At most `capacity` committed records; the least recently written are dropped first. A transaction's
//   write (or read) of a completed record drops it (or is not remembered) (the partition rarely reads those again; they stay in the database).

import type { InvocationRecord } from "../api/records.ts";

export class RecordCache {
  private readonly committed = new Map<string, InvocationRecord>();
  /** Writes of the open transaction: a record, or null for a deletion. */
  private readonly pending = new Map<string, InvocationRecord | null>();
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** A copy of the record under `key`, null if the open transaction deleted it, undefined if not cached. */
  get(key: string): InvocationRecord | null | undefined {
    const p = this.pending.get(key);
    if (p !== undefined) return p === null ? null : copy(p);
    const c = this.committed.get(key);
    return c === undefined ? undefined : copy(c);
  }

  /** Remembers a record read from the database (it is committed state). */
  remember(key: string, inv: InvocationRecord): void {
    if (this.pending.has(key) || inv.status === "completed") return;
    this.committed.set(key, copy(inv));
    this.evict();
  }

  /** The open transaction wrote `inv` under `key`. */
  put(key: string, inv: InvocationRecord): void {
    this.pending.set(key, copy(inv));
  }

  /** The open transaction deleted the record under `key`. */
  delete(key: string): void {
    this.pending.set(key, null);
  }

  /** The open transaction committed: its writes become committed state. */
  commit(): void {
    for (const [key, inv] of this.pending) {
      this.committed.delete(key);
      // Completed records are rarely read again by the partition: not kept, so the cache holds live ones.
      if (inv !== null && inv.status !== "completed") this.committed.set(key, inv);
    }
    this.pending.clear();
    this.evict();
  }

  /** The open transaction rolled back: forget its writes. */
  rollback(): void {
    this.pending.clear();
  }

  get size(): number {
    return this.committed.size;
  }

  private evict(): void {
    while (this.committed.size > this.capacity) {
      const oldest = this.committed.keys().next();
      if (oldest.done) return;
      this.committed.delete(oldest.value);
    }
  }
}

function copy(inv: InvocationRecord): InvocationRecord {
  const r = inv.result;
  return r?.kind === "success" ? { ...inv, result: { kind: "success", value: Buffer.from(r.value) } } : { ...inv };
}
