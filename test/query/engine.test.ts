// The query engine on a data file written directly through the SQLite store: the JSON and Arrow shapes of
// `/query` (NULL columns left out, lower-case hex, RFC 3339 timestamps, exact u64, booleans, lists, durations),
// what it refuses (anything but one SELECT, perdure's own tables), errors, the timeout, that it never blocks
// the writer, and the HTTP route `serveQuery`.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { tableFromIPC, Type, TimeUnit, type Table } from "apache-arrow";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.ts";
import { deployment, invocation, serviceRecord } from "../../src/storage/contract/fixtures.ts";
import { createQueryEngine, serveQuery, type QueryEngine } from "../../src/query/index.ts";
import { encodeCommand, MessageType } from "../../src/protocol/index.ts";
import { encodeNotification } from "../../src/protocol/notifications.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";

const TIMEOUT_MS = 1_500;
const T0 = Date.UTC(2026, 10, 28, 5, 43, 28, 770);
const BIG_PK = 2n ** 64n - 2n;

let dataDir: string;
let store: SqliteStore;
let engine: QueryEngine;

before(async () => {
  dataDir = await makeTempDir("perdure-query-engine-");
  store = new SqliteStore({ dataDir, fsync: false });
  const dp = deployment("dp_1", { sdkVersion: "restate-sdk-typescript/1.17.2", createdAt: T0 });
  await store.putDeployment(dp);
  await store.putServices([
    serviceRecord("Counter", { definition: { name: "Counter", ty: "virtual_object", handlers: [], options: {} } }),
    serviceRecord("Hidden", { definition: { name: "Hidden", ty: "service", handlers: [], options: { ingressPrivate: true } } }),
  ]);
  await store.transaction(async (t) => {
    await t.putInvocation(
      invocation({
        id: "inv_done",
        status: "completed",
        partitionKey: BIG_PK,
        deploymentId: "dp_1",
        protocolVersion: 6,
        journalLength: 2,
        commandCount: 2,
        createdAt: T0,
        modifiedAt: T0 + 5,
        completedAt: T0 + 5,
        result: { kind: "success", value: Buffer.from('"ok"') },
      }),
    );
    await t.putInvocation(
      invocation({
        id: "inv_sleeping",
        key: "k2",
        handler: "block",
        status: "suspended",
        deploymentId: "dp_1",
        journalLength: 2,
        commandCount: 2,
        awaiting: { completions: [1], signals: [1], names: [] },
        createdAt: T0 + 10,
        modifiedAt: T0 + 20,
      }),
    );
    await t.appendJournal("inv_sleeping", {
      index: 0,
      type: MessageType.InputCommand,
      payload: encodeCommand({ type: MessageType.InputCommand, headers: [{ key: "x-restate-ingress-path", value: "/Counter/k2/block" }], value: Buffer.from("{}"), name: "" }),
      notificationKey: undefined,
      appendedAt: T0 + 10,
    });
    await t.appendJournal("inv_sleeping", {
      index: 1,
      type: MessageType.SleepCommand,
      payload: encodeCommand({ type: MessageType.SleepCommand, wakeUpTime: T0 + 60_000, resultCompletionId: 1, name: "nap" }),
      notificationKey: undefined,
      appendedAt: T0 + 11,
    });
    await t.putInvocation(
      invocation({
        id: "inv_retrying",
        key: "k3",
        status: "backing-off",
        deploymentId: "dp_1",
        failedAttempts: 2,
        lastFailure: { code: 500, message: "boom", stacktrace: "Error: boom\n    at step", errorCode: "RT0007", relatedEntry: "Command: Run #3 'step'" },
        nextRetryAt: T0 + 1_000,
        createdAt: T0 + 30,
        modifiedAt: T0 + 40,
      }),
    );
    await t.appendJournal("inv_retrying", {
      index: 0,
      type: MessageType.RunCompletion,
      payload: encodeNotification({ id: { completionId: 1 }, result: { kind: "value", value: Buffer.from("1") } }),
      notificationKey: "c:1",
      appendedAt: T0 + 31,
    });
    await t.setState(7n, "Counter", "k1", Buffer.from("count"), Buffer.from("5"));
    await t.setState(7n, "Counter", "k1", Buffer.from("raw"), Buffer.from([0x00, 0xff, 0xab]));
  });
  engine = createQueryEngine({ dataFile: store.path, timeoutMs: TIMEOUT_MS });
});

