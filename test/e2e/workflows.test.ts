// End to end: workflows. The Signup flow step by step as the reference answers it (behaviour doc §7): shared
// handlers before the run, run/send Accepted then PreviouslyAccepted, a second run call 409 while running,
// output 470 while waiting, attach blocking until the durable promise is resolved, output after completion
// with idempotency-expires, confirm twice 409, peek; QuickWf blocking runs, failures and ids.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { waitFor } from "../support/admin-client.ts";
import { http, type HttpResult } from "../support/http.ts";
import { assertIngressError, post, startE2e, uniqueKey, type E2eEnv, type SendAck } from "./harness.ts";

let env: E2eEnv;

before(async () => {
  env = await startE2e();
});

after(async () => {
  await env?.close();
});

const ALREADY_INVOKED = "the workflow method was already invoked";
const NOT_READY = "the invocation exists but has not completed yet";

test("Signup: the full flow of behaviour doc §7", async (t) => {
  const w = uniqueKey("signup");
  const wf = (handler: string) => `${env.ingress}/Signup/${w}/${handler}`;
  const output = () => http(`${env.ingress}/restate/workflow/Signup/${w}/output`);
  let runId = "";

  await t.test("1-2: shared handlers work before the run exists", async () => {
    const status = await post(wf("status"));
    assert.equal(status.status, 200, status.text);
    assert.equal(status.json, "not-started");
    const peek = await post(wf("peek"));
    assert.equal(peek.status, 200, peek.text);
    assert.deepEqual(peek.json, { resolved: false });
  });

  await t.test("before the run: output 404 invocation not found", async () => {
    assertIngressError(await output(), 404, "invocation not found");
  });

  await t.test("3: run/send → 202 Accepted", async () => {
    const sent = await post(wf("run/send"), "in1");
    assert.equal(sent.status, 202, sent.text);
    assert.equal(sent.headers.get("content-type"), "application/json");
    const ack = sent.json as SendAck;
    assert.deepEqual(Object.keys(ack).sort(), ["invocationId", "status"]);
    assert.equal(ack.status, "Accepted");
    assert.match(ack.invocationId, /^inv_1/);
    assert.equal(sent.headers.get("x-restate-id"), ack.invocationId);
    runId = ack.invocationId;
  });

  await t.test("4: run/send again → 202 PreviouslyAccepted, same id", async () => {
    const again = await post(wf("run/send"), "in2");
    assert.equal(again.status, 202, again.text);
    assert.deepEqual(again.json, { invocationId: runId, status: "PreviouslyAccepted" });
  });

  await t.test("the run reaches its wait for the promise", async () => {
    await waitFor(async () => (await post(wf("status"))).json === "waiting", 5000);
  });

  await t.test("5: run call while running → 409 at once, with the run's id", async () => {
    const res = await post(wf("run"), "in3");
    assertIngressError(res, 409, ALREADY_INVOKED, "invocation");
    assert.equal(res.headers.get("x-restate-id"), runId);
  });

  await t.test("6: output while waiting → 470 not ready", async () => {
    const res = await output();
    assertIngressError(res, 470, NOT_READY);
  });

  await t.test("7-8: attach blocks until confirm; confirm → 200 confirmed", async () => {
    let attachedRes: HttpResult | undefined;
    const attached = http(`${env.ingress}/restate/workflow/Signup/${w}/attach`).then((r) => (attachedRes = r));
    // The attach must still be waiting: the run cannot complete before the promise is resolved.
    assertIngressError(await output(), 470, NOT_READY);
    assert.equal(attachedRes, undefined, `attach returned before confirm: ${attachedRes?.status} ${attachedRes?.text}`);

    const confirmed = await post(wf("confirm"), "yes");
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.json, "confirmed");

    const result = await attached;
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(result.json, { result: "done yes", input: "in1" });
    assert.equal(result.headers.get("x-restate-id"), runId);
  });

  await t.test("9: output after completion → 200 with idempotency-expires ≈ +1 day", async () => {
    const res = await output();
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { result: "done yes", input: "in1" });
    assert.equal(res.headers.get("x-restate-id"), runId);
    const expires = res.headers.get("idempotency-expires");
    assert.ok(expires, "idempotency-expires missing");
    const delta = Date.parse(expires) - Date.now();
    assert.ok(Math.abs(delta - 86_400_000) < 60_000, `idempotency-expires ${expires} is not about a day from now`);
    // attach to a completed run answers at once, the same way
    const attach = await http(`${env.ingress}/restate/workflow/Signup/${w}/attach`);
    assert.equal(attach.status, 200, attach.text);
    assert.deepEqual(attach.json, { result: "done yes", input: "in1" });
  });

  await t.test("10-11: run after completion → call 409, send PreviouslyAccepted", async () => {
    const call = await post(wf("run"), "in4");
    assertIngressError(call, 409, ALREADY_INVOKED, "invocation");
    assert.equal(call.headers.get("x-restate-id"), runId);
    const send = await post(wf("run/send"), "in5");
    assert.equal(send.status, 202, send.text);
    assert.deepEqual(send.json, { invocationId: runId, status: "PreviouslyAccepted" });
  });

  await t.test("12: status and peek after completion", async () => {
    assert.equal((await post(wf("status"))).json, "done");
    const peek = await post(wf("peek"));
    assert.equal(peek.status, 200, peek.text);
    assert.deepEqual(peek.json, { resolved: true, value: "yes" });
  });

  await t.test("13: confirm again → 409 promise was already completed", async () => {
    const res = await post(wf("confirm"), "again");
    assertIngressError(res, 409, "promise was already completed", "invocation");
    // the first value is kept
    assert.deepEqual((await post(wf("peek"))).json, { resolved: true, value: "yes" });
  });
});

