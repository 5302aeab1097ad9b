// Differential SQL: the same requests against the reference server and perdure, then the same questions to
// both `/query` endpoints (JSON): the answers must hold the same rows (ids and timestamps normalised).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCase, type CaseFn, type Exchange, type Side } from "./compare.ts";
import { startHarness, type Harness } from "./harness.ts";

const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {};

let harness: Harness | undefined;
before(async () => {
  harness = await startHarness(KNOWN_DIFFERENCES);
}, { timeout: 40_000 });
after(async () => {
  await harness?.dispose();
});

function diff(id: string, title: string, fn: CaseFn): void {
  test(`${id} ${title}`, (t) => {
    assert.ok(harness, "the servers did not start");
    return runCase(t, harness.differ, id, title, fn);
  });
}

const query = (s: Side, sql: string): Promise<Exchange> =>
  s.admin("/query", { json: { query: sql }, headers: { accept: "application/json" } });
const post = (s: Side, path: string, body: unknown) => s.ingress(path, { json: body });

diff("q.setup", "requests whose traces the queries read", async (s) => ({
  a: await post(s, "/Counter/qd1/add", 5),
  b: await post(s, "/Counter/qd1/add", 2),
  c: await post(s, "/Counter/qd2/add", 9),
  greet: await post(s, "/Greeter/greet", { name: "q" }),
  wf: await post(s, "/Signup/qdw/run/send", "in"),
  confirm: await post(s, "/Signup/qdw/confirm", "yes"),
  // Wait until the run finished (an attach would answer with or without idempotency-expires depending on whether
  // the run completed before it arrived), then read its output: the same on both servers.
  output: await completedOutput(s, "/restate/workflow/Signup/qdw/output"),
}));

/** Polls an output path until it answers 200 (at most 10 s) and returns that answer. */
async function completedOutput(s: Side, path: string): Promise<Exchange> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await s.ingress(path);
    if (res.status === 200 || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 20));
  }
}

diff("q.state", "state of two object keys", (s) =>
  query(s, "SELECT service_name, service_key, key, value_utf8, value FROM state WHERE service_name = 'Counter' AND service_key IN ('qd1', 'qd2') ORDER BY service_key, key"),
);

diff("q.invocations", "completed invocations by target, with their results", (s) =>
  query(
    s,
    "SELECT target, target_service_name, target_service_key, target_handler_name, target_service_ty, status, completion_result FROM sys_invocation " +
      "WHERE target_service_key IN ('qd1', 'qd2', 'qdw') ORDER BY target, created_at",
  ),
);

diff("q.count", "GROUP BY and COUNT", (s) =>
  query(s, "SELECT target_handler_name, COUNT(*) AS n FROM sys_invocation WHERE target_service_key IN ('qd1', 'qd2') GROUP BY target_handler_name ORDER BY target_handler_name"),
);

diff("q.promise", "a resolved workflow promise", (s) =>
  query(s, "SELECT service_name, service_key, key, completed, completion_success_value_utf8 FROM sys_promise WHERE service_key = 'qdw'"),
);

diff("q.journal", "journal entry types of an object call", (s) =>
  query(
    s,
    "SELECT j.index, j.entry_type FROM sys_journal j JOIN sys_invocation i ON i.id = j.id " +
      "WHERE i.target_service_key = 'qd2' AND j.entry_type LIKE 'Command: %' ORDER BY j.index",
  ),
);

diff("q.services", "registered services", (s) => query(s, "SELECT name, ty FROM sys_service WHERE name IN ('Counter', 'Greeter', 'Signup') ORDER BY name"));

diff("q.errors", "bad SQL and unknown tables", async (s) => ({
  syntax: await query(s, "selec 1"),
  unknown: await query(s, "SELECT * FROM nope"),
  get: await s.admin("/query"),
}));