after(async () => {
  await engine?.close();
  store?.close();
  await removeTempDir(dataDir);
});

async function json(sql: string): Promise<Array<Record<string, unknown>>> {
  const reply = await engine.query(sql, "json");
  assert.equal(reply.status, 200, `${sql}: ${reply.body.toString()}`);
  assert.equal(reply.contentType, "application/json");
  return (JSON.parse(reply.body.toString()) as { rows: Array<Record<string, unknown>> }).rows;
}

async function arrow(sql: string): Promise<Table> {
  const reply = await engine.query(sql, "arrow");
  assert.equal(reply.status, 200, `${sql}: ${reply.body.toString()}`);
  assert.equal(reply.contentType, "application/vnd.apache.arrow.stream");
  return tableFromIPC(reply.body);
}

async function error(sql: string): Promise<{ status: number; message: string }> {
  const reply = await engine.query(sql, "json");
  assert.equal(reply.contentType, "application/json");
  return { status: reply.status, message: (JSON.parse(reply.body.toString()) as { message: string }).message };
}

describe("JSON replies", () => {
  test("{rows: [...]}, NULL columns left out, as the reference", async () => {
    const reply = await engine.query("select null as n, 1 as one", "json");
    assert.equal(reply.contentType, "application/json");
    assert.equal(reply.body.toString(), '{"rows":[{"one":1}]}');
    assert.deepEqual(await json("SELECT id FROM sys_invocation WHERE id = 'nope'"), []);
  });

  test("binary columns are lower-case hex; value_utf8 only for UTF-8 values", async () => {
    assert.deepEqual(await json("SELECT key, value, value_utf8, value_length FROM state ORDER BY key"), [
      { key: "count", value: "35", value_utf8: "5", value_length: 1 },
      { key: "raw", value: "00ffab", value_length: 3 },
    ]);
    assert.deepEqual(await json("SELECT x'00FFab' AS b"), [{ b: "00ffab" }]);
  });

  test("timestamps are RFC 3339 with milliseconds, durations ISO 8601, lists arrays, u64 exact, booleans", async () => {
    const [done] = await json("SELECT * FROM sys_invocation_status WHERE id = 'inv_done'");
    assert.equal(done!.created_at, "2026-11-28T05:43:28.770Z");
    assert.equal(done!.completed_at, "2026-11-28T05:43:28.775Z");
    assert.equal(done!.completion_retention, "PT86400S");
    const raw = (await engine.query("SELECT partition_key FROM sys_invocation_status WHERE id = 'inv_done'", "json")).body.toString();
    assert.equal(raw, `{"rows":[{"partition_key":${BIG_PK}}]}`, "written exactly, not rounded");
    const [sleeping] = await json("SELECT * FROM sys_invocation WHERE id = 'inv_sleeping'");
    assert.deepEqual(sleeping!.suspended_waiting_for_completions, [1]);
    assert.deepEqual(sleeping!.suspended_waiting_for_signals, [1]);
    assert.equal(sleeping!.suspended_waiting_future_json, '{"Unknown":[{"Single":{"CompletionId":1}},{"Single":{"SignalIndex":1}}]}');
    assert.equal(sleeping!.status, "suspended");
    const services = await json("SELECT name, public FROM sys_service ORDER BY name");
    assert.deepEqual(services, [
      { name: "Counter", public: true },
      { name: "Hidden", public: false },
    ]);
    assert.deepEqual(await json("SELECT 1 = 1 AS yes, 1 = 2 AS no, 2.5 AS f"), [{ yes: true, no: false, f: 2.5 }]);
    const text = (await engine.query("SELECT 9007199254740993 AS big", "json")).body.toString();
    assert.equal(text, '{"rows":[{"big":9007199254740993}]}');
  });

  test("the invoker state of a retrying invocation", async () => {
    const [row] = await json(
      "SELECT status, retry_count, next_retry_at, last_failure, last_failure_error_code, last_failure_related_entry_index, last_failure_related_entry_name, last_failure_related_entry_type, last_attempt_server FROM sys_invocation WHERE id = 'inv_retrying'",
    );
    assert.deepEqual(row, {
      status: "backing-off",
      retry_count: 2,
      next_retry_at: "2026-11-28T05:43:29.770Z",
      last_failure: "[500] boom\nError: boom\n    at step",
      last_failure_error_code: "RT0007",
      last_failure_related_entry_index: 3,
      last_failure_related_entry_name: "step",
      last_failure_related_entry_type: "Run",
      last_attempt_server: "restate-sdk-typescript/1.17.2",
    });
  });

  test("journal entries decoded", async () => {
    assert.deepEqual(await json("SELECT index, entry_type, name, completed, sleep_wakeup_at, entry_lite_json FROM sys_journal WHERE id = 'inv_sleeping' ORDER BY index"), [
      { index: 0, entry_type: "Command: Input", name: "", entry_lite_json: '{"Command":{"Input":{}}}' },
      {
        index: 1,
        entry_type: "Command: Sleep",
        name: "nap",
        completed: false,
        sleep_wakeup_at: "2026-11-28T05:44:28.770Z",
        entry_lite_json: `{"Command":{"Sleep":{"wake_up_time":${T0 + 60_000},"completion_id":1,"name":"nap"}}}`,
      },
    ]);
    assert.deepEqual(await json("SELECT entry_type, completed, entry_json FROM sys_journal WHERE id = 'inv_retrying'"), [
      { entry_type: "Notification: Run", completed: true, entry_json: '{"Notification":{"Completion":{"Run":{"completion_id":1,"result":{"Success":[49]}}}}}' },
    ]);
  });

  test("SQL the reference's users write: joins, GROUP BY, COUNT, LIKE, CTEs, window functions", async () => {
    assert.deepEqual(await json("SELECT status, COUNT(*) AS n FROM sys_invocation GROUP BY status ORDER BY status"), [
      { status: "backing-off", n: 1 },
      { status: "completed", n: 1 },
      { status: "suspended", n: 1 },
    ]);
    assert.deepEqual(await json("SELECT i.id, d.endpoint FROM sys_invocation i JOIN sys_deployment d ON d.id = i.pinned_deployment_id WHERE i.target LIKE 'counter/k2/%'"), [
      { id: "inv_sleeping", endpoint: "http://localhost:9080/dp_1" },
    ]);
    assert.deepEqual(await json("WITH s AS (SELECT id, created_at FROM sys_invocation) SELECT id, row_number() OVER (ORDER BY created_at DESC) AS r FROM s ORDER BY r LIMIT 2"), [
      { id: "inv_retrying", r: 1 },
      { id: "inv_sleeping", r: 2 },
    ]);
    assert.deepEqual(await json("SELECT FIRST_VALUE(id ORDER BY created_at DESC) AS newest, last_value(id) OVER () AS any FROM sys_invocation LIMIT 1").then((r) => Object.keys(r[0]!)), ["newest", "any"]);
    assert.deepEqual(await json("SELECT CAST(retry_count AS STRING) AS s, arrow_typeof(1) AS t FROM sys_invocation WHERE id = 'inv_retrying'"), [{ s: "2", t: "Int64" }]);
    assert.equal((await json("SELECT now() AS t"))[0]!.t!.toString().length, 24);
    assert.deepEqual(await json("DESCRIBE sys_service"), [
      { column_name: "name", data_type: "LargeUtf8", is_nullable: "YES" },
      { column_name: "revision", data_type: "UInt64", is_nullable: "YES" },
      { column_name: "public", data_type: "Boolean", is_nullable: "YES" },
      { column_name: "ty", data_type: "LargeUtf8", is_nullable: "YES" },
      { column_name: "deployment_id", data_type: "LargeUtf8", is_nullable: "YES" },
    ]);
    assert.equal((await json("SHOW TABLES")).length, 13);
  });

  test("queries see what was committed after the engine started", async () => {
    await store.transaction((t) => t.putInvocation(invocation({ id: "inv_later", status: "scheduled", executionTime: T0 + 600_000, createdAt: T0 + 50, modifiedAt: T0 + 50 })));
    assert.deepEqual(await json("SELECT id, status, scheduled_at, scheduled_start_at FROM sys_invocation WHERE id = 'inv_later'"), [
      { id: "inv_later", status: "scheduled", scheduled_at: "2026-11-28T05:43:28.820Z", scheduled_start_at: "2026-11-28T05:53:28.770Z" },
    ]);
    await store.transaction((t) => t.deleteInvocation("inv_later"));
  });
});

