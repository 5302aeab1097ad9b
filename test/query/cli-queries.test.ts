// The SQL the `restate` CLI 1.7.12 sends on `/query` (see ../shared/design/restate-cli-endpoints.md), run
// through the query engine against a perdure with invocations in every status: each template runs in the
// format the CLI asks for (Arrow for its counts and `restate sql`, JSON otherwise) and returns the rows a
// user of the reference would see. The CLI's service names (CliGreeter, CliCounter, CliFlow) are the test
// services Greeter, Counter and Signup here.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "apache-arrow";
import { startScenario, type Scenario } from "./harness.ts";

let s: Scenario;
before(async () => {
  s = await startScenario();
});
after(async () => {
  await s?.close();
});

const q = (ids: readonly string[]) => ids.map((id) => `'${id}'`).join(",");
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// --- the templates of cli/src/clients/datafusion_helpers/v2.rs, as the CLI formats them

const countSql = (filter: string) => `SELECT COUNT(1) FROM (SELECT * FROM sys_invocation inv LIMIT 50000 )${filter ? ` WHERE ${filter}` : ""}`;
const idsSql = (filter: string, limit = 100) => `SELECT id FROM sys_invocation inv ${filter ? `WHERE ${filter} ` : ""}ORDER BY inv.created_at DESC, inv.id LIMIT ${limit}`;
const DESCRIBE_COLUMNS =
  "inv.id, inv.target, inv.target_service_ty, inv.idempotency_key, inv.status, inv.created_at, inv.modified_at as state_modified_at, inv.pinned_deployment_id, inv.retry_count as num_retries, inv.last_failure as last_failure_message, inv.last_failure_related_entry_index as last_failure_entry_index, inv.last_failure_related_entry_name as last_failure_entry_name, inv.last_failure_related_entry_type as last_failure_entry_ty, inv.last_attempt_deployment_id, inv.last_attempt_server, inv.next_retry_at, inv.last_start_at, inv.invoked_by_id, inv.invoked_by_target, inv.trace_id, inv.completion_result, inv.completion_failure, dp.id IS NOT NULL as pinned_deployment_exists";
const describeSql = (filter: string, ids: readonly string[], order = " ORDER BY inv.created_at DESC, inv.id") =>
  `SELECT ${DESCRIBE_COLUMNS} FROM sys_invocation inv LEFT JOIN sys_deployment dp ON dp.id = inv.pinned_deployment_id WHERE ${filter ? `${filter} AND ` : ""}inv.id in (${q(ids)})${order}`;
const simpleSql = (id: string, condition: string) => `SELECT id, target FROM sys_invocation_status WHERE id = '${id}' AND ${condition} LIMIT 500`;
const journalSql = (id: string) =>
  `SELECT sj.index, sj.entry_type, sj.completed, sj.invoked_id, sj.invoked_target, sj.sleep_wakeup_at, sj.name, sj.promise_name, sj.version, sj.entry_json, sj.appended_at FROM sys_journal sj WHERE sj.id = '${id}' ORDER BY index DESC LIMIT 100`;

/** `restate invocations list [filters]`: the count (Arrow), the ids (JSON), then the details of those ids (JSON). */
async function invocationsList(filter: string): Promise<{ count: bigint; ids: string[]; rows: Array<Record<string, unknown>> }> {
  const count = (await s.arrow(countSql(filter))).getChildAt(0)!.get(0) as bigint;
  const ids = (await s.json(idsSql(filter))).map((r) => r.id as string);
  const rows = ids.length === 0 ? [] : await s.json(describeSql(filter, ids));
  assert.deepEqual(
    rows.map((r) => r.id),
    ids,
    "the details come in the order of the ids",
  );
  return { count, ids, rows };
}

const sorted = (xs: readonly unknown[]) => [...xs].map(String).sort();