test("Signup: a promise resolved before the run starts is seen by the run", async () => {
  const w = uniqueKey("early");
  const confirmed = await post(`${env.ingress}/Signup/${w}/confirm`, "early");
  assert.equal(confirmed.status, 200, confirmed.text);
  const run = await post(`${env.ingress}/Signup/${w}/run`, "late");
  assert.equal(run.status, 200, run.text);
  assert.deepEqual(run.json, { result: "done early", input: "late" });
});

test("QuickWf: a blocking run call", async () => {
  const res = await post(`${env.ingress}/QuickWf/${uniqueKey("q")}/run`, "a");
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json, 'quick "a"');
  assert.match(res.headers.get("x-restate-id") ?? "", /^inv_1/);
});

test("QuickWf: a failing run; output replays the failure; run again → 409", async () => {
  const id = uniqueKey("f");
  const res = await post(`${env.ingress}/QuickWf/${id}/run`, { fail: true });
  assertIngressError(res, 400, "workflow failed", "invocation");
  const output = await http(`${env.ingress}/restate/workflow/QuickWf/${id}/output`);
  assertIngressError(output, 400, "workflow failed", "invocation");
  assert.equal(output.headers.get("x-restate-id"), res.headers.get("x-restate-id"));
  assertIngressError(await post(`${env.ingress}/QuickWf/${id}/run`, "again"), 409, ALREADY_INVOKED, "invocation");
});

test("workflow ids are percent-decoded; output under the encoded path", async () => {
  const base = uniqueKey("id");
  const info = await post(`${env.ingress}/QuickWf/${base}%20b/info`);
  assert.equal(info.status, 200, info.text);
  assert.deepEqual(info.json, { key: `${base} b` });
  const run = await post(`${env.ingress}/QuickWf/${base}%20b/run`, 1);
  assert.equal(run.status, 200, run.text);
  const output = await http(`${env.ingress}/restate/workflow/QuickWf/${base}%20b/output`);
  assert.equal(output.status, 200, output.text);
  assert.equal(output.json, "quick 1");
});