describe("Arrow replies", () => {
  test("round trip with the column types of the reference", async () => {
    const table = await arrow(
      "SELECT id, partition_key, created_at, completion_retention, journal_size, suspended_waiting_for_completions, status = 'completed' AS done FROM sys_invocation_status ORDER BY created_at",
    );
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, f.type]));
    assert.equal(types.id!.typeId, Type.LargeUtf8);
    assert.equal(types.partition_key!.typeId, Type.Int);
    assert.equal((types.partition_key as unknown as { isSigned: boolean; bitWidth: number }).isSigned, false);
    assert.equal(types.created_at!.typeId, Type.Timestamp);
    assert.equal((types.created_at as unknown as { unit: TimeUnit }).unit, TimeUnit.MILLISECOND);
    assert.equal(types.completion_retention!.typeId, Type.Duration);
    assert.equal(types.journal_size!.typeId, Type.Int);
    assert.equal(types.suspended_waiting_for_completions!.typeId, Type.List);
    assert.equal(types.done!.typeId, Type.Bool);
    const [done, sleeping] = table.toArray();
    assert.equal(done!.id, "inv_done");
    assert.equal(done!.partition_key, BIG_PK);
    assert.equal(done!.created_at, T0);
    assert.equal(done!.completion_retention, 86_400_000n);
    assert.equal(done!.done, true);
    assert.equal(sleeping!.done, false);
    assert.deepEqual([...sleeping!.suspended_waiting_for_completions], [1]);
  });

  test("COUNT is Int64 (the CLI reads column 0 of batch 0 as Int64); binary stays bytes; empty results keep their schema", async () => {
    const count = await arrow("SELECT COUNT(1) FROM (SELECT * FROM sys_invocation inv LIMIT 50000 ) WHERE inv.status != 'completed'");
    assert.equal(count.schema.fields[0]!.type.typeId, Type.Int);
    assert.equal((count.schema.fields[0]!.type as unknown as { bitWidth: number }).bitWidth, 64);
    assert.equal(count.getChildAt(0)!.get(0), 2n);
    const state = await arrow("SELECT key, value FROM state WHERE key = 'raw'");
    assert.equal(state.schema.fields[1]!.type.typeId, Type.LargeBinary);
    assert.deepEqual([...(state.getChild("value")!.get(0) as Uint8Array)], [0x00, 0xff, 0xab]);
    const empty = await arrow("SELECT id, created_at FROM sys_invocation WHERE id = 'nope'");
    assert.equal(empty.numRows, 0);
    assert.deepEqual(
      empty.schema.fields.map((f) => [f.name, f.type.typeId]),
      [
        ["id", Type.LargeUtf8],
        ["created_at", Type.Timestamp],
      ],
    );
  });
});

