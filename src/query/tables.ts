// The tables `/query` serves, with the reference's names, columns and column types, as TEMP views over
// perdure's own tables (`main.invocations`, `main.journal`, …) on the reader connection, plus the
// `information_schema` that describes them.
//
// Invariants:
// - Every view reads perdure's tables through the `main.` schema: the view names shadow some of them (`state`).
// - Timestamps are RFC 3339 text with milliseconds and `Z` (sorting and MIN/MAX stay chronological), durations
//   ISO 8601 text ("PT86400S"), lists JSON text, booleans 0/1, binary columns blobs; the encoder turns them into
//   JSON or Arrow values with the column types declared here.
// - One column list per table feeds the view, the information_schema and the result typing.

import { sqlIdOfStorageKey, sqlStorageKey } from "../storage/sqlite/storage-key.ts";

export type ColumnType =
  | "Utf8"
  | "Int64"
  | "UInt64"
  | "UInt32"
  | "Float64"
  | "Boolean"
  | "Binary"
  | "Timestamp"
  | "Duration"
  | "ListUtf8"
  | "ListUInt32";

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** SQL expression over the view's FROM clause. */
  readonly sql: string;
}

export interface TableSpec {
  readonly name: string;
  /** What `information_schema.tables` reports (the reference's own kind of table). */
  readonly tableType: "BASE TABLE" | "VIEW";
  /** FROM (and WHERE) clause of the view. */
  readonly from: string;
  readonly columns: readonly ColumnSpec[];
}

/** Arrow data type names as the reference's `information_schema.columns.data_type` prints them. */
export const DATA_TYPE_NAMES: Record<ColumnType, string> = {
  Utf8: "LargeUtf8",
  Int64: "Int64",
  UInt64: "UInt64",
  UInt32: "UInt32",
  Float64: "Float64",
  Boolean: "Boolean",
  Binary: "LargeBinary",
  Timestamp: 'Timestamp(ms, "+00:00")',
  Duration: "Duration(ms)",
  ListUtf8: "List(LargeUtf8)",
  ListUInt32: "List(UInt32)",
};

