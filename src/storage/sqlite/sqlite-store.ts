// SQLite adapter of the Store interface, on `node:sqlite` (built into Node 24, no native build).
//
// Invariants:
// - One write connection; every write runs under an async mutex, so a transaction is never interleaved with
//   another write. Reads outside transactions use a second, read-only connection that sees committed data only.
// - WAL mode. With `fsync` on (the default), every write operation resolves only after the WAL is synced
//   (`WalSync`: an fdatasync off the event loop, shared by concurrent commits); with it off, nothing is synced.
//   `commit` resolves at COMMIT and hands out the sync as `durable`, so the next transaction can overlap it.
// - `commits` counts COMMITs, `durableCommits` the ones known synced; `durableBarrier` compares the two.
// - Partition keys are u64; SQLite integers are signed, so they are stored as the same 64 bits read signed.
// - Transactions read invocation records through a cache of committed records (`RecordCache`), filled by what
//   they write and read; a rolled-back transaction leaves no trace in it. Reads outside transactions go to the
//   read connection.

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { mkdirSync, accessSync, constants } from "node:fs";
import { join } from "node:path";
import type { Committed, PartitionTxn, Store } from "../api/store.ts";
import type {
  Callback,
  DeploymentRecord,
  InvocationRecord,
  JournalEntry,
  PromiseResult,
  ServiceRecord,
  TimerKind,
  TimerRecord,
} from "../api/records.ts";
import { decodeInvocation, encodeInvocation } from "../api/invocation-codec.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";
import { ErrorCode, PerdureError, errorMessage } from "../../core/errors.ts";
import { WriteMutex } from "../api/write-mutex.ts";
import { WalSync } from "./wal-sync.ts";
import { storageKey } from "./storage-key.ts";
import { RecordCache } from "./record-cache.ts";

export interface SqliteStoreOptions {
  readonly dataDir: string;
  /** fsync every commit (default true). Off only for benchmarks that say so. */
  readonly fsync?: boolean;
}

const signed = (pk: bigint): bigint => BigInt.asIntN(64, pk);

type Row = Record<string, unknown>;

export class SqliteStore implements Store {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly reader: DatabaseSync;
  private readonly mutex = new WriteMutex();
  private readonly walSync: WalSync | undefined;
  private readonly stmts = new Map<string, StatementSync>();
  private readonly readerStmts = new Map<string, StatementSync>();
  private readonly txn: PartitionTxn;
  private commits = 0;
  private durableCommits = 0;
  /** Committed invocation records recently written or read by transactions (~1 KiB each). */
  private readonly records = new RecordCache(4_096);

  constructor(options: SqliteStoreOptions) {
    try {
      mkdirSync(options.dataDir, { recursive: true });
      accessSync(options.dataDir, constants.W_OK);
    } catch (err) {
      throw new PerdureError(ErrorCode.Storage, `data dir '${options.dataDir}' cannot be written`, { cause: err });
    }
    this.path = join(options.dataDir, "perdure.sqlite");
    // On any failure below, close what was opened: a refused data dir must not stay held by this process.
    const opened: DatabaseSync[] = [];
    try {
      this.db = new DatabaseSync(this.path);
      opened.push(this.db);
      // Check the version before anything else writes to the file: a newer data dir is left untouched.
      const current = this.schemaVersion();
      this.db.exec("PRAGMA journal_mode = WAL");
      this.db.exec(`PRAGMA synchronous = ${options.fsync === false ? "OFF" : "NORMAL"}`);
      this.db.exec("PRAGMA busy_timeout = 5000");
      this.migrate(current);
      this.reader = new DatabaseSync(this.path, { readOnly: true });
      opened.push(this.reader);
      this.reader.exec("PRAGMA busy_timeout = 5000");
    } catch (err) {
      for (const db of opened.reverse()) db.close();
      if (err instanceof PerdureError) throw err;
      throw new PerdureError(ErrorCode.Storage, `cannot open the database '${this.path}': ${errorMessage(err)}`, { cause: err });
    }
    this.txn = this.makeTxn();
    this.walSync = options.fsync === false ? undefined : new WalSync(this.path);
  }

  private schemaVersion(): number {
    const current = Number((this.db.prepare("PRAGMA user_version").get() as Row).user_version);
    if (current > SCHEMA_VERSION) {
      throw new PerdureError(
        ErrorCode.Storage,
        `data dir was written by a newer perdure (schema version ${current}, this build knows up to ${SCHEMA_VERSION}); refusing to open it`,
      );
    }
    return current;
  }

  private migrate(current: number): void {
    for (let v = current; v < SCHEMA_VERSION; v++) {
      this.db.exec("BEGIN");
      try {
        this.db.exec(MIGRATIONS[v]!);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
        this.db.exec("COMMIT");
      } catch (err) {
        this.rollback();
        throw err;
      }
    }
  }