describe("restate invocations list", () => {
  test("without filters: every invocation that is not completed", async () => {
    const { ids } = s;
    const { count, ids: listed, rows } = await invocationsList("status != 'completed'");
    const active = [ids.running, ids.blocker, ids.inboxed, ids.scheduled, ids.suspended, ids.backingOff, ids.paused, ids.workflow];
    assert.deepEqual(sorted(listed), sorted(active));
    assert.equal(count, BigInt(active.length));
    assert.ok(rows.every((r) => r.status !== "completed"));
  });

  test("--all: completed ones too, newest first", async () => {
    const { count, ids: listed, rows } = await invocationsList("");
    for (const id of Object.values(s.ids)) assert.ok(listed.includes(id), `${id} listed`);
    assert.equal(count, BigInt(listed.length));
    const created = rows.map((r) => r.created_at as string);
    assert.deepEqual(created, [...created].sort().reverse(), "ORDER BY inv.created_at DESC");
  });

  test("--service, --key, --handler", async () => {
    const byService = await invocationsList("inv.target_service_name IN ('Counter') AND status != 'completed'");
    assert.deepEqual(sorted(byService.ids), sorted([s.ids.blocker, s.ids.inboxed]));
    assert.equal(byService.count, 2n);
    const byKey = await invocationsList(`inv.target_service_name IN ('Counter') AND inv.target_handler_name IN ('add') AND inv.target_service_key IN ('${s.blockedKey}') AND status != 'completed'`);
    assert.deepEqual(byKey.ids, [s.ids.inboxed]);
    const keyOnly = await invocationsList(`inv.target_service_name IN ('Counter') AND inv.target_service_key IN ('${s.blockedKey}') AND status != 'completed'`);
    assert.deepEqual(sorted(keyOnly.ids), sorted([s.ids.blocker, s.ids.inboxed]));
    const all = await invocationsList("inv.target_service_name IN ('Greeter')");
    for (const id of [s.ids.completed, s.ids.failed, s.ids.running, s.ids.scheduled]) assert.ok(all.ids.includes(id));
    const handler = await invocationsList("inv.target_service_name IN ('QueryProbe') AND inv.target_handler_name IN ('failSlow')");
    assert.deepEqual(handler.ids, [s.ids.backingOff]);
  });

  test("--status, one per status", async () => {
    const cases: Array<[string, string[]]> = [
      ["status IN ('paused')", [s.ids.paused]],
      ["status IN ('backing-off')", [s.ids.backingOff]],
      ["status IN ('pending')", [s.ids.inboxed]],
      ["status IN ('scheduled')", [s.ids.scheduled]],
      ["status IN ('running','suspended')", [s.ids.running, s.ids.blocker, s.ids.suspended, s.ids.workflow]],
    ];
    for (const [filter, expected] of cases) {
      const { count, ids, rows } = await invocationsList(filter);
      assert.deepEqual(sorted(ids), sorted(expected), filter);
      assert.equal(count, BigInt(expected.length), filter);
      assert.ok(rows.length === expected.length, filter);
    }
    const completed = await invocationsList("status IN ('completed')");
    for (const id of [s.ids.completed, s.ids.failed, s.ids.counterAdd, s.ids.caller]) assert.ok(completed.ids.includes(id));
    const failures = await invocationsList("status = 'completed' AND inv.completion_result = 'failure'");
    assert.deepEqual(failures.ids, [s.ids.failed]);
  });

  test("the details row of each kind of invocation", async () => {
    const rows = await s.json(describeSql("", Object.values(s.ids)));
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    const backingOff = byId.get(s.ids.backingOff)!;
    assert.equal(backingOff.status, "backing-off");
    assert.equal(backingOff.target, "QueryProbe/failSlow");
    assert.equal(backingOff.target_service_ty, "service");
    assert.equal(backingOff.num_retries, 1);
    assert.match(backingOff.last_failure_message as string, /^\[500\] always failing slowly/);
    assert.match(backingOff.next_retry_at as string, RFC3339);
    assert.ok(Date.parse(backingOff.next_retry_at as string) > Date.now() + 60_000, "next retry in about 10 minutes");
    assert.equal(backingOff.pinned_deployment_id, s.deploymentId);
    assert.equal(backingOff.last_attempt_deployment_id, s.deploymentId);
    assert.match(backingOff.last_attempt_server as string, /^restate-sdk-typescript\//);
    assert.equal(backingOff.pinned_deployment_exists, true);

    const inboxed = byId.get(s.ids.inboxed)!;
    assert.equal(inboxed.status, "pending");
    assert.equal(inboxed.target, `Counter/${s.blockedKey}/add`);
    assert.equal(inboxed.target_service_ty, "virtual_object");
    assert.equal(inboxed.pinned_deployment_exists, false, "a boolean even when false");
    assert.equal("pinned_deployment_id" in inboxed, false, "NULL columns are left out");

    const failed = byId.get(s.ids.failed)!;
    assert.equal(failed.status, "completed");
    assert.equal(failed.completion_result, "failure");
    assert.equal(failed.completion_failure, "[418] boom");
    assert.equal(byId.get(s.ids.completed)!.completion_result, "success");
    assert.equal(byId.get(s.ids.workflow)!.target, `Signup/${s.workflowKey}/run`);
    assert.equal(byId.get(s.ids.workflow)!.target_service_ty, "workflow");
    for (const r of rows) {
      assert.match(r.created_at as string, RFC3339);
      assert.match(r.state_modified_at as string, RFC3339);
    }
    // The callee of the caller's call names its caller.
    const callee = await s.json(`SELECT ${DESCRIBE_COLUMNS} FROM sys_invocation inv LEFT JOIN sys_deployment dp ON dp.id = inv.pinned_deployment_id WHERE inv.invoked_by_id = '${s.ids.caller}' ORDER BY inv.target`);
    assert.deepEqual(
      callee.map((r) => [r.target, r.invoked_by_target]),
      [
        ["Greeter/greet", "QueryProbe/caller"],
        ["Greeter/noop", "QueryProbe/caller"],
      ],
    );
  });

  test("the query of CLIs that take perdure for a server older than 1.5 (RIGHT JOIN over a CTE)", async () => {
    const sql = `WITH invocations as (SELECT inv.id, inv.target, inv.target_service_ty, inv.target_service_name, idempotency_key, inv.status, inv.created_at, inv.modified_at as state_modified_at, inv.pinned_deployment_id, inv.retry_count as num_retries, inv.last_failure as last_failure_message, inv.last_failure_related_entry_index as last_failure_entry_index, inv.last_failure_related_entry_name as last_failure_entry_name, inv.last_failure_related_entry_type as last_failure_entry_ty, inv.last_attempt_deployment_id, inv.last_attempt_server, inv.next_retry_at, inv.last_start_at, inv.invoked_by_id, inv.invoked_by_target, inv.trace_id, inv.completion_result, inv.completion_failure FROM sys_invocation inv WHERE status != 'completed' ORDER BY inv.created_at DESC, inv.id LIMIT 100) SELECT inv.*, dp.id IS NOT NULL as pinned_deployment_exists FROM sys_deployment dp RIGHT JOIN invocations inv ON dp.id = inv.pinned_deployment_id ORDER BY inv.created_at DESC, inv.id`;
    const rows = await s.json(sql);
    assert.equal(rows.length, 8);
    for (const r of rows) assert.equal(typeof r.pinned_deployment_exists, "boolean");
    assert.equal(rows.find((r) => r.id === s.ids.scheduled)!.pinned_deployment_exists, false);
    assert.equal(rows.find((r) => r.id === s.ids.suspended)!.pinned_deployment_exists, true);
  });
});

describe("restate invocations describe", () => {
  test("looks the invocation up, checks the journal columns, reads the journal", async () => {
    assert.deepEqual(await s.json(`SELECT id FROM sys_invocation inv WHERE inv.id = '${s.ids.caller}' LIMIT 1`), [{ id: s.ids.caller }]);
    assert.deepEqual(await s.json("SELECT id FROM sys_invocation inv WHERE inv.id = 'inv_11p1X73lTrLy0T9xHmxPeU1aO0VL9HxriA' LIMIT 1"), []);
    const details = await s.json(describeSql(`inv.id = '${s.ids.caller}'`, [s.ids.caller], ""));
    assert.equal(details.length, 1);
    const promise = await s.arrow("SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'sys_journal' AND column_name IN ('promise_name')");
    assert.equal(promise.getChildAt(0)!.get(0), 1n);
    assert.equal(promise.schema.fields[0]!.type.typeId, Type.Int, "the CLI reads column 0 as Int64");
    const v2 = await s.arrow("SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'sys_journal' AND column_name IN ('version', 'entry_json', 'appended_at')");
    assert.equal(v2.getChildAt(0)!.get(0), 3n);

    const journal = await s.json(journalSql(s.ids.caller));
    assert.deepEqual(
      journal.map((r) => [r.index, r.entry_type]),
      [
        [8, "Command: Output"],
        [7, "Notification: Signal"],
        [6, "Command: CompleteAwakeable"],
        [5, "Notification: CallInvocationId"],
        [4, "Command: OneWayCall"],
        [3, "Notification: Call"],
        [2, "Notification: CallInvocationId"],
        [1, "Command: Call"],
        [0, "Command: Input"],
      ],
    );
    const greet = (await s.json(`SELECT id FROM sys_invocation WHERE invoked_by_id = '${s.ids.caller}' AND target = 'Greeter/greet'`))[0]!.id;
    const call = journal.find((r) => r.entry_type === "Command: Call")!;
    assert.equal(call.invoked_id, greet);
    assert.equal(call.invoked_target, "Greeter/greet");
    assert.equal(call.completed, true);
    assert.equal(call.version, 2);
    assert.equal(call.name, "");
    assert.match(call.appended_at as string, RFC3339);
    const entry = JSON.parse(call.entry_json as string) as { Command: { Call: { request: { invocation_id: string; invocation_target: unknown } } } };
    assert.equal(entry.Command.Call.request.invocation_id, greet);
    assert.deepEqual(entry.Command.Call.request.invocation_target, { Service: { name: "Greeter", handler: "greet", scope: null } });
    for (const r of journal) {
      assert.equal(r.version, 2);
      assert.ok(typeof r.entry_json === "string" && JSON.parse(r.entry_json as string), `entry_json of #${r.index}`);
      if ((r.entry_type as string).startsWith("Notification")) {
        assert.equal(r.completed, true);
        assert.equal("name" in r, false);
      }
    }
  });

  test("a sleep shows its wake-up time and is not completed; a workflow shows the promise it awaits", async () => {
    const sleep = (await s.json(journalSql(s.ids.suspended))).find((r) => r.entry_type === "Command: Sleep")!;
    assert.equal(sleep.completed, false);
    assert.match(sleep.sleep_wakeup_at as string, RFC3339);
    assert.ok(Math.abs(Date.parse(sleep.sleep_wakeup_at as string) - (Date.now() + 600_000)) < 60_000);
    const entry = JSON.parse(sleep.entry_json as string) as { Command: { Sleep: { wake_up_time: number; completion_id: number } } };
    assert.equal(entry.Command.Sleep.wake_up_time, Date.parse(sleep.sleep_wakeup_at as string));
    const wf = await s.json(journalSql(s.ids.workflow));
    const get = wf.find((r) => r.entry_type === "Command: GetPromise")!;
    assert.equal(get.promise_name, "confirm");
    assert.equal(get.completed, false);
    assert.ok(wf.some((r) => r.entry_type === "Command: SetState"));
  });
});

describe("restate invocations cancel|kill|purge|pause|resume|restart-as-new (the lookup before the action)", () => {
  test("each finds the invocations its action applies to", async () => {
    const one = async (id: string, condition: string) => (await s.json(simpleSql(id, condition))).map((r) => [r.id, r.target]);
    // cancel, kill
    assert.deepEqual(await one(s.ids.suspended, "status != 'completed'"), [[s.ids.suspended, "QueryProbe/suspend"]]);
    assert.deepEqual(await one(s.ids.inboxed, "status != 'completed'"), [[s.ids.inboxed, `Counter/${s.blockedKey}/add`]]);
    assert.deepEqual(await one(s.ids.completed, "status != 'completed'"), []);
    // purge, restart-as-new
    assert.deepEqual(await one(s.ids.completed, "status = 'completed'"), [[s.ids.completed, "Greeter/greet"]]);
    assert.deepEqual(await one(s.ids.suspended, "status = 'completed'"), []);
    // pause: running and backing-off invocations are 'invoked' in sys_invocation_status
    assert.deepEqual(await one(s.ids.suspended, "status IN ('invoked', 'suspended')"), [[s.ids.suspended, "QueryProbe/suspend"]]);
    assert.deepEqual(await one(s.ids.running, "status IN ('invoked', 'suspended')"), [[s.ids.running, "Greeter/sleep"]]);
    assert.deepEqual(await one(s.ids.backingOff, "status IN ('invoked', 'suspended')"), [[s.ids.backingOff, "QueryProbe/failSlow"]]);
    assert.deepEqual(await one(s.ids.scheduled, "status IN ('invoked', 'suspended')"), []);
    // resume
    assert.deepEqual(await one(s.ids.paused, "status IN ('paused', 'invoked', 'suspended')"), [[s.ids.paused, "QueryProbe/failPause"]]);
  });
});

describe("restate services status", () => {
  const services = "('Signup','Greeter','Counter')";
  test("pending invocations per handler (sys_invocation_status, FIRST_VALUE … ORDER BY)", async () => {
    const rows = await s.json(
      `SELECT target_service_name, target_handler_name, 'pending' as status, COUNT(1) as num_invocations, MIN(created_at) as oldest_at, FIRST_VALUE(id ORDER BY created_at ASC) as oldest_invocation FROM sys_invocation_status WHERE status == 'inboxed' AND target_service_name IN ${services} GROUP BY target_service_name, target_handler_name`,
    );
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.equal(row!.target_service_name, "Counter");
    assert.equal(row!.target_handler_name, "add");
    assert.equal(row!.status, "pending");
    assert.equal(row!.num_invocations, 1);
    assert.equal(row!.oldest_invocation, s.ids.inboxed);
    assert.match(row!.oldest_at as string, RFC3339);
  });

  test("invocations per handler and status", async () => {
    const rows = await s.json(
      `SELECT target_service_name, target_handler_name, status, COUNT(1) as num_invocations, MIN(created_at) as oldest_at, FIRST_VALUE(id ORDER BY created_at ASC) as oldest_invocation FROM sys_invocation WHERE target_service_name IN ${services} GROUP BY target_service_name, target_handler_name, status ORDER BY target_handler_name`,
    );
    const handlers = rows.map((r) => r.target_handler_name as string);
    assert.deepEqual(handlers, [...handlers].sort(), "ORDER BY target_handler_name");
    const find = (service: string, handler: string, status: string) => rows.find((r) => r.target_service_name === service && r.target_handler_name === handler && r.status === status);
    assert.equal(find("Greeter", "sleep", "running")?.oldest_invocation, s.ids.running);
    assert.equal(find("Counter", "block", "running")?.oldest_invocation, s.ids.blocker);
    assert.equal(find("Counter", "add", "pending")?.oldest_invocation, s.ids.inboxed);
    assert.equal(find("Greeter", "greet", "scheduled")?.oldest_invocation, s.ids.scheduled);
    assert.equal(find("Greeter", "fail", "completed")?.num_invocations, 1);
    for (const r of rows) assert.match(r.oldest_at as string, RFC3339);
  });

  test("the inbox of each key", async () => {
    const rows = await s.json(
      "SELECT service_name, service_key, COUNT(1) as num_pending FROM sys_inbox WHERE service_name IN ('Signup','Counter') GROUP BY service_name, service_key ORDER BY num_pending DESC",
    );
    assert.deepEqual(rows, [{ service_name: "Counter", service_key: s.blockedKey, num_pending: 1 }]);
  });

  test("who holds each key (first_value as an aggregate)", async () => {
    const rows = await s.json(
      "SELECT target_service_name as service_name, target_service_key as service_key, status as invocation_status, first_value(id) as invocation_holding_lock, first_value(target_handler_name) as invocation_method_holding_lock, first_value(created_at) as invocation_created_at, first_value(modified_at) as modified_at, first_value(pinned_deployment_id) as pinned_deployment_id, first_value(last_attempt_deployment_id) as last_attempt_deployment_id, first_value(last_failure) as last_failure_message, first_value(next_retry_at) as next_retry_at, first_value(last_start_at) as last_start_at, 0 as num_pending, sum(retry_count) as num_retries FROM sys_invocation WHERE status != 'pending' AND target_service_name IN ('Signup','Counter') GROUP BY target_service_name, target_service_key, status",
    );
    const held = rows.find((r) => r.service_key === s.blockedKey)!;
    assert.equal(held.invocation_status, "running");
    assert.equal(held.invocation_holding_lock, s.ids.blocker);
    assert.equal(held.invocation_method_holding_lock, "block");
    assert.equal(held.pinned_deployment_id, s.deploymentId);
    assert.equal(held.num_pending, 0);
    assert.equal(held.num_retries, 1);
    assert.match(held.invocation_created_at as string, RFC3339);
    const wf = rows.find((r) => r.service_key === s.workflowKey)!;
    assert.equal(wf.invocation_holding_lock, s.ids.workflow);
  });

  test("services status <service>: the latest invocations", async () => {
    const ids = (await s.json("SELECT id FROM sys_invocation inv WHERE inv.target_service_name = 'Counter' ORDER BY inv.created_at DESC, inv.id LIMIT 5")).map((r) => r.id);
    assert.deepEqual(ids.slice(0, 2), [s.ids.inboxed, s.ids.blocker]);
    const rows = await s.json(describeSql("inv.target_service_name = 'Counter'", ids as string[]));
    assert.deepEqual(
      rows.map((r) => r.id),
      ids,
    );
  });
});

describe("restate deployments list|describe|remove --extra", () => {
  test("active invocations pinned to the deployment: a count (Arrow) and per handler (JSON)", async () => {
    const pinned = [s.ids.running, s.ids.blocker, s.ids.suspended, s.ids.backingOff, s.ids.paused, s.ids.workflow];
    const count = await s.arrow(`SELECT COUNT(1) AS inv_count FROM sys_invocation_status WHERE pinned_deployment_id = '${s.deploymentId}' AND status != 'completed'`);
    assert.equal(count.schema.fields[0]!.name, "inv_count");
    assert.equal(count.getChild("inv_count")!.get(0), BigInt(pinned.length));
    const rows = await s.json(
      `SELECT target_service_name as service, target_handler_name as handler, COUNT(1) AS inv_count FROM sys_invocation_status WHERE pinned_deployment_id = '${s.deploymentId}' AND status != 'completed' GROUP BY pinned_deployment_id, target_service_name, target_handler_name`,
    );
    const byHandler = Object.fromEntries(rows.map((r) => [`${r.service}/${r.handler}`, r.inv_count]));
    assert.deepEqual(byHandler, { "Greeter/sleep": 1, "Counter/block": 1, "QueryProbe/suspend": 1, "QueryProbe/failSlow": 1, "QueryProbe/failPause": 1, "Signup/run": 1 });
    assert.deepEqual(await s.json("SELECT target_service_name FROM sys_invocation_status WHERE pinned_deployment_id = 'dp_10000000000000000000000' AND status != 'completed'"), []);
  });
});

describe("restate state get|patch|edit|clear", () => {
  test("reads the state of an object as hex", async () => {
    const rows = await s.json(`select key, value from state where service_name = 'Counter' and service_key = '${s.stateKey}' ;`);
    assert.deepEqual(rows, [{ key: "count", value: Buffer.from("5").toString("hex") }]);
    const clear = await s.json(`SELECT service_name, service_key, key, value FROM state WHERE service_name = 'Counter' AND service_key = '${s.stateKey}'`);
    assert.deepEqual(clear, [{ service_name: "Counter", service_key: s.stateKey, key: "count", value: "35" }]);
    assert.deepEqual(await s.json(`select key, value from state where service_name = 'Counter' and service_key = 'empty-${s.stateKey}' ;`), []);
  });
});

describe("restate sql (Arrow)", () => {
  test("tables, filters and ordering", async () => {
    const five = await s.arrow("select id, status from sys_invocation limit 5");
    assert.equal(five.numRows, 5);
    assert.deepEqual(
      five.schema.fields.map((f) => f.name),
      ["id", "status"],
    );
    const greeter = await s.arrow(
      `select id, target_handler_name, status from sys_invocation where target_service_name = 'Greeter' and id in ('${s.ids.failed}', '${s.ids.scheduled}', '${s.ids.running}') order by target_handler_name`,
    );
    assert.deepEqual(
      greeter.toArray().map((r) => [r.id, r.target_handler_name, r.status]),
      [
        [s.ids.failed, "fail", "completed"],
        [s.ids.scheduled, "greet", "scheduled"],
        [s.ids.running, "sleep", "running"],
      ],
    );
    const one = await s.arrow(`select id, status, target_service_name from sys_invocation where id = '${s.ids.failed}'`);
    assert.deepEqual(one.toArray()[0]!.toJSON(), { id: s.ids.failed, status: "completed", target_service_name: "Greeter" });
    const state = await s.arrow(`select key, value_utf8 from state where service_name = 'Signup' and service_key = '${s.workflowKey}' order by key`);
    assert.deepEqual(
      state.toArray().map((r) => [r.key, r.value_utf8]),
      [
        ["runs", "1"],
        ["status", '"waiting"'],
      ],
    );
    const full = await s.arrow(`select service_name, service_key, key, value_utf8 from state where service_name = 'Signup' and service_key = '${s.workflowKey}' order by key`);
    assert.equal(full.numRows, 2);
  });

  test("an unknown table is a 500 with a message, as the reference", async () => {
    const reply = await s.raw("select nope from no_such_table", "arrow");
    assert.equal(reply.status, 500);
    assert.equal(reply.contentType, "application/json");
    assert.match((JSON.parse(reply.body.toString()) as { message: string }).message, /no_such_table/);
  });
});

describe("the other tables", () => {
  test("sys_keyed_service_status, sys_promise, sys_service, sys_deployment, sys_invocation_state", async () => {
    assert.deepEqual(await s.json(`SELECT service_name, service_key, invocation_id FROM sys_keyed_service_status WHERE service_key = '${s.blockedKey}'`), [
      { service_name: "Counter", service_key: s.blockedKey, invocation_id: s.ids.blocker },
    ]);
    assert.deepEqual(await s.json(`SELECT service_name, service_key, key, completed FROM sys_promise WHERE service_key = '${s.workflowKey}'`), [
      { service_name: "Signup", service_key: s.workflowKey, key: "confirm", completed: false },
    ]);
    const services = await s.json("SELECT name, revision, public, ty, deployment_id FROM sys_service ORDER BY name");
    assert.deepEqual(
      services.find((r) => r.name === "Counter"),
      { name: "Counter", revision: 1, public: true, ty: "virtual_object", deployment_id: s.deploymentId },
    );
    const [deployment] = await s.json("SELECT * FROM sys_deployment");
    assert.equal(deployment!.id, s.deploymentId);
    assert.equal(deployment!.ty, "http");
    assert.match(deployment!.endpoint as string, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(deployment!.created_at as string, RFC3339);
    assert.ok((deployment!.services as string[]).includes("QueryProbe"));
    const state = await s.json(`SELECT id, in_flight, retry_count FROM sys_invocation_state WHERE id IN (${q([s.ids.running, s.ids.backingOff, s.ids.completed])}) ORDER BY retry_count`);
    assert.deepEqual(
      sorted(state.map((r) => `${r.id} ${r.in_flight} ${r.retry_count}`)),
      sorted([`${s.ids.running} true 1`, `${s.ids.backingOff} false 1`]),
    );
  });

  test("information_schema describes every table", async () => {
    const tables = (await s.json("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")).map((r) => r.table_name);
    assert.deepEqual(tables, [
      "state",
      "sys_deployment",
      "sys_inbox",
      "sys_invocation",
      "sys_invocation_state",
      "sys_invocation_status",
      "sys_journal",
      "sys_keyed_service_status",
      "sys_promise",
      "sys_service",
    ]);
    const columns = await s.json("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'sys_journal' ORDER BY ordinal_position");
    assert.deepEqual(columns.slice(0, 4), [
      { column_name: "partition_key", data_type: "UInt64" },
      { column_name: "id", data_type: "LargeUtf8" },
      { column_name: "index", data_type: "UInt32" },
      { column_name: "entry_type", data_type: "LargeUtf8" },
    ]);
    // Every described column can be selected by its bare name, and `SELECT *` gives them in that order.
    for (const table of tables) {
      const names = (await s.json(`SELECT column_name FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`)).map((r) => r.column_name as string);
      const reply = await s.raw(`SELECT ${names.join(", ")} FROM ${table}`, "arrow");
      assert.equal(reply.status, 200, `${table}: ${reply.body.toString()}`);
      assert.deepEqual(
        (await s.arrow(`SELECT * FROM ${table} LIMIT 1`)).schema.fields.map((f) => f.name),
        names,
        table,
      );
    }
  });
});
