// Every request of the user's description of perdure's HTTP surface (the seed document), as written there:
// the same paths, methods, headers and bodies, against services named as in the document. Only the host is
// perdure's test ports, and `myInvocationId` is the id a send returned.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as restate from "@restatedev/restate-sdk";
import { startE2e, type E2eEnv } from "./harness.ts";
import { http } from "../support/http.ts";

type Person = { name: string; age: number };
const runs = new Map<string, number>();
const count = (k: string) => runs.set(k, (runs.get(k) ?? 0) + 1).get(k)!;

const myService = restate.service({
  name: "MyService",
  handlers: {
    myHandler: async (ctx: restate.Context, p: Person) => `${p.name} is ${p.age} (run ${await ctx.run(() => count(`svc:${ctx.request().id}`))})`,
  },
});
const myVirtualObject = restate.object({
  name: "MyVirtualObject",
  handlers: { myHandler: async (ctx: restate.ObjectContext, p: Person) => `${ctx.key}: ${p.name}` },
});
const myObject = restate.object({
  name: "myObject",
  handlers: { myHandler: async (ctx: restate.ObjectContext, p: Person) => `${ctx.key}: ${p.name}, ${p.age}` },
});
const myWorkflow = restate.workflow({
  name: "MyWorkflow",
  handlers: {
    run: async (ctx: restate.WorkflowContext, p: Person) => `workflow ${ctx.key} for ${p.name}`,
    other: restate.handlers.workflow.shared(async (ctx: restate.WorkflowSharedContext) => `other ${ctx.key}`),
  },
});

const waitingWorkflow = restate.workflow({
  name: "WaitingWorkflow",
  handlers: {
    run: async (ctx: restate.WorkflowContext) => `released with ${await ctx.promise<string>("go").get()}`,
    go: restate.handlers.workflow.shared(async (ctx: restate.WorkflowSharedContext, v: string) => ctx.promise<string>("go").resolve(v)),
  },
});

const json = { "content-type": "application/json" };
const body = '{"name": "Mary", "age": 25}';

