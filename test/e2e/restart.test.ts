// End to end, the durability test: perdure runs as a child process on a SQLite data dir and is SIGKILLed while
// handlers are in flight, then restarted on the same data dir and ports. Every accepted invocation must
// complete with its journaled steps replayed, not re-executed: a `ctx.run` step acknowledged before the crash
// runs exactly once. The SDK services run in this process and record every execution of a run closure in a
// side-effect log file (test/services/steps.ts).
//
// Scenarios: killed during a slow `ctx.run` (several invocations at once); killed while the handler sleeps
// in `ctx.sleep` (the durable timer fires after the restart, on its original schedule); killed with an object
// key locked and a call queued behind it, a delayed send and a workflow awaiting its promise; killed while one
// handler awaits an awakeable and another a sleeping callee; killed right after a burst of acknowledged sends
// (registrations, results and object state survive too); SIGTERM exits 0 and a sleeping invocation survives
// that too. Tests run in order and share one perdure process. One white-box read: the data dir's `timers`
// table tells when a sleep is durably stored, so the crash lands while the handler is sleeping.
import assert from "node:assert/strict";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, test } from "node:test";
import * as restate from "@restatedev/restate-sdk";
import { greeter } from "../services/greeter.ts";
import { allServices, startServices, type ServicesServer } from "../services/index.ts";
import { SIDE_EFFECT_LOG_ENV, executionCount } from "../services/steps.ts";
import { registerDeployment, waitFor } from "../support/admin-client.ts";
import { http } from "../support/http.ts";
import { startPerdure, type PerdureProcess } from "../support/perdure-process.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";
import { uniqueKey, type SendAck } from "./harness.ts";

/** Awakeable ids published by `CrashProbe/awaitAwakeable`, by tag. */
const awakeables = new Map<string, string>();
/** Invocation ids of the callees of `CrashProbe/callSleeper`, by tag. */
const callees = new Map<string, string>();

/** Handlers whose waits cross process boundaries: an awakeable, and a call to a sleeping callee. */
const crashProbe = restate.service({
  name: "CrashProbe",
  handlers: {
    awaitAwakeable: async (ctx: restate.Context, tag: string) => {
      const { id, promise } = ctx.awakeable<string>();
      await ctx.run("publish", () => {
        awakeables.set(tag, id);
      });
      return `woken with ${await promise}`;
    },
    callSleeper: async (ctx: restate.Context, input: { tag: string; ms: number }) => {
      const call = ctx.serviceClient(greeter).sleep({ ms: input.ms });
      const calleeId = await call.invocationId;
      await ctx.run("publish", () => {
        callees.set(input.tag, calleeId);
      });
      return `callee said ${await call}`;
    },
  },
});

let perdure: PerdureProcess | undefined;
let services: ServicesServer | undefined;
let tempDir: string | undefined;
let logFile = "";

before(async () => {
  tempDir = await makeTempDir("perdure-restart-");
  logFile = path.join(tempDir, "side-effects.log");
  // Read by the Steps service at each execution of a run closure (it runs in this process).
  process.env[SIDE_EFFECT_LOG_ENV] = logFile;
  services = await startServices(0, { quiet: true, services: [...allServices, crashProbe] });
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

  const status = await server().kill("SIGKILL");
  assert.equal(status.signal, "SIGKILL", server().logs());
  // The scenario needs the crash inside the slow step (else "second" may legitimately run twice).
  for (const r of runs) assert.equal(executionCount(r.id, "second", logFile), 0, "killed too late: the second step already ran");
  await server().restart();

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
  // (Under load the restart can take longer than the sleep; then the timer may already have fired.)
  if (Date.now() < dueAt - 50) assert.equal(executionCount(id, "second", logFile), 0, "the second step ran before the timer was due");
  // The stored timer kept its due time (it was not re-armed from the restart), unless it already fired.
  const dueAfterRestart = sleepTimerDueAt(invocationId);
  if (dueAfterRestart !== undefined || Date.now() < dueAt - 100) assert.equal(dueAfterRestart, dueAt);

  const res = await attachByKey("twoStepsSleep", idem);
  const completedAt = Date.now();
  assert.deepEqual(res.json, { first: 1, second: 1 }, res.text);
  assert.equal(res.headers.get("x-restate-id"), invocationId);
  assert.equal(executionCount(id, "first", logFile), 1, "first step re-executed after the restart");
  assert.equal(executionCount(id, "second", logFile), 1);
  assert.ok(completedAt >= dueAt - 20, `completed ${dueAt - completedAt} ms before the timer was due`);
});

