// The invoker: runs attempts of invocations against their deployments, one live attempt per invocation.
//
// Invariants:
// - Starting an attempt with a newer epoch retires the older one (aborted if it had not reached its terminal
//   message).
// - The journal and state an attempt sends are committed and durable: read from storage after the partition committed
//   the start, or (record and journal) the snapshot the committed batch handed over, so they include every entry
//   the attempt must replay.

import type { Store } from "../storage/api/store.ts";
import type { Registry } from "../deployments/registry.ts";
import type { EndpointClient } from "../endpoint/client.ts";
import type { Clock } from "../core/environment.ts";
import { ErrorCode } from "../core/errors.ts";
import type { PartitionCommand } from "../partition/commands.ts";
import { Attempt } from "./attempt.ts";
import type { AttemptSnapshot } from "../partition/effects.ts";

export interface InvokerDeps {
  readonly store: Store;
  readonly registry: Registry;
  readonly client: EndpointClient;
  readonly clock: Clock;
  readonly submit: (cmd: PartitionCommand) => void;
  readonly log: (level: "info" | "warn" | "error", message: string) => void;
  /** Attempts running at once; further attempts wait, in order, for a free slot (bounds memory). */
  readonly maxConcurrentAttempts?: number;
}

export class Invoker {
  private readonly attempts = new Map<string, Attempt>();
  /** Attempts waiting for a slot, in arrival order. */
  private readonly waiting = new Map<string, Attempt>();
  private running = 0;
  private readonly deps: InvokerDeps;

  constructor(deps: InvokerDeps) {
    this.deps = deps;
  }

  get activeAttempts(): number {
    return this.attempts.size;
  }

  start(invocationId: string, epoch: number, snapshot?: AttemptSnapshot): void {
    const previous = this.attempts.get(invocationId);
    if (previous) {
      if (previous.epoch >= epoch) return;
      previous.abort();
    }
    const attempt = new Attempt(
      invocationId,
      epoch,
      { client: this.deps.client, submit: this.deps.submit, now: () => this.deps.clock.now() },
      (a) => this.release(a),
    );
    this.attempts.set(invocationId, attempt);
    if (this.running >= (this.deps.maxConcurrentAttempts ?? Infinity)) {
      // It may wait long: by its launch the committed journal can have grown, so it reads it then.
      this.waiting.set(invocationId, attempt);
      return;
    }
    this.launch(attempt, snapshot);
  }

  private launch(attempt: Attempt, snapshot?: AttemptSnapshot): void {
    this.running++;
    void this.prepare(attempt, snapshot).catch((err: unknown) => {
      this.deps.log("error", `could not start attempt of ${attempt.invocationId}: ${(err as Error).stack ?? String(err)}`);
      attempt.abort();
      this.deps.submit({
        kind: "attempt-failed",
        invocationId: attempt.invocationId,
        epoch: attempt.epoch,
        errorCode: ErrorCode.Internal,
        failure: { code: 500, message: String(err) },
      });
    });
  }

  /** An attempt ended: free its slot (if it had one) and start the next waiting attempt. */
  private release(a: Attempt): void {
    if (this.attempts.get(a.invocationId) === a) this.attempts.delete(a.invocationId);
    if (this.waiting.get(a.invocationId) === a) {
      this.waiting.delete(a.invocationId);
      return;
    }
    this.running--;
    const next = this.waiting.values().next();
    if (!next.done) {
      this.waiting.delete(next.value.invocationId);
      this.launch(next.value);
    }
  }

  push(invocationId: string, epoch: number, journalIndex: number | undefined, frame: Buffer): void {
    const attempt = this.attempts.get(invocationId);
    if (attempt && attempt.epoch === epoch) attempt.push(journalIndex, frame);
  }

  abort(invocationId: string): void {
    const attempt = this.attempts.get(invocationId);
    if (attempt && !attempt.terminal) attempt.abort();
  }

  close(): void {
    this.waiting.clear();
    for (const a of [...this.attempts.values()]) a.abort();
    this.attempts.clear();
  }

  /** `snapshot`: the committed record and journal handed over with the start, used instead of reading them back. */
  private async prepare(attempt: Attempt, snapshot: AttemptSnapshot | undefined): Promise<void> {
    const { store, registry } = this.deps;
    const inv = snapshot ? snapshot.invocation : await store.readInvocation(attempt.invocationId);
    if (!inv || inv.epoch !== attempt.epoch || inv.status !== "running") {
      attempt.abort();
      return;
    }
    const deployment = inv.deploymentId !== undefined ? registry.deployment(inv.deploymentId) : undefined;
    if (!deployment) {
      attempt.abort();
      this.deps.submit({
        kind: "attempt-failed",
        invocationId: inv.id,
        epoch: inv.epoch,
        errorCode: ErrorCode.NoDeployment,
        failure: { code: 500, message: "no deployment was found to process the invocation" },
      });
      return;
    }
    const svc = registry.service(inv.service);
    const settings = svc ? registry.settings(svc, registry.handler(inv.service, inv.handler)) : undefined;
    const journal = snapshot ? snapshot.journal : await store.readJournal(inv.id);
    const lazy = inv.key === undefined || (settings?.enableLazyState ?? false);
    const state = lazy ? undefined : await store.readAllState(inv.service, inv.key!);
    // What was read may include commits of a batch that is still being synced: send nothing before it is durable.
    if (!snapshot || state !== undefined) await store.durableBarrier();
    attempt.begin({
      invocation: inv,
      deployment,
      journal,
      state,
      inactivityTimeoutMs: settings?.inactivityTimeoutMs ?? 60_000,
      abortTimeoutMs: settings?.abortTimeoutMs ?? 600_000,
    });
  }
}