/** ms since the epoch -> `2026-11-28T05:43:28.770Z` (NULL stays NULL). */
const ts = (ms: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', (${ms}) / 1000.0, 'unixepoch')`;
/** A field of the invocation record (JSON in `invocations.record`). */
const rec = (path: string, alias = "i") => `(${alias}.record ->> '$.${path}')`;
const col = (name: string, type: ColumnType, sql: string): ColumnSpec => ({ name, type, sql });

/** Statuses of perdure's records in which the invoker state (retries, last failure) means something. */
const ATTEMPT_STATUSES = "i.status IN ('running', 'backing-off', 'paused')";
const STARTED = "i.status NOT IN ('scheduled', 'inboxed')";
const whenAttempt = (sql: string) => `CASE WHEN ${ATTEMPT_STATUSES} THEN ${sql} END`;

const targetOf = (alias: string) => `${alias}.service || coalesce('/' || ${alias}.service_key, '') || '/' || ${alias}.handler`;
const callerId = rec("source.callerId");

/** Columns of sys_invocation_status (without partition_key, which sys_invocation does not have). */
const STATUS_COLUMNS: readonly ColumnSpec[] = [
  col("id", "Utf8", "i.id"),
  col("vqueue_id", "Utf8", "NULL"),
  col("status", "Utf8", "CASE WHEN i.status IN ('running', 'backing-off') THEN 'invoked' ELSE i.status END"),
  col("completion_result", "Utf8", `CASE WHEN i.status = 'completed' THEN ${rec("result.kind")} END`),
  col(
    "completion_failure",
    "Utf8",
    `CASE WHEN i.status = 'completed' AND ${rec("result.kind")} = 'failure' THEN '[' || ${rec("result.failure.code")} || '] ' || ${rec("result.failure.message")} END`,
  ),
  col("target", "Utf8", targetOf("i")),
  col("target_service_name", "Utf8", "i.service"),
  col("target_service_key", "Utf8", "i.service_key"),
  col("target_handler_name", "Utf8", "i.handler"),
  col("target_service_ty", "Utf8", rec("serviceType")),
  col("scope", "Utf8", "NULL"),
  col("limit_key", "Utf8", "NULL"),
  col("idempotency_key", "Utf8", "i.idempotency_key"),
  col("invoked_by", "Utf8", `CASE ${rec("source.kind")} WHEN 'ingress' THEN 'ingress' WHEN 'call' THEN 'service' WHEN 'send' THEN 'service' ELSE ${rec("source.kind")} END`),
  col("invoked_by_id", "Utf8", callerId),
  col("invoked_by_subscription_id", "Utf8", "NULL"),
  col("invoked_by_service_name", "Utf8", `(SELECT c.service FROM main.invocations c WHERE c.sk = ${sqlStorageKey(callerId)})`),
  col("invoked_by_target", "Utf8", `(SELECT ${targetOf("c")} FROM main.invocations c WHERE c.sk = ${sqlStorageKey(callerId)})`),
  col("restarted_from", "Utf8", "NULL"),
  col("pinned_deployment_id", "Utf8", rec("deploymentId")),
  col("pinned_service_protocol_version", "UInt32", rec("protocolVersion")),
  col("trace_id", "Utf8", "NULL"),
  col("journal_size", "UInt32", `CASE WHEN ${STARTED} THEN ${rec("journalLength")} END`),
  col("journal_commands_size", "UInt32", `CASE WHEN ${STARTED} THEN ${rec("commandCount")} END`),
  col("created_at", "Timestamp", ts("i.created_at")),
  col("created_using_restate_version", "Utf8", "NULL"),
  col("modified_at", "Timestamp", ts("i.modified_at")),
  col("inboxed_at", "Timestamp", `CASE WHEN i.status = 'inboxed' THEN ${ts("i.modified_at")} END`),
  col("scheduled_at", "Timestamp", `CASE WHEN ${rec("executionTime")} IS NOT NULL THEN ${ts("i.created_at")} END`),
  col("scheduled_start_at", "Timestamp", ts(rec("executionTime"))),
  col("running_at", "Timestamp", "NULL"),
  col("completed_at", "Timestamp", ts(rec("completedAt"))),
  col("completion_retention", "Duration", `perdure_iso_duration(${rec("completionRetentionMs")})`),
  col("journal_retention", "Duration", `perdure_iso_duration(${rec("journalRetentionMs")})`),
  col("suspended_waiting_for_completions", "ListUInt32", `CASE WHEN i.status = 'suspended' THEN i.record -> '$.awaiting.completions' END`),
  col("suspended_waiting_for_signals", "ListUInt32", `CASE WHEN i.status = 'suspended' THEN i.record -> '$.awaiting.signals' END`),
  col("suspended_waiting_future_json", "Utf8", `CASE WHEN i.status = 'suspended' THEN perdure_future_json(i.record -> '$.awaiting') END`),
];

const lastFailure = `'[' || ${rec("lastFailure.code")} || '] ' || ${rec("lastFailure.message")} || coalesce(char(10) || ${rec("lastFailure.stacktrace")}, '')`;
const related = (part: string) => `perdure_related_entry(${rec("lastFailure.relatedEntry")}, '${part}')`;

/** Columns of sys_invocation_state (without partition_key and id). */
const STATE_COLUMNS: readonly ColumnSpec[] = [
  col("in_flight", "Boolean", "i.status = 'running'"),
  col("retry_count", "UInt64", `CASE i.status WHEN 'running' THEN ${rec("failedAttempts")} + 1 ELSE ${rec("failedAttempts")} END`),
  col("last_start_at", "Timestamp", "NULL"),
  col("last_attempt_deployment_id", "Utf8", rec("deploymentId")),
  col("last_attempt_server", "Utf8", `(SELECT d.record ->> '$.sdkVersion' FROM main.deployments d WHERE d.id = ${rec("deploymentId")})`),
  col("next_retry_at", "Timestamp", `CASE WHEN i.status = 'backing-off' THEN ${ts(rec("nextRetryAt"))} END`),
  col("last_failure", "Utf8", `CASE WHEN ${rec("lastFailure.code")} IS NOT NULL THEN ${lastFailure} END`),
  col("last_failure_error_code", "Utf8", rec("lastFailure.errorCode")),
  col("last_failure_related_command_index", "UInt64", related("index")),
  col("last_failure_related_command_name", "Utf8", related("name")),
  col("last_failure_related_command_type", "Utf8", related("type")),
  col("last_failure_related_entry_index", "UInt64", related("index")),
  col("last_failure_related_entry_name", "Utf8", related("name")),
  col("last_failure_related_entry_type", "Utf8", related("type")),
  col("last_awaiting_on_future_json", "Utf8", "NULL"),
];

const partitionKey = (alias: string) => col("partition_key", "UInt64", `${alias}.partition_key`);

const SYS_INVOCATION_STATUS: TableSpec = {
  name: "sys_invocation_status",
  tableType: "BASE TABLE",
  from: "main.invocations i",
  columns: [partitionKey("i"), ...STATUS_COLUMNS],
};

const SYS_INVOCATION_STATE: TableSpec = {
  name: "sys_invocation_state",
  tableType: "BASE TABLE",
  from: `main.invocations i WHERE ${ATTEMPT_STATUSES}`,
  columns: [partitionKey("i"), col("id", "Utf8", "i.id"), ...STATE_COLUMNS],
};

/** The columns of the reference's sys_invocation view, in its order. */
const SYS_INVOCATION_ORDER = [
  "id", "vqueue_id", "target", "target_service_name", "target_service_key", "target_handler_name", "target_service_ty",
  "scope", "limit_key", "idempotency_key", "invoked_by", "invoked_by_service_name", "invoked_by_id",
  "invoked_by_subscription_id", "invoked_by_target", "restarted_from", "pinned_deployment_id",
  "pinned_service_protocol_version", "trace_id", "journal_size", "journal_commands_size", "created_at",
  "created_using_restate_version", "modified_at", "inboxed_at", "scheduled_at", "scheduled_start_at", "running_at",
  "completed_at", "completion_retention", "journal_retention", "suspended_waiting_for_completions",
  "suspended_waiting_for_signals", "suspended_waiting_future_json", "retry_count", "last_start_at", "next_retry_at",
  "last_attempt_deployment_id", "last_attempt_server", "last_failure", "last_failure_error_code",
  "last_failure_related_entry_index", "last_failure_related_entry_name", "last_failure_related_entry_type",
  "last_failure_related_command_index", "last_failure_related_command_name", "last_failure_related_command_type",
  "last_awaiting_on_future_json", "status", "completion_result", "completion_failure",
];

/** sys_invocation: the status columns, the invoker state where there is one, and the status as users see it. */
const SYS_INVOCATION: TableSpec = (() => {
  const byName = new Map<string, ColumnSpec>();
  for (const c of STATUS_COLUMNS) byName.set(c.name, c);
  for (const c of STATE_COLUMNS) byName.set(c.name, { ...c, sql: whenAttempt(c.sql) });
  byName.set("status", col("status", "Utf8", "CASE i.status WHEN 'inboxed' THEN 'pending' ELSE i.status END"));
  return { name: "sys_invocation", tableType: "VIEW", from: "main.invocations i", columns: SYS_INVOCATION_ORDER.map((n) => byName.get(n)!) };
})();

/** A fact of a journal entry, decoded by the registered function (memoised per entry within a query). */
/** The invocation id of a journal row (the journal is keyed by the storage key, see storage-key.ts). */
const journalId = sqlIdOfStorageKey("j.sk");
const fact = (what: string) => `perdure_journal_fact(j.sk, j.idx, j.type, j.payload, '${what}')`;
const invokedId = `(SELECT perdure_call_invocation_id(n.type, n.payload) FROM main.journal n WHERE n.sk = j.sk AND n.notification_key = 'c:' || ${fact("invocation_id_completion")})`;
const NOTIFICATION_TYPES = "j.type BETWEEN 32768 AND 64511";

const SYS_JOURNAL: TableSpec = {
  name: "sys_journal",
  tableType: "BASE TABLE",
  from: "main.journal j",
  columns: [
    col("partition_key", "UInt64", "(SELECT i.partition_key FROM main.invocations i WHERE i.sk = j.sk)"),
    col("id", "Utf8", journalId),
    col("index", "UInt32", "j.idx"),
    col("entry_type", "Utf8", "perdure_entry_type(j.type)"),
    col("name", "Utf8", fact("name")),
    col(
      "completed",
      "Boolean",
      `CASE WHEN ${NOTIFICATION_TYPES} THEN 1 WHEN ${fact("completion")} IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM main.journal n WHERE n.sk = j.sk AND n.notification_key = 'c:' || ${fact("completion")}) END`,
    ),
    col("invoked_id", "Utf8", invokedId),
    col("invoked_target", "Utf8", fact("invoked_target")),
    col("sleep_wakeup_at", "Timestamp", ts(fact("sleep_wakeup_at"))),
    col("promise_name", "Utf8", fact("promise_name")),
    col("raw", "Binary", "j.payload"),
    col("raw_length", "UInt64", "length(j.payload)"),
    col("version", "UInt32", "2"),
    col("entry_json", "Utf8", `perdure_entry_json(j.sk, j.idx, j.type, j.payload, ${invokedId}, 0)`),
    col("entry_lite_json", "Utf8", `perdure_entry_json(j.sk, j.idx, j.type, j.payload, ${invokedId}, 1)`),
    col("appended_at", "Timestamp", ts("j.appended_at")),
  ],
};

const STATE: TableSpec = {
  name: "state",
  tableType: "BASE TABLE",
  from: "main.state s",
  columns: [
    partitionKey("s"),
    col("scope", "Utf8", "NULL"),
    col("service_name", "Utf8", "s.service"),
    col("service_key", "Utf8", "s.service_key"),
    col("key", "Utf8", "CAST(s.state_key AS TEXT)"),
    col("key_length", "UInt64", "length(s.state_key)"),
    col("value_utf8", "Utf8", "perdure_utf8(s.value)"),
    col("value", "Binary", "s.value"),
    col("value_length", "UInt64", "length(s.value)"),
  ],
};

const SYS_INBOX: TableSpec = {
  name: "sys_inbox",
  tableType: "BASE TABLE",
  from: "main.invocations i WHERE i.status = 'inboxed'",
  columns: [
    partitionKey("i"),
    col("service_name", "Utf8", "i.service"),
    col("service_key", "Utf8", "i.service_key"),
    col("id", "Utf8", "i.id"),
    col("sequence_number", "UInt64", "i.inbox_seq"),
    col("created_at", "Timestamp", ts("i.created_at")),
  ],
};

const SYS_KEYED_SERVICE_STATUS: TableSpec = {
  name: "sys_keyed_service_status",
  tableType: "BASE TABLE",
  from: "main.locks l",
  columns: [
    partitionKey("l"),
    col("service_name", "Utf8", "l.service"),
    col("service_key", "Utf8", "l.service_key"),
    col("invocation_id", "Utf8", "l.invocation_id"),
  ],
};

/** Completed promises, and promises somebody waits for (callbacks on "promise:<service>/<key>/<name>"). */
const promisePrefix = "'promise:' || w.service || '/' || w.service_key || '/'";
const SYS_PROMISE: TableSpec = {
  name: "sys_promise",
  tableType: "BASE TABLE",
  from: `(
      SELECT p.partition_key, p.service, p.service_key, p.name, 1 AS completed, p.value, p.failure FROM main.promises p
      UNION ALL
      SELECT DISTINCT w.partition_key, w.service, w.service_key, substr(cb.target, length(${promisePrefix}) + 1), 0, NULL, NULL
      FROM main.callbacks cb JOIN main.invocations w ON w.sk = ${sqlStorageKey("cb.invocation_id")}
      WHERE substr(cb.target, 1, 8) = 'promise:' AND w.service_key IS NOT NULL
        AND substr(cb.target, 1, length(${promisePrefix})) = ${promisePrefix}
        AND NOT EXISTS (SELECT 1 FROM main.promises q WHERE q.service = w.service AND q.service_key = w.service_key
                        AND q.name = substr(cb.target, length(${promisePrefix}) + 1))
    ) p`,
  columns: [
    partitionKey("p"),
    col("scope", "Utf8", "NULL"),
    col("service_name", "Utf8", "p.service"),
    col("service_key", "Utf8", "p.service_key"),
    col("key", "Utf8", "p.name"),
    col("completed", "Boolean", "p.completed"),
    col("completion_success_value", "Binary", "p.value"),
    col("completion_success_value_utf8", "Utf8", "perdure_utf8(p.value)"),
    col("completion_failure", "Utf8", "CASE WHEN p.failure IS NOT NULL THEN '[' || (p.failure ->> '$.code') || '] ' || (p.failure ->> '$.message') END"),
  ],
};

const SYS_SERVICE: TableSpec = {
  name: "sys_service",
  tableType: "BASE TABLE",
  from: "main.services s",
  columns: [
    col("name", "Utf8", "s.name"),
    col("revision", "UInt64", "s.record ->> '$.revision'"),
    col("public", "Boolean", "coalesce(s.record ->> '$.overrides.public', NOT coalesce(s.record ->> '$.definition.options.ingressPrivate', 0))"),
    col("ty", "Utf8", "s.record ->> '$.definition.ty'"),
    col("deployment_id", "Utf8", "s.record ->> '$.deploymentId'"),
  ],
};

const SYS_DEPLOYMENT: TableSpec = {
  name: "sys_deployment",
  tableType: "BASE TABLE",
  from: "main.deployments d",
  columns: [
    col("id", "Utf8", "d.id"),
    col("ty", "Utf8", "'http'"),
    col("endpoint", "Utf8", "d.record ->> '$.uri'"),
    col("created_at", "Timestamp", ts("d.record ->> '$.createdAt'")),
    col("min_service_protocol_version", "UInt32", "d.record ->> '$.minProtocolVersion'"),
    col("max_service_protocol_version", "UInt32", "d.record ->> '$.maxProtocolVersion'"),
    col("services", "ListUtf8", "(SELECT json_group_array(s.value ->> '$.name') FROM json_each(d.record, '$.services') s)"),
  ],
};

export const TABLES: readonly TableSpec[] = [
  SYS_INVOCATION,
  SYS_INVOCATION_STATUS,
  SYS_INVOCATION_STATE,
  SYS_JOURNAL,
  STATE,
  SYS_INBOX,
  SYS_KEYED_SERVICE_STATUS,
  SYS_PROMISE,
  SYS_SERVICE,
  SYS_DEPLOYMENT,
];

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** `CREATE TEMP VIEW` statements, one per table. */
export function viewStatements(): string[] {
  return TABLES.map((t) => `CREATE TEMP VIEW ${quote(t.name)} AS SELECT ${t.columns.map((c) => `${c.sql} AS ${quote(c.name)}`).join(", ")} FROM ${t.from}`);
}

// --- information_schema

interface InfoTable {
  readonly name: string;
  readonly columns: ReadonlyArray<readonly [string, ColumnType]>;
}

const INFO_TABLES: readonly InfoTable[] = [
  {
    name: "tables",
    columns: [
      ["table_catalog", "Utf8"],
      ["table_schema", "Utf8"],
      ["table_name", "Utf8"],
      ["table_type", "Utf8"],
    ],
  },
  {
    name: "columns",
    columns: [
      ["table_catalog", "Utf8"],
      ["table_schema", "Utf8"],
      ["table_name", "Utf8"],
      ["column_name", "Utf8"],
      ["ordinal_position", "UInt64"],
      ["column_default", "Utf8"],
      ["is_nullable", "Utf8"],
      ["data_type", "Utf8"],
      ["character_maximum_length", "UInt64"],
      ["character_octet_length", "UInt64"],
      ["numeric_precision", "UInt64"],
      ["numeric_precision_radix", "UInt64"],
      ["numeric_scale", "UInt64"],
      ["datetime_precision", "UInt64"],
      ["interval_type", "Utf8"],
    ],
  },
  {
    name: "schemata",
    columns: [
      ["catalog_name", "Utf8"],
      ["schema_name", "Utf8"],
      ["schema_owner", "Utf8"],
      ["default_character_set_catalog", "Utf8"],
      ["default_character_set_schema", "Utf8"],
      ["default_character_set_name", "Utf8"],
      ["sql_path", "Utf8"],
    ],
  },
];

const CATALOG = "restate";

/** The rows of the information_schema tables, as SQL statements for an empty in-memory database. */
export function informationSchemaStatements(): string[] {
  const lit = (v: string | number | null) => (v === null ? "NULL" : typeof v === "number" ? String(v) : `'${v.replaceAll("'", "''")}'`);
  const out: string[] = [];
  for (const t of INFO_TABLES) out.push(`CREATE TABLE ${quote(t.name)} (${t.columns.map(([n]) => quote(n)).join(", ")})`);
  const tableRows: Array<[string, string, string]> = [
    ...TABLES.map((t): [string, string, string] => ["public", t.name, t.tableType]),
    ...INFO_TABLES.map((t): [string, string, string] => ["information_schema", t.name, "VIEW"]),
  ];
  for (const [schema, name, type] of tableRows) out.push(`INSERT INTO tables VALUES (${[CATALOG, schema, name, type].map(lit).join(", ")})`);
  const columnRows: Array<[string, string, string, number, string, ColumnType]> = [];
  for (const t of TABLES) t.columns.forEach((c, i) => columnRows.push(["public", t.name, c.name, i, t.name === "sys_invocation" && c.name === "status" ? "NO" : "YES", c.type]));
  for (const t of INFO_TABLES) t.columns.forEach(([c, type], i) => columnRows.push(["information_schema", t.name, c, i, "YES", type]));
  for (const [schema, table, column, position, nullable, type] of columnRows) {
    out.push(
      `INSERT INTO columns (table_catalog, table_schema, table_name, column_name, ordinal_position, is_nullable, data_type) VALUES (${[
        CATALOG,
        schema,
        table,
        column,
        position,
        nullable,
        DATA_TYPE_NAMES[type],
      ]
        .map(lit)
        .join(", ")})`,
    );
  }
  out.push(`INSERT INTO schemata (catalog_name, schema_name) VALUES ('${CATALOG}', 'public'), ('${CATALOG}', 'information_schema')`);
  return out;
}

/** Type of every column name across all tables; names whose type differs between tables are left out. */
export function columnTypesByName(): Map<string, ColumnType> {
  const types = new Map<string, ColumnType>();
  const conflicting = new Set<string>();
  const add = (name: string, type: ColumnType) => {
    const known = types.get(name);
    if (known !== undefined && known !== type) conflicting.add(name);
    types.set(name, type);
  };
  for (const t of TABLES) for (const c of t.columns) add(c.name, c.type);
  for (const t of INFO_TABLES) for (const [c, type] of t.columns) add(c, type);
  for (const name of conflicting) types.delete(name);
  return types;
}
