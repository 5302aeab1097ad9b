// The partition processor: the single writer of a partition. Commands are queued, applied in batches inside
// one storage transaction (group commit), and their effects run only after the commit is durable.
//
// Invariants:
// - Commands are applied in submission order; one batch at a time.
// - A batch commits whole or not at all. If a batch fails, its commands are retried one by one so that a
//   single bad command fails alone.
// - Effects run after the commit is durable, in the order produced; then the submitters' promises resolve.
//   One exception, the early start: the first attempt of an invocation created in the batch starts right after
//   COMMIT, while the commit is being made durable, unless its id was removed before it in this batch or in a
//   batch not finished yet (a re-created deterministic id: effects of the removed incarnation, such as the abort
//   of its attempt, may still be waiting, and must run first). Ids are only ever freed by removal, so no other
//   waiting effect can name a newly created invocation. Nothing that attempt causes is acknowledged before the
//   commit is durable: its messages are applied in later batches, which finish after this one, and a commit
//   that cannot be made durable leaves the store refusing every later one. A crash before the sync loses the
//   invocation together with everything its attempt did, none of which was acknowledged.
// - Pipelining: the next batch may be applied and committed while the previous one is being made durable (at
//   most two batches between COMMIT and their effects). Such a batch starts only at a batch event (a commit
//   or a finish), with what is queued then. Batches finish (effects, replies) in commit order; if a
//   commit cannot be made durable its commands fail and none of its other effects run.

import type { Committed, Store } from "../storage/api/store.ts";
import { Batch, type PartitionDeps } from "./batch.ts";
import type { CommandOutcome, PartitionCommand } from "./commands.ts";
import type { Effect } from "./effects.ts";
import { applyEndpointMessage } from "./endpoint-messages.ts";
import { applyCleanup, applyGetResult, applyInvoke, applyOperation, applyRecover, applyReplaceState, applyRestartAsNew, applySignal, applyTimer } from "./operations.ts";
import { attemptFailed } from "./lifecycle.ts";
import { NO_FAULTS, type FaultPoints } from "../faults/fault-points.ts";

interface BatchResult {
  outcomes: CommandOutcome[];
  effects: Effect[];
  /** Invocations the batch created. */
  created: ReadonlySet<string>;
  /** Invocations the batch removed, each with the number of effects emitted before its last removal. */
  removed: ReadonlyMap<string, number>;
}

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
const ignoreOutcome = (): void => {};
/** Batches between COMMIT and their effects at once: one syncing, one more committed behind it. */
const MAX_IN_FLIGHT = 2;