describe("what the engine refuses", () => {
  test("bad SQL is a 400 with a message", async () => {
    for (const sql of ["selec 1", "SELECT FROM WHERE", "SELECT 'unterminated", ""]) {
      const e = await error(sql);
      assert.equal(e.status, 400, sql);
      assert.ok(e.message.length > 0);
    }
  });

  test("an unknown table or column is a 500, as the reference; perdure's own tables are not there", async () => {
    for (const sql of ["SELECT * FROM nope", "SELECT nope FROM sys_invocation", "SELECT * FROM invocations", "SELECT * FROM main.journal", "SELECT name FROM sqlite_master"]) {
      const e = await error(sql);
      assert.equal(e.status, 500, `${sql}: ${e.message}`);
    }
    assert.match((await error("SELECT * FROM invocations")).message, /no such table: invocations/);
  });

  test("only one SELECT: writes, PRAGMA, ATTACH and several statements are 400, and nothing changes", async () => {
    for (const sql of [
      "DELETE FROM state",
      "WITH x AS (SELECT 1) DELETE FROM state",
      "INSERT INTO information_schema.tables VALUES ('a', 'b', 'c', 'd')",
      "UPDATE sys_invocation SET status = 'x'",
      "PRAGMA writable_schema = 1",
      "ATTACH ':memory:' AS other",
      "DROP VIEW sys_invocation",
      "SELECT 1; DELETE FROM state",
      "VACUUM",
    ]) {
      const e = await error(sql);
      assert.equal(e.status, 400, `${sql}: ${e.message}`);
    }
    assert.equal((await json("SELECT COUNT(*) AS n FROM state"))[0]!.n, 2);
    assert.deepEqual(await json("SELECT 1 AS one;"), [{ one: 1 }]);
  });

  test("a query that runs too long is stopped with a clear error; the writer is never blocked; the next query runs", async () => {
    const runaway = engine.query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", "json");
    // While it runs: perdure commits (WAL lets the reader's snapshot and the writer coexist) and this process
    // stays responsive (the query runs in another process).
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await store.transaction((t) => t.setState(7n, "Counter", "k9", Buffer.from("during"), Buffer.from("1")));
    assert.ok(Date.now() - started < 500, `a commit during a query took ${Date.now() - started} ms`);
    const reply = await runaway;
    assert.equal(reply.status, 500);
    assert.match((JSON.parse(reply.body.toString()) as { message: string }).message, new RegExp(`ran longer than ${TIMEOUT_MS} ms`));
    assert.deepEqual(await json("SELECT value_utf8 FROM state WHERE service_key = 'k9'"), [{ value_utf8: "1" }]);
    await store.transaction((t) => t.clearAllState("Counter", "k9"));
  });

  test("queries sent together are answered in turn", async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => engine.query(`SELECT ${i} AS i`, "json")));
    assert.deepEqual(
      replies.map((r) => r.body.toString()),
      Array.from({ length: 10 }, (_, i) => `{"rows":[{"i":${i}}]}`),
    );
  });
});

