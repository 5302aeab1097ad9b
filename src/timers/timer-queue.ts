// Durable timers, in memory: a min-heap of timers already committed to storage, armed with one host timeout.
// When a timer is due it is handed to `fire` (which submits it to the partition, where it is deleted in the
// same transaction that acts on it). Timers are loaded from storage at start, so they survive restarts;
// overdue ones fire at once.
//
// Coalescing: the queue fires at most once per `coalescingMs`. A timer due within that window after the last fire
// waits for the window to end and fires with the others due by then, so timers that fall due close together
// are committed in one batch (one transaction and one sync instead of one each).
//
// Lead: a sleep timer fires `sleepLeadMs` before it is due, so that its completion is committed and synced by the
// time it is due. The partition marks such a completion not-before the due time and the invoker hands it to the
// endpoint only then (and starts no attempt of that invocation before it), so no handler sees a sleep end early.
// Every other timer fires no earlier than it is due. A timer fires at most `coalescingMs` after its firing time;
// when timers are sparse, each fires on time.
//
// Invariant: each timer id fires at most once per process; the storage delete makes it once overall.

import type { TimerRecord } from "../storage/api/records.ts";
import type { Clock } from "../core/environment.ts";

const MAX_DELAY = 2 ** 31 - 1;

export class TimerQueue {
  private heap: TimerRecord[] = [];
  private readonly known = new Set<number>();
  private handle: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private stopped = false;
  private readonly clock: Clock;
  private readonly fire: (t: TimerRecord) => void;
  private readonly coalescingMs: number;
  private readonly sleepLeadMs: number;
  private lastFireAt = -Infinity;

  constructor(clock: Clock, fire: (t: TimerRecord) => void, options: { readonly coalescingMs?: number; readonly sleepLeadMs?: number } = {}) {
    this.clock = clock;
    this.fire = fire;
    this.coalescingMs = options.coalescingMs ?? 0;
    this.sleepLeadMs = options.sleepLeadMs ?? 0;
  }

  /** When the timer fires: its due time, less the lead for sleeps. */
  private fireAt(t: TimerRecord): number {
    return t.kind === "sleep" ? t.dueAt - this.sleepLeadMs : t.dueAt;
  }

  get size(): number {
    return this.heap.length;
  }

  add(timer: TimerRecord): void {
    if (this.stopped || this.known.has(timer.id)) return;
    this.known.add(timer.id);
    this.heap.push(timer);
    this.up(this.heap.length - 1);
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
  }

  private arm(): void {
    const top = this.heap[0];
    if (!top || this.stopped) return;
    const at = Math.max(this.fireAt(top), this.lastFireAt + this.coalescingMs);
    if (this.handle && at >= this.armedFor) return;
    if (this.handle) clearTimeout(this.handle);
    this.armedFor = at;
    const delay = Math.min(Math.max(0, at - this.clock.now()), MAX_DELAY);
    this.handle = setTimeout(() => this.onTimeout(), delay);
  }

  private onTimeout(): void {
    this.handle = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now();
    while (this.heap.length > 0 && this.fireAt(this.heap[0]!) <= now) {
      const t = this.pop();
      this.known.delete(t.id);
      this.lastFireAt = now;
      this.fire(t);
    }
    this.arm();
  }

  private pop(): TimerRecord {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.fireAt(h[p]!) <= this.fireAt(h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.fireAt(h[l]!) < this.fireAt(h[m]!)) m = l;
      if (r < h.length && this.fireAt(h[r]!) < this.fireAt(h[m]!)) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}
