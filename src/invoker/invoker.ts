// The invoker: runs attempts of invocations against their deployments, one live attempt per invocation.
//
// Invariants:
// - Starting an attempt with a newer epoch retires the older one (aborted if it had not reached its terminal
//   message).
// - The journal and state an attempt sends are committed and durable: the snapshot the committed batch handed
//   over (record, journal and eager state), or read from storage after the partition committed the start (then
//   sent only once every commit so far is durable), so they include every entry the attempt must replay. The
//   one exception is the early start of a new invocation's first attempt (see the partition processor): its
//   snapshot (the input, the object's state) may still be syncing, and nothing the attempt causes is
//   acknowledged before it is durable.
// - Admission: at most `maxConcurrentAttempts` attempts hold a slot; of those, at most `maxFreshAttempts` may have
//   been launched within the last `freshWindowMs`. A burst of new invocations thus opens a bounded number of
//   streams at a time (short queues in the endpoint, low latency for everything else), while an attempt that
//   runs longer than the window (slow `ctx.run`, long sleeps) stops counting against the burst bound. Waiting
//   starts launch in arrival order; a waiting start is only its epoch and (bounded) snapshot, no attempt yet.
// - A launched attempt opens its stream on the next turn of the event loop, so the replies that a committed
//   batch releases (202s, responses) go out before a burst of stream set-ups. An early start (a new invocation's
//   first attempt, started at COMMIT while no reply waits) opens as soon as the current task ends instead.
//   Notifications pushed meanwhile are held by the attempt until its stream is open.
// - Holds: a notification the endpoint must not see before a time (a sleep committed ahead of its due time) is
//   pushed then, and until then no attempt of its invocation launches (it would replay it): a start meanwhile
//   launches when the hold ends, from the journal as stored then.

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
  /** Attempts launched within the last `freshWindowMs` running at once (bounds bursts). */
  readonly maxFreshAttempts?: number;
  /** How long a launched attempt counts as fresh (default 250 ms). */
  readonly freshWindowMs?: number;
}

/** Waiting starts that keep the snapshot's record and journal (about 1 KiB each); later ones read them at launch. */
const MAX_WAITING_SNAPSHOTS = 1_000;

/** A start waiting for a slot. */
interface Waiting {
  readonly epoch: number;
  snapshot: AttemptSnapshot | undefined;
}

/**
 * A launch that may still count as fresh. It lets go of its attempt when the attempt ends: an ended attempt
 * (its stream, decoder, timers) must not stay reachable for the rest of the window, or every attempt of a
 * busy server outlives two scavenges and is promoted to the old generation only to die there.
 */
interface Launch {
  attempt: Attempt | undefined;
  readonly at: number;
}

export class Invoker {
  /** Launched attempts (holding a slot), by invocation. */
  private readonly attempts = new Map<string, Attempt>();
  /** Closed: starts (also held-back ones coming due) launch nothing. */
  private closed = false;
  /** Invocations held until a time (see `hold`). */
  private readonly holds = new Map<string, number>();
  /** Starts waiting for a slot, in arrival order: only what a launch needs, so a long queue stays small. */
  private readonly waiting = new Map<string, Waiting>();
  private running = 0;
  /** Launches in launch order; those older than the window are dropped from the front when admitting. */
  private launches: Launch[] = [];
  private launchesHead = 0;
  /** Attempts in `launches` that are still running, with their launch (removed when they end or age out). */
  private readonly fresh = new Map<Attempt, Launch>();
  private recheck: NodeJS.Timeout | undefined;
  /** Launched attempts whose stream opens soon (see `launch`). */
  private opening: Array<{ readonly attempt: Attempt; readonly snapshot: AttemptSnapshot | undefined }> = [];
  /** An opening of the launched attempts is scheduled at the end of the current task / on the next loop turn. */
  private openingSoon = false;
  private openingLater = false;
  private readonly deps: InvokerDeps;
  private readonly maxRunning: number;
  private readonly maxFresh: number;
  private readonly freshWindowMs: number;

  constructor(deps: InvokerDeps) {
    this.deps = deps;
    this.maxRunning = deps.maxConcurrentAttempts ?? Infinity;
    this.maxFresh = deps.maxFreshAttempts ?? Infinity;
    this.freshWindowMs = deps.freshWindowMs ?? 250;
  }

