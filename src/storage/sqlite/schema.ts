// SQLite schema and numbered migrations of perdure's data dir.
// Invariant: migrations only append; `SCHEMA_VERSION` is the number of the last one. A data dir written by a
// newer perdure (higher version) is refused rather than guessed at.

import { sqlStorageKey } from "./storage-key.ts";

export const SCHEMA_VERSION = 2;

export const MIGRATIONS: readonly string[] = [
  // 1: initial schema
  `
  CREATE TABLE invocations (
    id TEXT PRIMARY KEY,
    partition_key INTEGER NOT NULL,
    status TEXT NOT NULL,
    service TEXT NOT NULL,
    service_key TEXT,
    handler TEXT NOT NULL,
    idempotency_key TEXT,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    expires_at INTEGER,
    inbox_seq INTEGER,
    record TEXT NOT NULL,
    result_value BLOB
  );
  CREATE INDEX invocations_by_status ON invocations(status);
  CREATE INDEX invocations_by_expiry ON invocations(expires_at) WHERE expires_at IS NOT NULL;
  CREATE INDEX invocations_inbox ON invocations(service, service_key, inbox_seq) WHERE status = 'inboxed';

  CREATE TABLE journal (
    invocation_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    type INTEGER NOT NULL,
    payload BLOB NOT NULL,
    notification_key TEXT,
    appended_at INTEGER NOT NULL,
    PRIMARY KEY (invocation_id, idx)
  ) WITHOUT ROWID;
  CREATE INDEX journal_notifications ON journal(invocation_id, notification_key) WHERE notification_key IS NOT NULL;

  CREATE TABLE state (
    service TEXT NOT NULL,
    service_key TEXT NOT NULL,
    state_key BLOB NOT NULL,
    value BLOB NOT NULL,
    partition_key INTEGER NOT NULL,
    PRIMARY KEY (service, service_key, state_key)
  ) WITHOUT ROWID;

  CREATE TABLE locks (
    service TEXT NOT NULL,
    service_key TEXT NOT NULL,
    invocation_id TEXT NOT NULL,
    partition_key INTEGER NOT NULL,
    PRIMARY KEY (service, service_key)
  ) WITHOUT ROWID;

  CREATE TABLE promises (
    service TEXT NOT NULL,
    service_key TEXT NOT NULL,
    name TEXT NOT NULL,
    value BLOB,
    failure TEXT,
    partition_key INTEGER NOT NULL,
    PRIMARY KEY (service, service_key, name)
  ) WITHOUT ROWID;

  CREATE TABLE callbacks (
    target TEXT NOT NULL,
    invocation_id TEXT NOT NULL,
    completion_id INTEGER NOT NULL,
    notification_type INTEGER NOT NULL,
    partition_key INTEGER NOT NULL
  );
  CREATE INDEX callbacks_by_target ON callbacks(target);

  CREATE TABLE timers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    due_at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    invocation_id TEXT NOT NULL,
    completion_id INTEGER,
    epoch INTEGER,
    partition_key INTEGER NOT NULL
  );
  CREATE INDEX timers_by_invocation ON timers(invocation_id);

  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);

  CREATE TABLE deployments (id TEXT PRIMARY KEY, record TEXT NOT NULL);
  CREATE TABLE services (name TEXT PRIMARY KEY, record TEXT NOT NULL);
  `,
  // 2: invocations and journal keyed by the storage key (storage-key.ts), so that inserts stay local
  `
  CREATE TABLE invocations_v2 (
    sk TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    partition_key INTEGER NOT NULL,
    status TEXT NOT NULL,
    service TEXT NOT NULL,
    service_key TEXT,
    handler TEXT NOT NULL,
    idempotency_key TEXT,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    expires_at INTEGER,
    inbox_seq INTEGER,
    record TEXT NOT NULL,
    result_value BLOB
  );
  INSERT INTO invocations_v2 (sk, id, partition_key, status, service, service_key, handler, idempotency_key, created_at, modified_at, expires_at, inbox_seq, record, result_value)
    SELECT ${sqlStorageKey("id")}, id, partition_key, status, service, service_key, handler, idempotency_key, created_at, modified_at, expires_at, inbox_seq, record, result_value
    FROM invocations ORDER BY created_at;
  DROP TABLE invocations;
  ALTER TABLE invocations_v2 RENAME TO invocations;
  CREATE INDEX invocations_by_status ON invocations(status);
  CREATE INDEX invocations_by_expiry ON invocations(expires_at) WHERE expires_at IS NOT NULL;
  CREATE INDEX invocations_inbox ON invocations(service, service_key, inbox_seq) WHERE status = 'inboxed';

  CREATE TABLE journal_v2 (
    sk TEXT NOT NULL,
    idx INTEGER NOT NULL,
    type INTEGER NOT NULL,
    payload BLOB NOT NULL,
    notification_key TEXT,
    appended_at INTEGER NOT NULL,
    PRIMARY KEY (sk, idx)
  ) WITHOUT ROWID;
  INSERT INTO journal_v2 (sk, idx, type, payload, notification_key, appended_at)
    SELECT ${sqlStorageKey("invocation_id")}, idx, type, payload, notification_key, appended_at FROM journal;
  DROP TABLE journal;
  ALTER TABLE journal_v2 RENAME TO journal;
  CREATE INDEX journal_notifications ON journal(sk, notification_key) WHERE notification_key IS NOT NULL;
  `,
];
