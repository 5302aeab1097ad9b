// The storage interface. Adapters (sqlite, memory, later postgres) implement it and pass the contract suite.
//
// Invariants:
// - Partitioned data changes only inside `transaction`; a transaction either commits whole or not at all.
// - A committed transaction is durable (the adapter syncs before `transaction` resolves, unless configured not to).
// - Reads inside a transaction see that transaction's own writes.
// - Write operations (transactions and registry writes) are serialized by the store; reads outside a
//   transaction see only committed data, never a transaction in progress.
// - The interface is asynchronous so that adapters backed by a network database can implement it.

import type {
  Callback,
  DeploymentRecord,
  InvocationRecord,
  JournalEntry,
  PromiseResult,
  ServiceRecord,
  TimerRecord,
} from "./records.ts";

export interface PartitionTxn {
  getInvocation(id: string): Promise<InvocationRecord | undefined>;
  /**
   * Writes the record (insert or replace). `stored`: the caller read it in this transaction and has not deleted
   * it since, so it exists; an adapter may then update it in place (it must still store it if it does not).
   */
  putInvocation(inv: InvocationRecord, stored?: boolean): Promise<void>;
  deleteInvocation(id: string): Promise<void>;

  appendJournal(invocationId: string, entry: JournalEntry): Promise<void>;
  readJournal(invocationId: string): Promise<JournalEntry[]>;
  /** Returns the notification keys among `keys` that are present in the journal. */
  findNotifications(invocationId: string, keys: readonly string[]): Promise<string[]>;
  deleteJournal(invocationId: string): Promise<void>;

  getState(service: string, key: string, stateKey: Buffer): Promise<Buffer | undefined>;
  getAllState(service: string, key: string): Promise<Array<[Buffer, Buffer]>>;
  setState(partitionKey: bigint, service: string, key: string, stateKey: Buffer, value: Buffer): Promise<void>;
  clearState(service: string, key: string, stateKey: Buffer): Promise<void>;
  clearAllState(service: string, key: string): Promise<void>;

  /** The invocation that holds the exclusive lock on an object key, if any. */
  getLock(service: string, key: string): Promise<string | undefined>;
  setLock(partitionKey: bigint, service: string, key: string, invocationId: string): Promise<void>;
  releaseLock(service: string, key: string): Promise<void>;
  /** The next inboxed invocation for the key, in arrival order. */
  nextInboxed(service: string, key: string): Promise<string | undefined>;
  nextInboxSeq(): Promise<number>;

  getPromise(service: string, key: string, name: string): Promise<PromiseResult | undefined>;
  putPromise(partitionKey: bigint, service: string, key: string, name: string, result: PromiseResult): Promise<void>;

  /** Callbacks are keyed by what they wait for: an invocation id, or "promise:<service>/<key>/<name>". */
  addCallback(partitionKey: bigint, target: string, cb: Callback): Promise<void>;
  takeCallbacks(target: string): Promise<Callback[]>;

  addTimer(timer: Omit<TimerRecord, "id">): Promise<TimerRecord>;
  deleteTimer(id: number): Promise<void>;
  deleteTimersOf(invocationId: string): Promise<void>;

  /** Completed invocations whose retention ended before `now`. */
  expiredInvocations(now: number, limit: number): Promise<string[]>;
}

/** A committed transaction: its result, and when it is on stable storage. */
export interface Committed<T> {
  readonly result: T;
  /** Resolves once the commit is durable; rejects if it cannot be made durable (then nothing may act on it). */
  readonly durable: Promise<void>;
}

export interface Store {
  /** Runs `fn` in one transaction and commits it durably. If `fn` throws, nothing is written. */
  transaction<T>(fn: (txn: PartitionTxn) => Promise<T>): Promise<T>;

  /**
   * Runs `fn` in one transaction and resolves as soon as it committed, so the next transaction can run while
   * this one is made durable. Nothing the transaction wrote may be acted upon before `durable` resolves.
   */
  commit<T>(fn: (txn: PartitionTxn) => Promise<T>): Promise<Committed<T>>;

  /**
   * Resolves once everything committed so far is durable (at once when it already is). Reads outside
   * transactions can see commits that are not durable yet: whoever hands such data on waits for this first.
   */
  durableBarrier(): Promise<void>;

  /** Committed reads outside the partition loop (the invoker reads a journal to start an attempt). */
  readInvocation(id: string): Promise<InvocationRecord | undefined>;
  readJournal(invocationId: string): Promise<JournalEntry[]>;
  readAllState(service: string, key: string): Promise<Array<[Buffer, Buffer]>>;
  /** Invocations that must be resumed after a restart: running ones. */
  listInvocationsByStatus(status: InvocationRecord["status"]): Promise<string[]>;
  listTimers(): Promise<TimerRecord[]>;

  /** Schema registry (not partitioned). */
  listDeployments(): Promise<DeploymentRecord[]>;
  putDeployment(d: DeploymentRecord): Promise<void>;
  deleteDeployment(id: string): Promise<void>;
  listServices(): Promise<ServiceRecord[]>;
  putServices(services: readonly ServiceRecord[]): Promise<void>;
  deleteServices(names: readonly string[]): Promise<void>;

  close(): void;
}