  /** Started invocations waiting for an attempt slot. */
  get waitingStarts(): number {
    return this.waiting.size;
  }

  /** Attempts launched or waiting for a slot. */
  get activeAttempts(): number {
    return this.attempts.size + this.waiting.size;
  }

  /** `early`: started at COMMIT, before the batch's replies exist (see the partition processor). */
  start(invocationId: string, epoch: number, snapshot?: AttemptSnapshot, early = false): void {
    if (this.closed) return;
    const previous = this.attempts.get(invocationId);
    if (previous) {
      if (previous.epoch >= epoch) return;
      previous.abort();
    }
    const queued = this.waiting.get(invocationId);
    if (queued && queued.epoch >= epoch) return;
    if (queued || this.waiting.size > 0 || !this.admits()) {
      // The record and journal of the snapshot stay valid while it waits (a notification pushed meanwhile drops
      // them, see `push`; a kill or a newer epoch replaces the entry). Beyond a bounded number of waiting starts
      // they are not kept (memory) and are read back at launch. The state is never kept: other handlers
      // (shared ones, admin edits) may change it while this one waits.
      const kept = snapshot && this.waiting.size < MAX_WAITING_SNAPSHOTS ? { invocation: snapshot.invocation, journal: snapshot.journal } : undefined;
      this.waiting.set(invocationId, { epoch, snapshot: kept }); // a replaced entry keeps its place
      this.scheduleRecheck();
      return;
    }
    this.launch(invocationId, epoch, snapshot, early);
  }

  /** Whether one more attempt may launch now. */
  private admits(): boolean {
    if (this.running >= this.maxRunning) return false;
    if (this.fresh.size < this.maxFresh) return true;
    this.ageOut();
    return this.fresh.size < this.maxFresh;
  }

  /** Drops launches older than the window from the front; they no longer count as fresh. */
  private ageOut(): void {
    const horizon = this.deps.clock.now() - this.freshWindowMs;
    while (this.launchesHead < this.launches.length && this.launches[this.launchesHead]!.at <= horizon) {
      const aged = this.launches[this.launchesHead]!;
      if (aged.attempt) this.fresh.delete(aged.attempt);
      aged.attempt = undefined;
      this.launchesHead++;
    }
    if (this.launchesHead > 1024 && this.launchesHead * 2 > this.launches.length) {
      this.launches = this.launches.slice(this.launchesHead);
      this.launchesHead = 0;
    }
  }

  /** Launches waiting starts while admission allows. */
  private drainWaiting(): void {
    while (this.waiting.size > 0 && this.admits()) {
      const [invocationId, next] = this.waiting.entries().next().value!;
      this.waiting.delete(invocationId);
      this.launch(invocationId, next.epoch, next.snapshot);
    }
    this.scheduleRecheck();
  }

