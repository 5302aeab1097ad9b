// In-memory registry of ingress requests waiting for invocations to complete (call, attach).
// Not durable by design: a waiting HTTP request dies with the process anyway; the result itself is durable
// and a client that retries (same idempotency key, or attach by id) gets it.

import type { InvocationResponse, ResultWaiter } from "./commands.ts";

export class ResultWaiters {
  private readonly waiting = new Map<string, Set<ResultWaiter>>();

  add(invocationId: string, waiter: ResultWaiter): void {
    let set = this.waiting.get(invocationId);
    if (!set) {
      set = new Set();
      this.waiting.set(invocationId, set);
    }
    set.add(waiter);
  }

  remove(invocationId: string, waiter: ResultWaiter): void {
    const set = this.waiting.get(invocationId);
    if (!set) return;
    set.delete(waiter);
    if (set.size === 0) this.waiting.delete(invocationId);
  }

  resolve(invocationId: string, response: InvocationResponse): void {
    const set = this.waiting.get(invocationId);
    if (!set) return;
    this.waiting.delete(invocationId);
    for (const w of set) w.resolve(response);
  }

  get size(): number {
    return this.waiting.size;
  }
}