describe("engine lifecycle", () => {
  test("the in-memory store has no /query", async () => {
    const memory = createQueryEngine({ dataFile: undefined });
    const reply = await memory.query("SELECT 1", "json");
    assert.equal(reply.status, 503);
    assert.deepEqual(JSON.parse(reply.body.toString()), { message: "query not available for the in-memory store" });
    await memory.close();
  });

  test("a data file that cannot be opened is a 503; after close, 503", async () => {
    const missing = createQueryEngine({ dataFile: `${dataDir}/missing.sqlite` });
    const reply = await missing.query("SELECT 1", "json");
    assert.equal(reply.status, 503);
    assert.match((JSON.parse(reply.body.toString()) as { message: string }).message, /query process could not start/);
    await missing.close();
    assert.equal((await missing.query("SELECT 1", "json")).status, 503);
  });
});

describe("serveQuery (the admin route)", () => {
  let server: http.Server;
  let url: string;
  before(async () => {
    server = http.createServer((req, res) => {
      void serveQuery(engine, req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/query`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (body: string, headers: Record<string, string> = { "content-type": "application/json" }) => fetch(url, { method: "POST", headers, body });

  test("accept: application/json gives exactly application/json; otherwise an Arrow stream", async () => {
    const asJson = await post(JSON.stringify({ query: "select 1 as one" }), { "content-type": "application/json", accept: "application/json" });
    assert.equal(asJson.status, 200);
    assert.equal(asJson.headers.get("content-type"), "application/json");
    assert.deepEqual(await asJson.json(), { rows: [{ one: 1 }] });
    const asArrow = await post(JSON.stringify({ query: "select 1 as one" }), { "content-type": "application/json", accept: "*/*" });
    assert.equal(asArrow.headers.get("content-type"), "application/vnd.apache.arrow.stream");
    const table = tableFromIPC(new Uint8Array(await asArrow.arrayBuffer()));
    assert.equal(table.getChild("one")!.get(0), 1n);
    const bad = await post(JSON.stringify({ query: "selec 1" }), { "content-type": "application/json", accept: "application/json" });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get("content-type"), "application/json");
    assert.ok(((await bad.json()) as { message: string }).message);
  });

  test("GET is 405 with allow: POST and an empty body; bad bodies are plain-text 415/400/422", async () => {
    const get = await fetch(url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    assert.equal(await get.text(), "");
    const noType = await post(JSON.stringify({ query: "select 1" }), {});
    assert.equal(noType.status, 415);
    const badJson = await post("{");
    assert.equal(badJson.status, 400);
    assert.match(badJson.headers.get("content-type")!, /^text\/plain/);
    const missing = await post("{}");
    assert.equal(missing.status, 422);
    assert.match(await missing.text(), /missing field `query`/);
  });
});