test("idempotency-key on a workflow run → 400; on a shared workflow handler it deduplicates", async () => {
  const id = uniqueKey("idem");
  const message =
    "cannot use the idempotency key with workflow handlers. The handler invocation will already be idempotent by the workflow key itself.";
  assertIngressError(await post(`${env.ingress}/QuickWf/${id}/run`, "x", { "idempotency-key": "k" }), 400, message);
  assertIngressError(await post(`${env.ingress}/QuickWf/${id}/run/send`, "x", { "idempotency-key": "k" }), 400, message);

  const first = await post(`${env.ingress}/QuickWf/${id}/info`, undefined, { "idempotency-key": "k" });
  assert.equal(first.status, 200, first.text);
  const second = await post(`${env.ingress}/QuickWf/${id}/info`, undefined, { "idempotency-key": "k" });
  assert.equal(second.status, 200, second.text);
  assert.equal(second.headers.get("x-restate-id"), first.headers.get("x-restate-id"));
  assert.ok(second.headers.get("idempotency-expires"), "the second call is a replay");
});

test("attach to a workflow that never ran → 404 from the invocation, with the id the run will get", async () => {
  const id = uniqueKey("never");
  const attach = await http(`${env.ingress}/restate/workflow/QuickWf/${id}/attach`);
  assertIngressError(attach, 404, "not found", "invocation");
  const future = attach.headers.get("x-restate-id");
  const run = await post(`${env.ingress}/QuickWf/${id}/run`, "now");
  assert.equal(run.status, 200, run.text);
  assert.equal(run.headers.get("x-restate-id"), future, "workflow run ids are deterministic");
});

test("workflow paths: bad path 400, unknown action 404, POST 405, no id 400", async () => {
  assertIngressError(
    await http(`${env.ingress}/restate/workflow/QuickWf/output`),
    400,
    "bad path, expected either /restate/workflow/:workflow_name/:workflow_key/output or /restate/workflow/:workflow_name/:workflow_key/attach",
  );
  assertIngressError(await http(`${env.ingress}/restate/workflow/QuickWf/x/foo`), 404, "not found");
  assertIngressError(await http(`${env.ingress}/restate/workflow/QuickWf/x/output`, { method: "POST" }), 405, "method not allowed");
  assertIngressError(
    await post(`${env.ingress}/Signup/run`),
    400,
    "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler",
  );
});

async function waitingSignup(): Promise<{ w: string; runId: string }> {
  const w = uniqueKey("wait");
  const sent = await post(`${env.ingress}/Signup/${w}/run/send`, "in");
  assert.equal(sent.status, 202, sent.text);
  await waitFor(async () => (await post(`${env.ingress}/Signup/${w}/status`)).json === "waiting", 5000);
  return { w, runId: (sent.json as SendAck).invocationId };
}

test("cancel a waiting workflow: 202; attach and output 409 Cancelled; shared handlers still work; run again 409", async () => {
  const { w, runId } = await waitingSignup();
  const attached = http(`${env.ingress}/restate/workflow/Signup/${w}/attach`);
  assertIngressError(await http(`${env.ingress}/restate/workflow/Signup/${w}/output`), 470, NOT_READY);

  const cancel = await http(`${env.admin}/invocations/${runId}/cancel`, { method: "PATCH" });
  assert.equal(cancel.status, 202, cancel.text);
  assertIngressError(await attached, 409, "Cancelled", "invocation");
  const output = await http(`${env.ingress}/restate/workflow/Signup/${w}/output`);
  assertIngressError(output, 409, "Cancelled", "invocation");
  assert.equal(output.headers.get("x-restate-id"), runId);
  assert.equal((await post(`${env.ingress}/Signup/${w}/status`)).json, "waiting");
  assertIngressError(await post(`${env.ingress}/Signup/${w}/run`, "again"), 409, ALREADY_INVOKED, "invocation");
});

test("kill a waiting workflow: 200; output 409 killed; the state written so far stays", async () => {
  const { w, runId } = await waitingSignup();
  const kill = await http(`${env.admin}/invocations/${runId}/kill`, { method: "PATCH" });
  assert.equal(kill.status, 200, kill.text);
  assertIngressError(await http(`${env.ingress}/restate/workflow/Signup/${w}/output`), 409, "killed", "invocation");
  assert.equal((await post(`${env.ingress}/Signup/${w}/status`)).json, "waiting");
});
