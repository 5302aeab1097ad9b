// End to end, the durability test: perdure runs as a child process on a SQLite data dir and is SIGKILLed while
// handlers are in flight, then restarted on the same data dir and ports. Every accepted invocation must
// complete with its journaled steps replayed, not re-executed: a `ctx.run` step acknowledged before the crash
// runs exactly once. The SDK services run in this process and record every execution of a run closure in a
// side-effect log file (test/services/steps.ts).
//
// Scenarios: killed during a slow `ctx.run` (several invocations at once); killed while the handler sleeps
// in `ctx.sleep` (the durable timer fires after the restart, on its original schedule); SIGTERM exits 0 and a
// sleeping invocation survives that too; registrations and completed results survive restarts.
import assert from "node:assert/strict";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import { startServices, type ServicesServer } from "../services/index.ts";
import { SIDE_EFFECT_LOG_ENV, executionCount } from "../services/steps.ts";
import { registerDeployment, waitFor } from "../support/admin-client.ts";
import { http } from "../support/http.ts";
import { startPerdure, type PerdureProcess } from "../support/perdure-process.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";
import { uniqueKey, type SendAck } from "./harness.ts";

let perdure: PerdureProcess | undefined;
let services: ServicesServer | undefined;
let tempDir: string | undefined;
let logFile = "";

before(async () => {
  tempDir = await makeTempDir("perdure-restart-");
  logFile = path.join(tempDir, "side-effects.log");
  // Read by the Steps service at each execution of a run closure (it runs in this process).
  process.env[SIDE_EFFECT_LOG_ENV] = logFile;
  services = await startServices(0, { quiet: true });
  perdure = await startPerdure({ dataDir: path.join(tempDir, "data"), extraArgs: ["--log-level", "warn"] });
  const reg = await registerDeployment(perdure.adminUrl, services.url);
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
});

after(async () => {
  try {
    await perdure?.dispose();
  } finally {
    await services?.close();
    if (tempDir) await removeTempDir(tempDir);
  }
});

function server(): PerdureProcess {
  assert.ok(perdure, "perdure did not start");
  return perdure;
}

/** SIGKILL, then start again on the same data dir; fails with perdure's logs if the kill was not a kill. */
async function crashAndRestart(): Promise<void> {
  const status = await server().kill("SIGKILL");
  assert.equal(status.signal, "SIGKILL", server().logs());
  await server().restart();
}

function send(handler: string, input: unknown, idempotencyKey: string) {
  return http(`${server().ingressUrl}/Steps/${handler}/send`, { json: input, headers: { "idempotency-key": idempotencyKey } });
}

/** Attach by idempotency key, retrying while the connection fails (perdure restarting). */
function attachByKey(handler: string, idempotencyKey: string) {
  return waitFor(async () => {
    const res = await http(`${server().ingressUrl}/restate/invocation/Steps/${handler}/${idempotencyKey}/attach`);
    return res.status === 200 ? res : (assert.fail(`attach: ${res.status} ${res.text}`) as never);
  }, 20_000);
}

/**
 * The due time of the durable sleep timer of `invocationId` once perdure has committed it, read from the data
 * dir (white box: the crash must hit while the timer is stored, not before).
 */
function sleepTimerDueAt(invocationId: string): number | undefined {
  const db = new DatabaseSync(path.join(server().dataDir, "perdure.sqlite"), { readOnly: true });
  try {
    const row = db.prepare("SELECT due_at FROM timers WHERE invocation_id = ? AND kind = 'sleep'").get(invocationId) as
      | { due_at: number | bigint }
      | undefined;
    return row ? Number(row.due_at) : undefined;
  } finally {
    db.close();
  }
}