describe("the seed document's requests", () => {
  let env: E2eEnv;
  before(async () => {
    env = await startE2e({ services: { services: [myService, myVirtualObject, myObject, myWorkflow, waitingWorkflow] } });
  });
  after(() => env?.close());
  const post = (path: string, headers: Record<string, string> = json) => http(`${env.ingress}${path}`, { method: "POST", headers, body });
  const get = (path: string) => http(`${env.ingress}${path}`);

  test("invoking services, virtual objects and workflows", async () => {
    const svc = await post("/MyService/myHandler");
    assert.equal(svc.status, 200, svc.text);
    assert.equal(svc.json, "Mary is 25 (run 1)");
    assert.equal((await post("/MyVirtualObject/myObjectKey/myHandler")).json, "myObjectKey: Mary");
    assert.equal((await post("/MyWorkflow/myWorkflowId/run")).json, "workflow myWorkflowId for Mary");
    assert.equal((await post("/MyWorkflow/myWorkflowId/other")).json, "other myWorkflowId", "the other handlers of the workflow");
  });

  test("sending a message, and a delayed message", async () => {
    const sent = await post("/MyService/myHandler/send");
    assert.equal(sent.status, 202);
    const ack = sent.json as { invocationId: string; status: string };
    assert.match(ack.invocationId, /^inv_1[0-9a-zA-Z]{33}$/);
    assert.equal(ack.status, "Accepted");
    assert.deepEqual(Object.keys(sent.json as object), ["invocationId", "status"]);

    const started = Date.now();
    const delayed = await post("/MyService/myHandler/send?delay=10s".replace("10s", "1s"));
    assert.equal(delayed.status, 202);
    const d = delayed.json as { invocationId: string; executionTime: string };
    assert.ok(Date.parse(d.executionTime) - started >= 900);
    assert.equal((await get(`/restate/invocation/${d.invocationId}/output`)).status, 470, "not ready before its time");
    const done = await get(`/restate/invocation/${d.invocationId}/attach`);
    assert.equal(done.status, 200);
    assert.ok(Date.now() - started >= 900, "ran after the delay");
  });

  test("the delay parameter exactly as written (10s) is accepted", async () => {
    const res = await post("/MyService/myHandler/send?delay=10s");
    assert.equal(res.status, 202);
    assert.ok(Date.parse((res.json as { executionTime: string }).executionTime) - Date.now() > 8_000);
  });

  test("invoking idempotently, and tuning the retention", async () => {
    const headers = { "idempotency-key": "ad5472esg4dsg525dssdfa5loi", ...json };
    const first = await post("/MyService/myHandler", headers);
    const second = await post("/MyService/myHandler", headers);
    assert.equal(first.status, 200);
    assert.equal(second.text, first.text, "the same response, not executed again");
    assert.equal(second.headers.get("x-restate-id"), first.headers.get("x-restate-id"));
    const expiresIn = Date.parse(second.headers.get("idempotency-expires")!) - Date.now();
    assert.ok(expiresIn > 23 * 3600_000 && expiresIn <= 24 * 3600_000, "kept for one day");

    const patch = await http(`${env.admin}/services/MyService`, { method: "PATCH", headers: json, body: '{"idempotency_retention": "2days"}' });
    assert.equal(patch.status, 200, patch.text);
    assert.equal((patch.json as { idempotency_retention: string }).idempotency_retention, "2d");
    const later = await post("/MyService/myHandler", { "idempotency-key": "after-patch", ...json });
    const replay = await post("/MyService/myHandler", { "idempotency-key": "after-patch", ...json });
    assert.equal(replay.text, later.text);
    const longer = Date.parse(replay.headers.get("idempotency-expires")!) - Date.now();
    assert.ok(longer > 47 * 3600_000, "new invocations are kept for two days");
  });

  test("attach and output: by invocation id, by idempotency key, by workflow id", async () => {
    const sent = await post("/MyService/myHandler/send", { "idempotency-key": "myIdempotencyKey", ...json });
    const myInvocationId = (sent.json as { invocationId: string }).invocationId;
    const attached = await get(`/restate/invocation/${myInvocationId}/attach`);
    assert.equal(attached.status, 200);
    assert.equal((await get(`/restate/invocation/${myInvocationId}/output`)).text, attached.text);
    assert.equal((await get("/restate/invocation/MyService/myHandler/myIdempotencyKey/attach")).text, attached.text);
    assert.equal((await get("/restate/invocation/MyService/myHandler/myIdempotencyKey/output")).text, attached.text);

    await post("/myObject/myKey/myHandler", { "idempotency-key": "myIdempotencyKey", ...json });
    assert.equal((await get("/restate/invocation/myObject/myKey/myHandler/myIdempotencyKey/attach")).json, "myKey: Mary, 25");
    assert.equal((await get("/restate/invocation/myObject/myKey/myHandler/myIdempotencyKey/output")).json, "myKey: Mary, 25");

    assert.equal((await get("/restate/workflow/MyWorkflow/myWorkflowId/attach")).json, "workflow myWorkflowId for Mary");
    assert.equal((await get("/restate/workflow/MyWorkflow/myWorkflowId/output")).json, "workflow myWorkflowId for Mary");
    const missing = await get("/restate/workflow/MyWorkflow/neverStarted/output");
    assert.equal(missing.status, 404);
    assert.equal((missing.json as { message: string }).message, "invocation not found");
  });

  test("output of an ongoing workflow is not ready, then the result; kill and cancel by invocation id", async () => {
    assert.equal((await post("/WaitingWorkflow/w1/run/send")).status, 202);
    const output = await get("/restate/workflow/WaitingWorkflow/w1/output");
    assert.equal(output.status, 470);
    assert.equal((output.json as { message: string }).message, "the invocation exists but has not completed yet");
    assert.equal((await http(`${env.ingress}/WaitingWorkflow/w1/go`, { method: "POST", headers: json, body: '"now"' })).status, 200);
    assert.equal((await get("/restate/workflow/WaitingWorkflow/w1/attach")).json, "released with now");
    assert.equal((await get("/restate/workflow/WaitingWorkflow/w1/output")).json, "released with now");

    const scheduled = (await post("/MyService/myHandler/send?delay=1h")).json as { invocationId: string };
    assert.equal((await http(`${env.admin}/invocations/${scheduled.invocationId}/kill`, { method: "PATCH" })).status, 200);
    assert.equal((await get(`/restate/invocation/${scheduled.invocationId}/output`)).status, 404, "a killed scheduled invocation is gone");
    assert.equal((await post("/WaitingWorkflow/w2/run/send")).status, 202);
    const run = (await post("/WaitingWorkflow/w2/run/send")).json as { invocationId: string; status: string };
    assert.equal(run.status, "PreviouslyAccepted");
    assert.equal((await http(`${env.admin}/invocations/${run.invocationId}/cancel`, { method: "PATCH" })).status, 202);
    const cancelled = await get("/restate/workflow/WaitingWorkflow/w2/attach");
    assert.equal(cancelled.status, 409);
    assert.equal((cancelled.json as { message: string }).message, "Cancelled");
  });
});