test("SIGKILL with a key locked, a call queued behind it, a delayed send and a waiting workflow: all complete after restart", { timeout: 30_000 }, async () => {
  const ingress = () => server().ingressUrl;
  const key = uniqueKey("locked");
  const block = await http(`${ingress()}/Counter/${key}/block/send`, { json: { ms: 1200 } });
  const blockId = (block.json as SendAck).invocationId;
  const queued = await http(`${ingress()}/Counter/${key}/add/send`, { json: 7 });
  const queuedId = (queued.json as SendAck).invocationId;
  const t0 = Date.now();
  const delayed = await http(`${ingress()}/Counter/${key}-d/stamp/send?delay=1500ms`);
  const delayedAck = delayed.json as SendAck;
  const w = uniqueKey("wf");
  const run = await http(`${ingress()}/Signup/${w}/run/send`, { json: "before-crash" });
  assert.equal(run.status, 202, run.text);
  await waitFor(async () => (await http(`${ingress()}/Signup/${w}/status`, { method: "POST" })).json === "waiting", 5000);
  await waitFor(() => sleepTimerDueAt(blockId), 5000);
  const early = await http(`${ingress()}/restate/invocation/${queuedId}/output`);
  assert.equal(early.status, 470, `the queued add must wait for the block: ${early.text}`);

  await crashAndRestart();

  const attach = (id: string) => http(`${ingress()}/restate/invocation/${id}/attach`);
  const [blockRes, queuedRes] = await Promise.all([attach(blockId), attach(queuedId)]);
  assert.equal(blockRes.json, "unblocked", blockRes.text);
  assert.equal(queuedRes.json, 7, queuedRes.text);
  assert.equal((await http(`${ingress()}/Counter/${key}/get`)).json, 7, "the queued add applied more or less than once");

  const delayedRes = await attach(delayedAck.invocationId);
  assert.equal(delayedRes.status, 200, delayedRes.text);
  assert.ok((delayedRes.json as number) >= t0 + 1400, `the delayed send ran ${(delayedRes.json as number) - t0} ms after it was sent`);
  assert.ok((delayedRes.json as number) >= Date.parse(delayedAck.executionTime!) - 50);

  const attached = http(`${ingress()}/restate/workflow/Signup/${w}/attach`);
  const confirm = await http(`${ingress()}/Signup/${w}/confirm`, { json: "after-crash" });
  assert.equal(confirm.status, 200, confirm.text);
  const result = await attached;
  assert.equal(result.status, 200, result.text);
  assert.deepEqual(result.json, { result: "done after-crash", input: "before-crash" });
});

test("SIGKILL while a handler awaits an awakeable and another awaits a sleeping callee: both complete after restart", { timeout: 30_000 }, async () => {
  const tag = uniqueKey("awk");
  const awk = await http(`${server().ingressUrl}/CrashProbe/awaitAwakeable/send`, { json: tag });
  const awkId = (awk.json as SendAck).invocationId;
  const caller = await http(`${server().ingressUrl}/CrashProbe/callSleeper/send`, { json: { tag, ms: 1000 } });
  const callerId = (caller.json as SendAck).invocationId;
  const awakeableId = await waitFor(() => awakeables.get(tag), 5000);
  const calleeId = await waitFor(() => callees.get(tag), 5000);
  await waitFor(() => sleepTimerDueAt(calleeId), 5000);

  await crashAndRestart();

  const resolved = await http(`${server().ingressUrl}/restate/awakeables/${awakeableId}/resolve`, { json: "after-crash" });
  assert.equal(resolved.status, 202, resolved.text);
  const awkRes = await http(`${server().ingressUrl}/restate/invocation/${awkId}/attach`);
  assert.equal(awkRes.status, 200, awkRes.text);
  assert.equal(awkRes.json, "woken with after-crash");
  const callerRes = await http(`${server().ingressUrl}/restate/invocation/${callerId}/attach`);
  assert.equal(callerRes.status, 200, callerRes.text);
  assert.equal(callerRes.json, "callee said slept");
});

test("acknowledged sends, registrations, completed results and object state survive an immediate SIGKILL", { timeout: 30_000 }, async () => {
  const call = await http(`${server().ingressUrl}/Greeter/greet`, { json: { name: "durable" } });
  assert.equal(call.status, 200, call.text);
  const completedId = call.headers.get("x-restate-id")!;
  const stateKey = uniqueKey("ctr");
  assert.equal((await http(`${server().ingressUrl}/Counter/${stateKey}/add`, { json: 41 })).json, 41);

  // A burst of sends, SIGKILL right after the last 202: each was committed before it was acknowledged.
  const key = uniqueKey("acked");
  const acks: string[] = [];
  for (let i = 1; i <= 20; i++) {
    const res = await http(`${server().ingressUrl}/Counter/${key}/add/send`, { json: i });
    assert.equal(res.status, 202, res.text);
    acks.push((res.json as SendAck).invocationId);
  }
  await crashAndRestart();

  for (const id of acks) {
    const res = await http(`${server().ingressUrl}/restate/invocation/${id}/attach`);
    assert.equal(res.status, 200, `${id}: ${res.status} ${res.text}`);
  }
  assert.equal((await http(`${server().ingressUrl}/Counter/${key}/get`)).json, 210, "each acknowledged add applied exactly once");

  const deployments = await http(`${server().adminUrl}/deployments`);
  assert.equal((deployments.json as { deployments: unknown[] }).deployments.length, 1, deployments.text);
  const health = await http(`${server().ingressUrl}/restate/health`);
  assert.ok((health.json as { services: string[] }).services.includes("Steps"), health.text);
  assert.ok((health.json as { services: string[] }).services.includes("CrashProbe"), health.text);
  const output = await http(`${server().ingressUrl}/restate/invocation/${completedId}/output`);
  assert.equal(output.status, 200, output.text);
  assert.equal(output.json, "Hello DURABLE");
  assert.equal((await http(`${server().ingressUrl}/Counter/${stateKey}/add`, { json: 1 })).json, 42, "object state lost");
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
