// Durable timers, in memory: a min-heap of timers already committed to storage, armed with one host timeout.
// When a timer is due it is handed to `fire` (which submits it to the partition, where it is deleted in the
// same transaction that acts on it). Timers are loaded from storage at start, so they survive restarts;
// overdue ones fire at once.
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

  constructor(clock: Clock, fire: (t: TimerRecord) => void) {
    this.clock = clock;
    this.fire = fire;
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
    if (this.handle && top.dueAt >= this.armedFor) return;
    if (this.handle) clearTimeout(this.handle);
    this.armedFor = top.dueAt;
    const delay = Math.min(Math.max(0, top.dueAt - this.clock.now()), MAX_DELAY);
    this.handle = setTimeout(() => this.onTimeout(), delay);
  }

  private onTimeout(): void {
    this.handle = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now();
    while (this.heap.length > 0 && this.heap[0]!.dueAt <= now) {
      const t = this.pop();
      this.known.delete(t.id);
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
      if (h[p]!.dueAt <= h[i]!.dueAt) break;
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
      if (l < h.length && h[l]!.dueAt < h[m]!.dueAt) m = l;
      if (r < h.length && h[r]!.dueAt < h[m]!.dueAt) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}
