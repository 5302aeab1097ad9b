// A batch: the unit of work of one partition transaction.
//
// Invariants:
// - Each invocation record is read at most once per batch and every change goes through the cached object,
//   so two commands of one batch never overwrite each other's changes; dirty records are written at `flush`.
// - Effects are only collected here; the processor runs them after the transaction committed.
// - Journal appends go through `appendJournal`. For an invocation created in this batch, or whose journal it read
//   whole (`journalForStart`), the batch holds and keeps current its whole journal, so starting an attempt needs no
//   read after the commit. Records and journals handed out are the committed state once the batch commits and
//   are not changed after it.

import type { PartitionTxn } from "../storage/api/store.ts";
import type { InvocationRecord, JournalEntry } from "../storage/api/records.ts";
import type { Clock, RandomSource } from "../core/environment.ts";
import type { Registry } from "../deployments/registry.ts";
import type { Effect } from "./effects.ts";

export interface PartitionDeps {
  readonly registry: Registry;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Highest invocation protocol version to negotiate (5 to 7). */
  readonly maxProtocolVersion: number;
}

/** Bytes of journals one batch reads whole to hand to the attempts it starts (beyond: read at launch). */
const JOURNAL_READ_BUDGET = 4 * 1024 * 1024;
/** What an entry costs besides its payload, for the budget. */
const JOURNAL_ENTRY_OVERHEAD = 64;

export class Batch {
  readonly txn: PartitionTxn;
  readonly now: number;
  readonly deps: PartitionDeps;
  readonly effects: Effect[] = [];
  private readonly cache = new Map<string, InvocationRecord | null>();
  private readonly dirty = new Set<string>();
  /** Records this transaction read or wrote and has not removed since: they exist in storage. */
  private readonly stored = new Set<string>();
  private readonly journals = new Map<string, JournalEntry[]>();
  /** Invocations this batch created (their journal starts here). */
  readonly created = new Set<string>();
  /**
   * Invocations this batch removed (a later command of it may create the same id again), each with the number
   * of effects emitted before its last removal.
   */
  readonly removed = new Map<string, number>();
  /** Bytes of journals this batch may still read whole for attempt starts. */
  private journalReadBudget = JOURNAL_READ_BUDGET;

  constructor(txn: PartitionTxn, deps: PartitionDeps) {
    this.txn = txn;
    this.deps = deps;
    this.now = deps.clock.now();
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const inv = await this.txn.getInvocation(id);
    this.cache.set(id, inv ?? null);
    if (inv) this.stored.add(id);
    return inv;
  }

  /** Marks a (new or changed) record for writing at flush. */
  touch(inv: InvocationRecord): void {
    inv.modifiedAt = this.now;
    this.cache.set(inv.id, inv);
    this.dirty.add(inv.id);
  }

  /** Starts the journal of an invocation created in this batch: from now on the batch knows all of it. */
  async startJournal(id: string, first: JournalEntry): Promise<void> {
    await this.txn.appendJournal(id, first);
    this.journals.set(id, [first]);
    this.created.add(id);
  }

  async appendJournal(id: string, entry: JournalEntry): Promise<void> {
    await this.txn.appendJournal(id, entry);
    this.journals.get(id)?.push(entry);
  }

  async deleteJournal(id: string): Promise<void> {
    this.journals.delete(id);
    await this.txn.deleteJournal(id);
  }

  /**
   * The whole journal of an invocation as this batch sees it, to start an attempt from; from now on the batch
   * keeps it current. Undefined once the batch has read its budget of journals (a recovery starting thousands of
   * invocations must not hold all their journals at once): then the invoker reads it at launch.
   */
  async journalForStart(id: string): Promise<readonly JournalEntry[] | undefined> {
    const known = this.journals.get(id);
    if (known) return known;
    if (this.journalReadBudget <= 0) return undefined;
    const journal = await this.txn.readJournal(id);
    for (const e of journal) this.journalReadBudget -= e.payload.length + JOURNAL_ENTRY_OVERHEAD;
    this.journals.set(id, journal);
    return journal;
  }

  /** Removes an invocation with its journal and timers. */
  async remove(id: string): Promise<void> {
    this.cache.set(id, null);
    this.dirty.delete(id);
    this.stored.delete(id);
    this.removed.set(id, this.effects.length);
    await this.txn.deleteInvocation(id);
    await this.deleteJournal(id);
    await this.txn.deleteTimersOf(id);
  }

  emit(effect: Effect): void {
    this.effects.push(effect);
  }

  async flush(): Promise<void> {
    for (const id of this.dirty) {
      const inv = this.cache.get(id);
      if (!inv) continue;
      await this.txn.putInvocation(inv, this.stored.has(id));
      this.stored.add(id);
    }
    this.dirty.clear();
  }
}
