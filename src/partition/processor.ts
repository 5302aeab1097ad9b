// The partition processor: the single writer of a partition. Commands are queued, applied in batches inside
// one storage transaction (group commit), and their effects run only after the commit is durable.
//
// Invariants:
// - Commands are applied in submission order; one batch at a time.
// - A batch commits whole or not at all. If a batch fails, its commands are retried one by one so that a
//   single bad command fails alone.
// - Effects run after commit, in the order produced; then the submitters' promises resolve.

import type { Store } from "../storage/api/store.ts";
import { Batch, type PartitionDeps } from "./batch.ts";
import type { CommandOutcome, PartitionCommand } from "./commands.ts";
import type { Effect } from "./effects.ts";
import { applyEndpointMessage } from "./endpoint-messages.ts";
import { applyCleanup, applyGetResult, applyInvoke, applyOperation, applyRecover, applyReplaceState, applyRestartAsNew, applySignal, applyTimer } from "./operations.ts";
import { attemptFailed } from "./lifecycle.ts";
import { NO_FAULTS, type FaultPoints } from "../faults/fault-points.ts";

interface Pending {
  readonly cmd: PartitionCommand;
  resolve(outcome: CommandOutcome): void;
  reject(err: unknown): void;
}

export type EffectSink = (effect: Effect) => void;

/** Refusal of a command submitted after the processor was closed. */
export class ShuttingDown extends Error {
  constructor() {
    super("perdure is shutting down");
    this.name = "ShuttingDown";
  }
}

const MAX_BATCH = 512;

export class PartitionProcessor {
  private readonly store: Store;
  private readonly deps: PartitionDeps;
  private readonly sink: EffectSink;
  private queue: Pending[] = [];
  private draining = false;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private idleResolve: (() => void) | undefined;
  /** Number of committed batches (for metrics and tests). */
  batches = 0;

  /** Commands waiting to be applied (the ingress refuses new work above a bound). */
  get backlog(): number {
    return this.queue.length;
  }

  private readonly faults: FaultPoints;

  constructor(store: Store, deps: PartitionDeps, sink: EffectSink, faults: FaultPoints = NO_FAULTS) {
    this.store = store;
    this.deps = deps;
    this.sink = sink;
    this.faults = faults;
  }

  submit<T extends CommandOutcome = CommandOutcome>(cmd: PartitionCommand): Promise<T> {
    if (this.closed) return Promise.reject(new ShuttingDown());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ cmd, resolve: resolve as (o: CommandOutcome) => void, reject });
      this.schedule();
    });
  }

  /** Stops accepting commands and waits for the queue to drain. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.draining || this.queue.length > 0) await this.idle;
  }

  private schedule(): void {
    if (this.draining || this.queue.length === 0) return;
    this.draining = true;
    this.idle = new Promise((r) => (this.idleResolve = r));
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const items = this.queue.splice(0, MAX_BATCH);
      try {
        await this.runBatch(items);
      } catch {
        for (const item of items) {
          try {
            await this.runBatch([item]);
          } catch (err) {
            item.reject(err);
          }
        }
      }
    }
    this.draining = false;
    this.idleResolve?.();
  }

  private async runBatch(items: Pending[]): Promise<void> {
    const outcomes: CommandOutcome[] = [];
    let effects: Effect[] = [];
    await this.store.transaction(async (txn) => {
      const batch = new Batch(txn, this.deps);
      for (const item of items) outcomes.push(await this.apply(batch, item.cmd));
      await batch.flush();
      effects = batch.effects;
      this.faults.reach("batch-applied");
    });
    this.batches++;
    this.faults.reach("batch-committed");
    for (const effect of effects) {
      try {
        this.sink(effect);
      } catch (err) {
        this.sink({ kind: "log", level: "error", message: `effect ${effect.kind} failed: ${(err as Error).stack ?? String(err)}` });
      }
    }
    items.forEach((item, i) => item.resolve(outcomes[i]!));
  }

  private async apply(b: Batch, cmd: PartitionCommand): Promise<CommandOutcome> {
    switch (cmd.kind) {
      case "invoke":
        return applyInvoke(b, cmd.request, cmd.waiter);
      case "get-result":
        return applyGetResult(b, cmd.query, cmd.waiter);
      case "endpoint-message":
        await applyEndpointMessage(b, cmd.invocationId, cmd.epoch, cmd.frame);
        return { kind: "done" };
      case "attempt-failed": {
        const inv = await b.get(cmd.invocationId);
        if (inv && inv.epoch === cmd.epoch && inv.status === "running") {
          await attemptFailed(b, inv, cmd.errorCode, cmd.failure, { minimumDelayMs: cmd.retryAfterMs });
        }
        return { kind: "done" };
      }
      case "timer-fired":
        await applyTimer(b, cmd.timer);
        return { kind: "done" };
      case "signal":
        return applySignal(b, cmd.invocationId, cmd.signal, cmd.result);
      case "cancel":
      case "kill":
      case "purge":
      case "pause":
      case "resume":
        return applyOperation(b, cmd.kind, cmd.invocationId);
      case "recover":
        await applyRecover(b, cmd.running);
        return { kind: "done" };
      case "cleanup":
        await applyCleanup(b, cmd.limit);
        return { kind: "done" };
      case "restart-as-new":
        return applyRestartAsNew(b, cmd.invocationId);
      case "replace-state":
        return applyReplaceState(b, cmd.service, cmd.key, cmd.expectedVersion, cmd.state);
    }
  }
}