test("SIGKILL during a slow ctx.run: after restart every invocation completes, acknowledged steps ran once", { timeout: 30_000 }, async () => {
  const runs = [1, 2, 3].map(() => ({ id: uniqueKey("slow"), idem: uniqueKey("idem") }));
  for (const r of runs) {
    const res = await send("twoStepsSlowRun", { id: r.id, waitMs: 1500 }, r.idem);
    assert.equal(res.status, 202, res.text);
    assert.equal((res.json as SendAck).status, "Accepted");
  }
  // The "wait" closure starts only after the "first" run was acknowledged, i.e. committed by perdure.
  await waitFor(() => runs.every((r) => executionCount(r.id, "wait", logFile) >= 1), 10_000);
  for (const r of runs) assert.equal(executionCount(r.id, "second", logFile), 0, "killed too late: the second step already ran");

  await crashAndRestart();

  for (const r of runs) {
    const res = await attachByKey("twoStepsSlowRun", r.idem);
    assert.deepEqual(res.json, { first: 1, second: 1 }, res.text);
    assert.equal(executionCount(r.id, "first", logFile), 1, `${r.id}: first step re-executed`);
    assert.equal(executionCount(r.id, "second", logFile), 1, `${r.id}: second step ran ${executionCount(r.id, "second", logFile)} times`);
    // The interrupted closure was never acknowledged, so it ran again after the restart.
    assert.ok(executionCount(r.id, "wait", logFile) >= 1);
  }
  // The send is still deduplicated after the restart.
  const again = await send("twoStepsSlowRun", { id: runs[0]!.id, waitMs: 1500 }, runs[0]!.idem);
  assert.equal(again.status, 202, again.text);
  assert.equal((again.json as SendAck).status, "PreviouslyAccepted");
});

test("SIGKILL while the handler sleeps in ctx.sleep: the timer fires after restart, on its original schedule", { timeout: 30_000 }, async () => {
  const id = uniqueKey("sleep");
  const idem = uniqueKey("idem");
  const waitMs = 2000;
  const sent = await send("twoStepsSleep", { id, waitMs }, idem);
  assert.equal(sent.status, 202, sent.text);
  const invocationId = (sent.json as SendAck).invocationId;

  const dueAt = await waitFor(() => sleepTimerDueAt(invocationId), 10_000);
  assert.equal(executionCount(id, "first", logFile), 1);
  assert.equal(executionCount(id, "second", logFile), 0);

  await crashAndRestart();
  const restartedAt = Date.now();
  assert.equal(executionCount(id, "second", logFile), 0, "the second step ran before the timer was due");

  const res = await attachByKey("twoStepsSleep", idem);
  const completedAt = Date.now();
  assert.deepEqual(res.json, { first: 1, second: 1 }, res.text);
  assert.equal(res.headers.get("x-restate-id"), invocationId);
  assert.equal(executionCount(id, "first", logFile), 1, "first step re-executed after the restart");
  assert.equal(executionCount(id, "second", logFile), 1);
  assert.ok(completedAt >= dueAt - 20, `completed ${dueAt - completedAt} ms before the timer was due`);
  // Fired on the stored schedule, not a fresh sleep of waitMs counted from the restart.
  assert.ok(
    completedAt < Math.max(dueAt, restartedAt) + waitMs / 2,
    `completed ${completedAt - dueAt} ms after the due time (restart took until ${restartedAt - dueAt} ms after it)`,
  );
});

test("registrations and completed results survive a crash", { timeout: 30_000 }, async () => {
  const call = await http(`${server().ingressUrl}/Greeter/greet`, { json: { name: "durable" } });
  assert.equal(call.status, 200, call.text);
  const id = call.headers.get("x-restate-id")!;
  const key = uniqueKey("ctr");
  assert.equal((await http(`${server().ingressUrl}/Counter/${key}/add`, { json: 41 })).json, 41);

  await crashAndRestart();

  const deployments = await http(`${server().adminUrl}/deployments`);
  assert.equal((deployments.json as { deployments: unknown[] }).deployments.length, 1, deployments.text);
  const output = await http(`${server().ingressUrl}/restate/invocation/${id}/output`);
  assert.equal(output.status, 200, output.text);
  assert.equal(output.json, "Hello DURABLE");
  assert.equal((await http(`${server().ingressUrl}/Counter/${key}/add`, { json: 1 })).json, 42, "object state lost");
  const health = await http(`${server().ingressUrl}/restate/health`);
  assert.ok((health.json as { services: string[] }).services.includes("Steps"), health.text);
});

test("SIGTERM exits 0; a sleeping invocation completes after the restart", { timeout: 30_000 }, async () => {
  const id = uniqueKey("term");
  const idem = uniqueKey("idem");
  const sent = await send("twoStepsSleep", { id, waitMs: 1000 }, idem);
  const invocationId = (sent.json as SendAck).invocationId;
  await waitFor(() => sleepTimerDueAt(invocationId), 10_000);

  const status = await server().kill("SIGTERM");
  assert.deepEqual(status, { code: 0, signal: null }, server().logs());
  await server().restart();

  const res = await attachByKey("twoStepsSleep", idem);
  assert.deepEqual(res.json, { first: 1, second: 1 }, res.text);
  assert.equal(executionCount(id, "first", logFile), 1);
  assert.equal(executionCount(id, "second", logFile), 1);

  assert.equal(await server().stop(), 0, server().logs());
});