  /** While starts wait only because of the fresh bound, look again when the oldest fresh launch ages out. */
  private scheduleRecheck(): void {
    if (this.recheck || this.waiting.size === 0 || this.running >= this.maxRunning) return;
    const oldest = this.launches[this.launchesHead];
    if (!oldest) return;
    const delay = Math.max(1, oldest.at + this.freshWindowMs - this.deps.clock.now() + 1);
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      this.drainWaiting();
    }, delay);
    this.recheck.unref();
  }

  /** Takes a slot for the attempt now; its stream opens on the next turn of the event loop (early: when this task ends). */
  private launch(invocationId: string, epoch: number, snapshot: AttemptSnapshot | undefined, early = false): void {
    const heldUntil = this.holds.size > 0 ? this.heldUntil(invocationId) : undefined;
    if (heldUntil !== undefined) {
      // Started again once the hold ends, from the journal as stored then (pushes meanwhile find no attempt).
      setTimeout(() => this.start(invocationId, epoch), heldUntil - this.deps.clock.now()).unref();
      return;
    }
    const attempt = new Attempt(
      invocationId,
      epoch,
      { client: this.deps.client, submit: this.deps.submit, now: () => this.deps.clock.now() },
      (a) => this.release(a),
    );
    this.attempts.set(invocationId, attempt);
    this.running++;
    if (this.maxFresh !== Infinity) {
      this.ageOut();
      const entry: Launch = { attempt, at: this.deps.clock.now() };
      this.fresh.set(attempt, entry);
      this.launches.push(entry);
    }
    this.opening.push({ attempt, snapshot });
    if (early) {
      // No reply of the batch exists yet: the stream opens right after this task, not an event-loop turn later.
      if (this.openingSoon) return;
      this.openingSoon = true;
      queueMicrotask(() => {
        this.openingSoon = false;
        this.openLaunched();
      });
      return;
    }
    // Effects of a committed batch run before its replies (202s, responses) go out; opening streams after them
    // keeps a burst of starts from delaying those replies.
    if (this.openingLater) return;
    this.openingLater = true;
    setImmediate(() => {
      this.openingLater = false;
      this.openLaunched();
    });
  }

  private openLaunched(): void {
    const batch = this.opening;
    this.opening = [];
    for (const { attempt, snapshot } of batch) {
      if (this.attempts.get(attempt.invocationId) !== attempt || attempt.terminal) continue; // aborted meanwhile
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
  }

  /** An attempt ended: free its slot and start the next waiting one. */
  private release(a: Attempt): void {
    if (this.attempts.get(a.invocationId) === a) this.attempts.delete(a.invocationId);
    this.running--;
    const launch = this.fresh.get(a);
    if (launch) {
      launch.attempt = undefined;
      this.fresh.delete(a);
    }
    this.drainWaiting();
  }

  /**
   * Sends a notification to the invocation's live attempt of `epoch`. With `notBefore` in the future (a sleep
   * committed ahead of its due time) it goes out then; a `hold` registered with it keeps a new attempt from
   * replaying it earlier.
   */
  push(invocationId: string, epoch: number, journalIndex: number | undefined, frame: Buffer, notBefore?: number): void {
    if (notBefore !== undefined) {
      const wait = notBefore - this.deps.clock.now();
      if (wait > 0) {
        setTimeout(() => this.push(invocationId, epoch, journalIndex, frame, notBefore), wait).unref();
        return;
      }
      this.heldUntil(invocationId); // forgets an expired hold
    }
    const attempt = this.attempts.get(invocationId);
    if (attempt && attempt.epoch === epoch) {
      attempt.push(journalIndex, frame);
      return;
    }
    // Not launched yet: the journal read at launch will hold the notification (it is committed and durable).
    const queued = this.waiting.get(invocationId);
    if (queued && queued.epoch === epoch) queued.snapshot = undefined;
  }

  /** No attempt of the invocation starts before `until`: its journal holds a notification not to be seen earlier. */
  hold(invocationId: string, until: number): void {
    if (until <= this.deps.clock.now()) return;
    this.holds.set(invocationId, Math.max(this.holds.get(invocationId) ?? 0, until));
  }

  /** The time the invocation is held until, if that is still ahead. */
  private heldUntil(invocationId: string): number | undefined {
    const until = this.holds.get(invocationId);
    if (until === undefined) return undefined;
    if (until > this.deps.clock.now()) return until;
    this.holds.delete(invocationId);
    return undefined;
  }

  abort(invocationId: string): void {
    const attempt = this.attempts.get(invocationId);
    if (attempt && !attempt.terminal) attempt.abort();
    this.waiting.delete(invocationId);
  }

  close(): void {
    this.closed = true;
    this.waiting.clear();
    this.holds.clear();
    if (this.recheck) clearTimeout(this.recheck);
    this.recheck = undefined;
    for (const a of [...this.attempts.values()]) a.abort();
    this.attempts.clear();
  }

  /** `snapshot`: the committed record, journal (and state) handed over with the start, used instead of reading them back. */
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
    const eager = registry.sendsEagerState(inv);
    let state = eager ? snapshot?.state : undefined;
    if (eager && state === undefined) state = await store.readAllState(inv.service, inv.key!);
    // What was read here may include commits of a batch that is still being synced: send nothing before it is
    // durable. A snapshot is the committed state of its batch: durable by now, or, for the first attempt of a new
    // invocation started early (see the partition processor), holding no result the endpoint could act on.
    if (!snapshot || (eager && snapshot.state === undefined)) await store.durableBarrier();
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