export class PartitionProcessor {
  private readonly store: Store;
  private readonly deps: PartitionDeps;
  private readonly sink: EffectSink;
  private queue: Pending[] = [];
  /** A batch is being applied and committed (one at a time). */
  private applying = false;
  /** Batches committed whose effects have not run yet (waiting for durability). */
  private inFlight = 0;
  /** Finishing of the batches in flight, chained in commit order. */
  private tail: Promise<void> = Promise.resolve();
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private idleResolve: (() => void) | undefined;
  /** Number of committed batches (for metrics and tests). */
  batches = 0;
  /** Attempts started at COMMIT, before their batch was durable (for metrics and tests). */
  earlyStarts = 0;
  /** Invocations removed by committed batches that have not finished, with how many such batches. */
  private readonly removedUnfinished = new Map<string, number>();

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
      // While a batch syncs, new commands wait for the next batch event and go into one bigger batch: fewer
      // commits and syncs per command than starting a small batch for each arrival.
      if (this.inFlight === 0) this.schedule();
    });
  }

  /**
   * Queues a command whose outcome nobody awaits (attempt messages, timers): no promise per command.
   * `onFailure` gets the error if the command cannot be applied or made durable (or the processor is closed).
   */
  post(cmd: PartitionCommand, onFailure: (err: unknown) => void): void {
    if (this.closed) {
      onFailure(new ShuttingDown());
      return;
    }
    this.queue.push({ cmd, resolve: ignoreOutcome, reject: onFailure });
    if (this.inFlight === 0) this.schedule();
  }

  /** Stops accepting commands and waits for the queue to drain. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.applying || this.inFlight > 0 || this.queue.length > 0) await this.idle;
  }

  /** Starts the next batch (on the next turn of the event loop, to gather commands) when one may start. */
  private schedule(): void {
    if (this.applying || this.queue.length === 0 || this.inFlight >= MAX_IN_FLIGHT) return;
    this.applying = true;
    if (!this.idleResolve) this.idle = new Promise((r) => (this.idleResolve = r));
    setImmediate(() => void this.next());
  }

  /** Applies and commits one batch, then lets it finish (effects, replies) once durable, after the one before. */
  private async next(): Promise<void> {
    const items = this.queue.splice(0, MAX_BATCH);
    try {
      const committed = await this.commitBatch(items);
      const later = this.startEarly(committed.result);
      const removed = committed.result.removed;
      this.noteRemoved(removed);
      this.inFlight++;
      this.tail = this.tail
        .then(() => this.finishWhenDurable(items, committed.durable, committed.result.outcomes, later))
        .catch(() => undefined) // finishing rejects the submitters itself; the chain must go on
        .then(() => {
          this.forgetRemoved(removed);
          this.inFlight--;
          this.settle();
        });
    } catch {
      await this.tail;
      await this.oneByOne(items);
    }
    this.applying = false;
    this.settle();
  }

  /** Starts more work if there is some, or tells `close` that everything finished. */
  private settle(): void {
    this.schedule();
    if (!this.applying && this.inFlight === 0 && this.queue.length === 0 && this.idleResolve) {
      const resolve = this.idleResolve;
      this.idleResolve = undefined;
      resolve();
    }
  }

  /** After a failed batch: each command alone, durably, so that a bad command fails alone. */
  private async oneByOne(items: Pending[]): Promise<void> {
    for (const item of items) {
      try {
        const committed = await this.commitBatch([item]);
        await this.finishWhenDurable([item], committed.durable, committed.result.outcomes, committed.result.effects);
      } catch (err) {
        item.reject(err);
      }
    }
  }

  /** Applies the commands in one transaction and commits it (not yet durable). */
  private async commitBatch(items: Pending[]): Promise<Committed<BatchResult>> {
    return this.store.commit(async (txn) => {
      const outcomes: CommandOutcome[] = [];
      const batch = new Batch(txn, this.deps);
      for (const item of items) outcomes.push(await this.apply(batch, item.cmd));
      await batch.flush();
      this.faults.reach("batch-applied");
      return { outcomes, effects: batch.effects, created: batch.created, removed: batch.removed };
    });
  }

  /**
   * Runs the early starts of a just-committed batch (see the header) and returns its other effects, which
   * wait for durability.
   */
  private startEarly(result: BatchResult): Effect[] {
    if (result.created.size === 0) return result.effects;
    const later: Effect[] = [];
    result.effects.forEach((effect, index) => {
      const removedAt = effect.kind === "start-attempt" ? result.removed.get(effect.invocationId) : undefined;
      if (
        effect.kind === "start-attempt" &&
        effect.snapshot !== undefined &&
        result.created.has(effect.invocationId) &&
        (removedAt === undefined || index < removedAt) &&
        !this.removedUnfinished.has(effect.invocationId)
      ) {
        this.earlyStarts++;
        this.run({ ...effect, early: true });
      } else {
        later.push(effect);
      }
    });
    return later;
  }

  /** Notes the ids a committed batch removed until it finishes. */
  private noteRemoved(removed: ReadonlyMap<string, number>): void {
    for (const id of removed.keys()) this.removedUnfinished.set(id, (this.removedUnfinished.get(id) ?? 0) + 1);
  }

  /** The batch finished: its removed ids no longer hold back early starts. */
  private forgetRemoved(removed: ReadonlyMap<string, number>): void {
    for (const id of removed.keys()) {
      const n = this.removedUnfinished.get(id)! - 1;
      if (n === 0) this.removedUnfinished.delete(id);
      else this.removedUnfinished.set(id, n);
    }
  }

  /** Once the commit is durable: runs its effects, then resolves the submitters; if it cannot be, rejects them. */
  private finishWhenDurable(items: Pending[], durable: Promise<void>, outcomes: CommandOutcome[], effects: Effect[]): Promise<void> {
    return durable.then(
      () => this.finish(items, outcomes, effects),
      (err: unknown) => {
        for (const item of items) item.reject(err);
      },
    );
  }

  private finish(items: Pending[], outcomes: CommandOutcome[], effects: Effect[]): void {
    this.batches++;
    this.faults.reach("batch-committed");
    for (const effect of effects) this.run(effect);
    items.forEach((item, i) => item.resolve(outcomes[i]!));
  }

  private run(effect: Effect): void {
    try {
      this.sink(effect);
    } catch (err) {
      this.sink({ kind: "log", level: "error", message: `effect ${effect.kind} failed: ${(err as Error).stack ?? String(err)}` });
    }
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