  /** Ends the open transaction, if SQLite still has one (a failed COMMIT, unlike most errors, leaves it open). */
  private rollback(): void {
    if (this.db.isTransaction) this.db.exec("ROLLBACK");
  }

  /** Runs `body` in one write transaction on the write connection; caller holds the mutex. */
  private async inTransaction<T>(body: () => Promise<T>): Promise<T> {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = await body();
      this.db.exec("COMMIT");
      this.records.commit();
      this.commits++;
      return result;
    } catch (err) {
      this.records.rollback();
      this.rollback();
      throw err;
    }
  }

  private st(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private rst(sql: string): StatementSync {
    let s = this.readerStmts.get(sql);
    if (!s) {
      s = this.reader.prepare(sql);
      this.readerStmts.set(sql, s);
    }
    return s;
  }

  async transaction<T>(fn: (txn: PartitionTxn) => Promise<T>): Promise<T> {
    const { result, durable } = await this.commit(fn);
    await durable;
    return result;
  }

  async commit<T>(fn: (txn: PartitionTxn) => Promise<T>): Promise<Committed<T>> {
    let result: T;
    try {
      result = await this.mutex.run(() => this.inTransaction(() => fn(this.txn)));
    } catch (err) {
      throw asStorageError(err);
    }
    const durable = this.durable().catch((err: unknown) => {
      throw asStorageError(err);
    });
    durable.catch(() => undefined); // the caller handles it; never an unhandled rejection meanwhile
    return { result, durable };
  }

  durableBarrier(): Promise<void> {
    return this.durableCommits >= this.commits ? Promise.resolve() : this.durable();
  }

  /** Resolves once everything committed so far is on stable storage. */
  private durable(): Promise<void> {
    if (!this.walSync) {
      this.durableCommits = this.commits;
      return Promise.resolve();
    }
    const target = this.commits;
    return this.walSync.sync().then(() => {
      if (target > this.durableCommits) this.durableCommits = target;
    });
  }

  /** fdatasync calls made so far (0 with fsync off). */
  get syncCount(): number {
    return this.walSync?.syncs ?? 0;
  }

  private makeTxn(): PartitionTxn {
    const st = (sql: string) => this.st(sql);
    return {
      getInvocation: async (id) => {
        const key = storageKey(id);
        const cached = this.records.get(key);
        if (cached !== undefined) return cached ?? undefined;
        const inv = readInvocationRow(st("SELECT record, result_value FROM invocations WHERE sk = ?").get(key));
        if (inv) this.records.remember(key, inv);
        return inv;
      },
      putInvocation: async (inv, stored) => {
        const { json, resultValue } = encodeInvocation(inv);
        const key = storageKey(inv.id);
        this.records.put(key, inv);
        // A record the transaction read is updated in place: cheaper than an upsert's failed insert first.
        if (stored) {
          const { changes } = st(
            "UPDATE invocations SET status = ?, modified_at = ?, expires_at = ?, inbox_seq = ?, record = ?, result_value = ? WHERE sk = ?",
          ).run(inv.status, inv.modifiedAt, inv.expiresAt ?? null, inv.status === "inboxed" ? (inv.inboxSeq ?? null) : null, json, resultValue, key);
          if (changes === 1) return;
        }
        st(
          `INSERT INTO invocations (sk, id, partition_key, status, service, service_key, handler, idempotency_key, created_at, modified_at, expires_at, inbox_seq, record, result_value)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(sk) DO UPDATE SET status = excluded.status, modified_at = excluded.modified_at, expires_at = excluded.expires_at,
             inbox_seq = excluded.inbox_seq, record = excluded.record, result_value = excluded.result_value`,
        ).run(
          key,
          inv.id,
          signed(inv.partitionKey),
          inv.status,
          inv.service,
          inv.key ?? null,
          inv.handler,
          inv.idempotencyKey ?? null,
          inv.createdAt,
          inv.modifiedAt,
          inv.expiresAt ?? null,
          inv.status === "inboxed" ? (inv.inboxSeq ?? null) : null,
          json,
          resultValue,
        );
      },
      deleteInvocation: async (id) => {
        const key = storageKey(id);
        st("DELETE FROM invocations WHERE sk = ?").run(key);
        this.records.delete(key);
      },
      appendJournal: async (invocationId, e) => {
        st("INSERT INTO journal (sk, idx, type, payload, notification_key, appended_at) VALUES (?, ?, ?, ?, ?, ?)").run(
          storageKey(invocationId),
          e.index,
          e.type,
          e.payload,
          e.notificationKey ?? null,
          e.appendedAt,
        );
      },
      readJournal: async (invocationId) => readJournalRows(st("SELECT * FROM journal WHERE sk = ? ORDER BY idx").all(storageKey(invocationId))),
      findNotifications: async (invocationId, keys) => {
        // One indexed lookup per key: a run completion checks one key, so this stays O(1) however long the journal.
        const lookup = st("SELECT 1 FROM journal WHERE sk = ? AND notification_key = ? LIMIT 1");
        const key = storageKey(invocationId);
        return keys.filter((k) => lookup.get(key, k) !== undefined);
      },
      deleteJournal: async (invocationId) => {
        st("DELETE FROM journal WHERE sk = ?").run(storageKey(invocationId));
      },
      getState: async (service, key, stateKey) => {
        const row = st("SELECT value FROM state WHERE service = ? AND service_key = ? AND state_key = ?").get(service, key, stateKey);
        return row ? Buffer.from(row.value as Uint8Array) : undefined;
      },
      getAllState: async (service, key) => stateRows(st("SELECT state_key, value FROM state WHERE service = ? AND service_key = ? ORDER BY state_key").all(service, key)),
      setState: async (pk, service, key, stateKey, value) => {
        st("INSERT INTO state (service, service_key, state_key, value, partition_key) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value").run(
          service,
          key,
          stateKey,
          value,
          signed(pk),
        );
      },
      clearState: async (service, key, stateKey) => {
        st("DELETE FROM state WHERE service = ? AND service_key = ? AND state_key = ?").run(service, key, stateKey);
      },
      clearAllState: async (service, key) => {
        st("DELETE FROM state WHERE service = ? AND service_key = ?").run(service, key);
      },
      getLock: async (service, key) => {
        const row = st("SELECT invocation_id FROM locks WHERE service = ? AND service_key = ?").get(service, key);
        return row ? String(row.invocation_id) : undefined;
      },
      setLock: async (pk, service, key, invocationId) => {
        st("INSERT INTO locks (service, service_key, invocation_id, partition_key) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET invocation_id = excluded.invocation_id").run(
          service,
          key,
          invocationId,
          signed(pk),
        );
      },
      releaseLock: async (service, key) => {
        st("DELETE FROM locks WHERE service = ? AND service_key = ?").run(service, key);
      },
      nextInboxed: async (service, key) => {
        const row = st("SELECT id FROM invocations WHERE status = 'inboxed' AND service = ? AND service_key = ? ORDER BY inbox_seq LIMIT 1").get(service, key);
        return row ? String(row.id) : undefined;
      },
      nextInboxSeq: async () => {
        const row = st("INSERT INTO counters (name, value) VALUES ('inbox', 1) ON CONFLICT DO UPDATE SET value = value + 1 RETURNING value").get();
        return Number(row!.value);
      },
      getPromise: async (service, key, name) => {
        const row = st("SELECT value, failure FROM promises WHERE service = ? AND service_key = ? AND name = ?").get(service, key, name);
        if (!row) return undefined;
        return row.failure !== null
          ? { kind: "failure", failure: JSON.parse(String(row.failure)) }
          : { kind: "value", value: Buffer.from(row.value as Uint8Array) };
      },
      putPromise: async (pk, service, key, name, result: PromiseResult) => {
        st("INSERT INTO promises (service, service_key, name, value, failure, partition_key) VALUES (?, ?, ?, ?, ?, ?)").run(
          service,
          key,
          name,
          result.kind === "value" ? result.value : null,
          result.kind === "failure" ? JSON.stringify(result.failure) : null,
          signed(pk),
        );
      },
      addCallback: async (pk, target, cb: Callback) => {
        st("INSERT INTO callbacks (target, invocation_id, completion_id, notification_type, partition_key) VALUES (?, ?, ?, ?, ?)").run(
          target,
          cb.invocationId,
          cb.completionId,
          cb.notificationType,
          signed(pk),
        );
      },
      takeCallbacks: async (target) => {
        const rows = st("SELECT invocation_id, completion_id, notification_type FROM callbacks WHERE target = ? ORDER BY rowid").all(target);
        if (rows.length === 0) return [];
        st("DELETE FROM callbacks WHERE target = ?").run(target);
        return rows.map((r) => ({
          invocationId: String(r.invocation_id),
          completionId: Number(r.completion_id),
          notificationType: Number(r.notification_type),
        }));
      },
      addTimer: async (t) => {
        const row = st(
          "INSERT INTO timers (due_at, kind, invocation_id, completion_id, epoch, partition_key) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        ).get(t.dueAt, t.kind, t.invocationId, t.completionId ?? null, t.epoch ?? null, signed(t.partitionKey));
        return { ...t, id: Number(row!.id) };
      },
      deleteTimer: async (id) => {
        st("DELETE FROM timers WHERE id = ?").run(id);
      },
      deleteTimersOf: async (invocationId) => {
        st("DELETE FROM timers WHERE invocation_id = ?").run(invocationId);
      },
      expiredInvocations: async (now, limit) =>
        st("SELECT id FROM invocations WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?")
          .all(now, limit)
          .map((r) => String(r.id)),
    };
  }

  async readInvocation(id: string): Promise<InvocationRecord | undefined> {
    return readInvocationRow(this.rst("SELECT record, result_value FROM invocations WHERE sk = ?").get(storageKey(id)));
  }

  async readJournal(invocationId: string): Promise<JournalEntry[]> {
    return readJournalRows(this.rst("SELECT * FROM journal WHERE sk = ? ORDER BY idx").all(storageKey(invocationId)));
  }

  async readAllState(service: string, key: string): Promise<Array<[Buffer, Buffer]>> {
    return stateRows(this.rst("SELECT state_key, value FROM state WHERE service = ? AND service_key = ? ORDER BY state_key").all(service, key));
  }

  async listInvocationsByStatus(status: InvocationRecord["status"]): Promise<string[]> {
    return this.rst("SELECT id FROM invocations WHERE status = ? ORDER BY created_at").all(status).map((r) => String(r.id));
  }

  async listTimers(): Promise<TimerRecord[]> {
    const stmt = this.rst("SELECT * FROM timers ORDER BY due_at, id");
    stmt.setReadBigInts(true);
    return stmt.all().map((r) => ({
      id: Number(r.id),
      partitionKey: BigInt.asUintN(64, r.partition_key as bigint),
      dueAt: Number(r.due_at),
      kind: String(r.kind) as TimerKind,
      invocationId: String(r.invocation_id),
      completionId: r.completion_id === null ? undefined : Number(r.completion_id),
      epoch: r.epoch === null ? undefined : Number(r.epoch),
    }));
  }

  async listDeployments(): Promise<DeploymentRecord[]> {
    return this.rst("SELECT record FROM deployments ORDER BY id").all().map((r) => JSON.parse(String(r.record)) as DeploymentRecord);
  }

  async putDeployment(d: DeploymentRecord): Promise<void> {
    await this.mutex.run(async () => {
      this.st("INSERT INTO deployments (id, record) VALUES (?, ?) ON CONFLICT DO UPDATE SET record = excluded.record").run(d.id, JSON.stringify(d));
      this.commits++;
    });
    await this.durable();
  }

  async deleteDeployment(id: string): Promise<void> {
    await this.mutex.run(async () => {
      this.st("DELETE FROM deployments WHERE id = ?").run(id);
      this.commits++;
    });
    await this.durable();
  }

  async listServices(): Promise<ServiceRecord[]> {
    return this.rst("SELECT record FROM services ORDER BY name").all().map((r) => JSON.parse(String(r.record)) as ServiceRecord);
  }

  async putServices(services: readonly ServiceRecord[]): Promise<void> {
    await this.mutex.run(() =>
      this.inTransaction(async () => {
        for (const s of services) {
          this.st("INSERT INTO services (name, record) VALUES (?, ?) ON CONFLICT DO UPDATE SET record = excluded.record").run(s.name, JSON.stringify(s));
        }
      }),
    );
    await this.durable();
  }

  async deleteServices(names: readonly string[]): Promise<void> {
    await this.mutex.run(() =>
      this.inTransaction(async () => {
        for (const n of names) this.st("DELETE FROM services WHERE name = ?").run(n);
      }),
    );
    await this.durable();
  }

  close(): void {
    this.walSync?.close();
    this.reader.close();
    this.db.close();
  }
}

/**
 * SQLite's own failures (disk full, I/O errors, a read-only file) and failed syncs become retryable storage
 * errors, so the edges can answer "storage unavailable" rather than "internal error"; other errors pass.
 */
function asStorageError(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  if (e?.code === "ERR_SQLITE_ERROR" || /^fsync of /.test(e?.message ?? "")) {
    return new PerdureError(ErrorCode.Storage, `storage unavailable: ${e.message}`, { retryable: true, cause: err });
  }
  return err;
}

function readInvocationRow(row: Row | undefined): InvocationRecord | undefined {
  if (!row) return undefined;
  return decodeInvocation(String(row.record), (row.result_value as Uint8Array | null) ?? null);
}

function readJournalRows(rows: Row[]): JournalEntry[] {
  return rows.map((r) => ({
    index: Number(r.idx),
    type: Number(r.type),
    payload: Buffer.from(r.payload as Uint8Array),
    notificationKey: r.notification_key === null ? undefined : String(r.notification_key),
    appendedAt: Number(r.appended_at),
  }));
}

function stateRows(rows: Row[]): Array<[Buffer, Buffer]> {
  return rows.map((r) => [Buffer.from(r.state_key as Uint8Array), Buffer.from(r.value as Uint8Array)]);
}
