// End to end: the admin API (:9070) against a registered deployment of the real SDK services (behaviour doc §8,
// §10). Deployment and service metadata shapes, 404/400 shapes, health and version, failed and invalid
// registrations, PATCH of service settings, cancel/kill/purge of invocations, forced deployment removal.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as restate from "@restatedev/restate-sdk";
import { startServices } from "../services/index.ts";
import { registerDeployment, waitFor } from "../support/admin-client.ts";
import { freePort } from "../support/free-port.ts";
import { http, type HttpResult } from "../support/http.ts";
import { assertIngressError, post, startE2e, uniqueKey, type E2eEnv, type SendAck } from "./harness.ts";

let env: E2eEnv;

before(async () => {
  env = await startE2e();
});

after(async () => {
  await env?.close();
});

type HandlerMeta = { name: string; ty?: string; public: boolean; input_description: string; output_description: string; retry_policy: Record<string, unknown> };
type ServiceMeta = {
  name: string;
  ty: string;
  handlers: HandlerMeta[];
  deployment_id: string;
  revision: number;
  public: boolean;
  idempotency_retention: string;
  workflow_completion_retention?: string;
  journal_retention: string;
  inactivity_timeout: string;
  abort_timeout: string;
  enable_lazy_state: boolean;
  retry_policy: Record<string, unknown>;
};

const DEFAULT_RETRY_POLICY = {
  initial_interval: "500ms",
  exponentiation_factor: 2,
  max_attempts: 70,
  max_interval: "1m",
  on_max_attempts: "Pause",
};

const ALL_SERVICES = ["Counter", "Greeter", "Private", "QuickWf", "Signup", "Steps"];

/** Asserts an admin application error: status and `{"message", "restate_code"}` JSON. */
function assertAdminError(res: HttpResult, status: number, message: string | RegExp, restateCode: string | null = null): void {
  const ctx = `${res.status} ${res.text}`;
  assert.equal(res.status, status, ctx);
  assert.equal(res.headers.get("content-type"), "application/json", ctx);
  const body = res.json as { message: string; restate_code: string | null };
  if (typeof message === "string") assert.equal(body.message, message, ctx);
  else assert.match(body.message, message, ctx);
  assert.equal(body.restate_code, restateCode, ctx);
}

/** Asserts a request-extraction error: status and a text/plain sentence. */
function assertPlainError(res: HttpResult, status: number, message: RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8", res.text);
  assert.match(res.text, message);
}

function patch(url: string, json: unknown): Promise<HttpResult> {
  return http(url, { method: "PATCH", json });
}

const handlerOf = (svc: ServiceMeta, name: string) => {
  const h = svc.handlers.find((x) => x.name === name);
  assert.ok(h, `handler ${svc.name}/${name} missing: ${JSON.stringify(svc.handlers.map((x) => x.name))}`);
  return h;
};

test("GET /deployments lists the deployment", async () => {
  const res = await http(`${env.admin}/deployments`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.get("content-type"), "application/json");
  const list = (res.json as { deployments: Array<Record<string, unknown>> }).deployments;
  assert.equal(list.length, 1, res.text);
  const d = list[0]!;
  assert.equal(d.id, env.deploymentId);
  assert.equal(d.uri, env.services.url + "/", "the uri is normalised with a trailing slash");
  assert.equal(d.protocol_type, "BidiStream");
  assert.equal(d.http_version, "HTTP/2.0");
  assert.match(String(d.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.equal(typeof d.min_protocol_version, "number");
  assert.equal(typeof d.max_protocol_version, "number");
  assert.ok((d.min_protocol_version as number) <= (d.max_protocol_version as number));
  assert.match(String(d.sdk_version), /^restate-sdk-typescript\/1\.17\./);
  const services = d.services as Array<{ name: string; revision: number }>;
  assert.deepEqual(services.map((s) => s.name).sort(), ALL_SERVICES);
  for (const s of services) assert.deepEqual(Object.keys(s).sort(), ["name", "revision"]);
  assert.ok(services.every((s) => s.revision === 1));
});

test("GET /deployments/{id}: full service metadata; unknown id 404; malformed id 400", async () => {
  const res = await http(`${env.admin}/deployments/${env.deploymentId}`);
  assert.equal(res.status, 200, res.text);
  const d = res.json as { id: string; services: ServiceMeta[] };
  assert.equal(d.id, env.deploymentId);
  const counter = d.services.find((s) => s.name === "Counter");
  assert.ok(counter, res.text);
  assert.equal(counter.ty, "VirtualObject");
  assert.ok(counter.handlers.length > 0);

  // a well-formed id of no deployment: the real id with its last character changed
  const id = env.deploymentId!;
  const unknown = id.slice(0, -1) + (id.at(-1) === "A" ? "B" : "A");
  assertAdminError(await http(`${env.admin}/deployments/${unknown}`), 404, `The requested deployment '${unknown}' does not exist`);
  assertPlainError(await http(`${env.admin}/deployments/abc`), 400, /^Invalid URL: Cannot parse `deployment` with value `abc`/);
});

test("GET /services and /services/{name}: types, handlers, retention strings, retry policy", async () => {
  const list = await http(`${env.admin}/services`);
  assert.equal(list.status, 200, list.text);
  const services = (list.json as { services: ServiceMeta[] }).services;
  assert.deepEqual(services.map((s) => s.name).sort(), ALL_SERVICES);

  const get = async (name: string) => {
    const res = await http(`${env.admin}/services/${name}`);
    assert.equal(res.status, 200, res.text);
    return res.json as ServiceMeta;
  };

  const counter = await get("Counter");
  assert.equal(counter.ty, "VirtualObject");
  assert.equal(counter.deployment_id, env.deploymentId);
  assert.equal(counter.revision, 1);
  assert.equal(counter.public, true);
  assert.equal(counter.idempotency_retention, "1d");
  assert.equal(counter.journal_retention, "1d");
  assert.equal(counter.inactivity_timeout, "1m");
  assert.equal(counter.abort_timeout, "10m");
  assert.equal(counter.enable_lazy_state, false);
  assert.equal(counter.workflow_completion_retention, undefined);
  assert.deepEqual(counter.retry_policy, DEFAULT_RETRY_POLICY);
  assert.equal(handlerOf(counter, "add").ty, "Exclusive");
  assert.equal(handlerOf(counter, "block").ty, "Exclusive");
  assert.equal(handlerOf(counter, "get").ty, "Shared");
  assert.equal(handlerOf(counter, "sharedSleep").ty, "Shared");
  assert.deepEqual(handlerOf(counter, "block"), {
    name: "block",
    ty: "Exclusive",
    public: true,
    input_description: "application/json",
    output_description: "application/json",
    retry_policy: { max_attempts: null },
  });
  for (const key of ["documentation", "metadata", "info"]) assert.ok(!(key in counter), `null field ${key} is present`);

  const greeter = await get("Greeter");
  assert.equal(greeter.ty, "Service");
  for (const h of greeter.handlers) assert.ok(!("ty" in h), `plain service handler ${h.name} has a ty`);
  const raw = handlerOf(greeter, "raw");
  assert.equal(raw.input_description, "*/*");
  assert.equal(raw.output_description, "application/octet-stream");
  assert.deepEqual(handlerOf(greeter, "failKill").retry_policy, {
    initial_interval: "100ms",
    exponentiation_factor: 1,
    max_attempts: 3,
    max_interval: "200ms",
    on_max_attempts: "Kill",
  });

  const signup = await get("Signup");
  assert.equal(signup.ty, "Workflow");
  assert.equal(signup.workflow_completion_retention, "1d");
  assert.equal(handlerOf(signup, "run").ty, "Workflow");
  assert.equal(handlerOf(signup, "status").ty, "Shared");
  assert.equal(handlerOf(signup, "confirm").ty, "Shared");

  const priv = await get("Private");
  assert.equal(handlerOf(priv, "hidden").public, false);

  assertAdminError(await http(`${env.admin}/services/Nope`), 404, "The requested service 'Nope' does not exist");
});

test("GET /services/{name}/handlers and /handlers/{h}", async () => {
  const list = await http(`${env.admin}/services/Counter/handlers`);
  assert.equal(list.status, 200, list.text);
  const names = (list.json as { handlers: HandlerMeta[] }).handlers.map((h) => h.name).sort();
  assert.deepEqual(names, ["add", "block", "clear", "countExec", "execs", "fail", "get", "sharedSleep", "stamp"]);

  const one = await http(`${env.admin}/services/Counter/handlers/sharedSleep`);
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.json, {
    name: "sharedSleep",
    ty: "Shared",
    public: true,
    input_description: "application/json",
    output_description: "application/json",
    retry_policy: { max_attempts: null },
  });

  assertAdminError(
    await http(`${env.admin}/services/Counter/handlers/nope`),
    404,
    "The requested handler 'nope' on service 'Counter' does not exist",
  );
  assertAdminError(await http(`${env.admin}/services/Nope/handlers`), 404, "The requested service 'Nope' does not exist");
});

test("/health, /version, unknown path", async () => {
  const health = await http(`${env.admin}/health`);
  assert.equal(health.status, 200);
  assert.equal(health.text, "");

  const version = await http(`${env.admin}/version`);
  assert.equal(version.status, 200, version.text);
  const v = version.json as { version: string; min_admin_api_version: number; max_admin_api_version: number; ingress_endpoint: string; features: unknown };
  assert.equal(typeof v.version, "string");
  assert.equal(typeof v.min_admin_api_version, "number");
  assert.equal(v.max_admin_api_version, 4);
  assert.equal(typeof v.ingress_endpoint, "string");
  assert.ok(v.features !== null && typeof v.features === "object" && !Array.isArray(v.features), version.text);

  const nope = await http(`${env.admin}/nope`);
  assert.equal(nope.status, 404);
  assert.equal(nope.text, "");
});

test("/version advertises the ingress port perdure actually listens on", async () => {
  const v = (await http(`${env.admin}/version`)).json as { ingress_endpoint: string };
  assert.equal(new URL(v.ingress_endpoint).port, String(env.perdure.ingressPort));
});

test("POST /query answers SQL (the restate CLI lists invocations with it)", async () => {
  const res = await http(`${env.admin}/query`, { json: { query: "select 1 as one" }, headers: { accept: "application/json" } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { rows: [{ one: 1 }] });
});

test("GET /openapi and /services/{name}/openapi", async () => {
  const admin = await http(`${env.admin}/openapi`);
  assert.equal(admin.status, 200, admin.text);
  const svc = await http(`${env.admin}/services/Greeter/openapi`);
  assert.equal(svc.status, 200, svc.text);
  assert.equal((svc.json as { info: { title: string } }).info.title, "Greeter");
});

test("the versioned prefix /v3/… answers like the unversioned path", async () => {
  const res = await http(`${env.admin}/v3/services/Greeter`);
  assert.equal(res.status, 200, res.text);
  assert.equal((res.json as ServiceMeta).name, "Greeter");
});

test("registering an unreachable uri: 500 META0003 and nothing registered", async () => {
  const port = await freePort();
  const uri = `http://127.0.0.1:${port}`;
  const res = await registerDeployment<{ message: string; restate_code: string }>(env.admin, uri);
  assert.equal(res.status, 500, JSON.stringify(res.body));
  assert.equal(res.body.restate_code, "META0003");
  assert.ok(res.body.message.includes("META0003"), res.body.message);
  assert.ok(res.body.message.length > "[META0003] ".length);

  const list = await http(`${env.admin}/deployments`);
  const deployments = (list.json as { deployments: Array<{ uri: string }> }).deployments;
  assert.equal(deployments.length, 1, list.text);
  assert.ok(!deployments.some((d) => d.uri.includes(`:${port}`)));
});

test("invalid registration bodies: 400 / 415 / 422 as plain text", async () => {
  const url = `${env.admin}/deployments`;
  assertPlainError(
    await http(url, { method: "POST", body: "{", headers: { "content-type": "application/json" } }),
    400,
    /^Failed to parse the request body as JSON/,
  );
  assertPlainError(
    await http(url, { method: "POST", body: new TextEncoder().encode(JSON.stringify({ uri: env.services.url })) }),
    415,
    /Content-Type: application\/json/,
  );
  assertPlainError(await http(url, { json: { url: env.services.url } }), 422, /^Failed to deserialize the JSON body into the target type/);
  assertPlainError(await http(url, { json: { uri: "not a uri" } }), 422, /^Failed to deserialize the JSON body into the target type/);
  const list = await http(url);
  assert.equal((list.json as { deployments: unknown[] }).deployments.length, 1, list.text);
});

test("PATCH /services/{name}: retention durations are normalised and take effect", async (t) => {
  await t.test("2days → 2d; new idempotent invocations expire after 2 days", async () => {
    const res = await patch(`${env.admin}/services/Greeter`, { idempotency_retention: "2days" });
    assert.equal(res.status, 200, res.text);
    assert.equal((res.json as ServiceMeta).idempotency_retention, "2d");
    assert.equal(((await http(`${env.admin}/services/Greeter`)).json as ServiceMeta).idempotency_retention, "2d");

    const idem = uniqueKey("idem");
    await post(`${env.ingress}/Greeter/greet`, { name: "r" }, { "idempotency-key": idem });
    const replay = await post(`${env.ingress}/Greeter/greet`, { name: "r" }, { "idempotency-key": idem });
    const expires = replay.headers.get("idempotency-expires");
    assert.ok(expires, replay.text);
    const delta = Date.parse(expires) - Date.now();
    assert.ok(Math.abs(delta - 2 * 86_400_000) < 60_000, `idempotency-expires ${expires} is not about 2 days from now`);
  });
  await t.test("PT3H → 3h, '1 hour 30 minutes' → 1h 30m", async () => {
    assert.equal(((await patch(`${env.admin}/services/Greeter`, { idempotency_retention: "PT3H" })).json as ServiceMeta).idempotency_retention, "3h");
    const res = await patch(`${env.admin}/services/Greeter`, { idempotency_retention: "1 hour 30 minutes" });
    assert.equal((res.json as ServiceMeta).idempotency_retention, "1h 30m", res.text);
  });
  await t.test("{} and unknown fields: 200 unchanged", async () => {
    const before = (await http(`${env.admin}/services/Greeter`)).json;
    const res = await patch(`${env.admin}/services/Greeter`, { foo: "bar" });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, before);
  });
  await t.test("bad values: 422 plain text; workflow retention on a Service 400; unknown service 404", async () => {
    assertPlainError(await patch(`${env.admin}/services/Greeter`, { idempotency_retention: "forever" }), 422, /idempotency_retention/);
    assertPlainError(await patch(`${env.admin}/services/Greeter`, { idempotency_retention: 3600 }), 422, /idempotency_retention/);
    assertAdminError(
      await patch(`${env.admin}/services/Greeter`, { workflow_completion_retention: "2days" }),
      400,
      "modifying retention time for service type Service is unsupported",
    );
    assertAdminError(await patch(`${env.admin}/services/Nope`, { idempotency_retention: "1d" }), 404, "not found in the schema registry: service with name 'Nope'");
    assertPlainError(
      await http(`${env.admin}/services/Greeter`, { method: "PATCH", body: new TextEncoder().encode("{}") }),
      415,
      /Content-Type: application\/json/,
    );
    assert.equal(((await http(`${env.admin}/services/Greeter`)).json as ServiceMeta).idempotency_retention, "1h 30m");
  });
  await t.test("workflow_completion_retention on a Workflow", async () => {
    const res = await patch(`${env.admin}/services/QuickWf`, { workflow_completion_retention: "2days" });
    assert.equal(res.status, 200, res.text);
    assert.equal((res.json as ServiceMeta).workflow_completion_retention, "2d");
  });
});

test("PATCH public:false makes a service private on the ingress; public:true restores it", async () => {
  const off = await patch(`${env.admin}/services/Greeter`, { public: false });
  assert.equal(off.status, 200, off.text);
  const meta = off.json as ServiceMeta;
  assert.equal(meta.public, false);
  assert.ok(meta.handlers.every((h) => h.public === false));
  try {
    assertIngressError(await post(`${env.ingress}/Greeter/greet`, {}), 400, "the invoked service is not public");
    assertIngressError(await post(`${env.ingress}/Greeter/greet/send`, {}), 400, "the invoked service is not public");
  } finally {
    const on = await patch(`${env.admin}/services/Greeter`, { public: true });
    assert.equal(on.status, 200, on.text);
  }
  assert.equal((await post(`${env.ingress}/Greeter/greet`, { name: "x" })).status, 200);
});

/** Sends Greeter/sleep and waits until its durable sleep timer exists, i.e. the handler is sleeping. */
async function sleepingInvocation(ms = 30_000): Promise<string> {
  const sent = await post(`${env.ingress}/Greeter/sleep/send`, { ms });
  assert.equal(sent.status, 202, sent.text);
  const id = (sent.json as SendAck).invocationId;
  await waitFor(async () => (await env.perdure.store.listTimers()).some((t) => t.invocationId === id && t.kind === "sleep"), 5000);
  return id;
}

const invocation = (id: string, action: string) => http(`${env.admin}/invocations/${id}/${action}`, { method: "PATCH" });
const output = (id: string) => http(`${env.ingress}/restate/invocation/${id}/output`);

test("cancel a sleeping invocation: 202 empty; the attached caller gets 409 Cancelled; output replays it", async () => {
  const id = await sleepingInvocation();
  const attached = http(`${env.ingress}/restate/invocation/${id}/attach`);
  // make sure the attach is registered before cancelling
  assertIngressError(await output(id), 470, "the invocation exists but has not completed yet");

  const res = await invocation(id, "cancel");
  assert.equal(res.status, 202, res.text);
  assert.equal(res.text, "");

  const result = await attached;
  assertIngressError(result, 409, "Cancelled", "invocation");
  assert.equal(result.headers.get("x-restate-id"), id);
  const out = await output(id);
  assertIngressError(out, 409, "Cancelled", "invocation");
  assert.ok(out.headers.get("idempotency-expires"));

  assertAdminError(await invocation(id, "cancel"), 409, `The invocation '${id}' was already completed.`);
  assertAdminError(await invocation(id, "kill"), 409, `The invocation '${id}' was already completed.`);
});

test("cancel reaches a blocked call: the caller gets 409 Cancelled", async () => {
  const key = uniqueKey("cancel");
  const sent = await post(`${env.ingress}/Counter/${key}/block/send`, { ms: 30_000 });
  const id = (sent.json as SendAck).invocationId;
  await waitFor(async () => (await env.perdure.store.listTimers()).some((t) => t.invocationId === id && t.kind === "sleep"), 5000);
  // A call queued behind the block on the same key: pending, so cancel answers 200 and it disappears.
  const queued = await post(`${env.ingress}/Counter/${key}/add/send`, 1);
  const queuedId = (queued.json as SendAck).invocationId;
  const cancelQueued = await invocation(queuedId, "cancel");
  assert.equal(cancelQueued.status, 200, cancelQueued.text);
  assertIngressError(await output(queuedId), 404, "invocation not found");

  assert.equal((await invocation(id, "cancel")).status, 202);
  assertIngressError(await http(`${env.ingress}/restate/invocation/${id}/attach`), 409, "Cancelled", "invocation");
  // the key is free again, and the cancelled add never ran
  const add = await post(`${env.ingress}/Counter/${key}/add`, 5);
  assert.equal(add.json, 5, add.text);
});

test("kill a sleeping invocation: 200; the caller gets 409 killed", async () => {
  const id = await sleepingInvocation();
  const attached = http(`${env.ingress}/restate/invocation/${id}/attach`);
  assertIngressError(await output(id), 470, "the invocation exists but has not completed yet");
  const res = await invocation(id, "kill");
  assert.equal(res.status, 200, res.text);
  assert.equal(res.text, "");
  const result = await attached;
  assertIngressError(result, 409, "killed", "invocation");
  assert.equal(result.headers.get("x-restate-id"), id);
  assertIngressError(await output(id), 409, "killed", "invocation");
});

test("kill a scheduled (delayed) invocation: 200 and it disappears", async () => {
  const sent = await post(`${env.ingress}/Greeter/greet/send?delay=1h`, { name: "later" });
  const id = (sent.json as SendAck).invocationId;
  const res = await invocation(id, "kill");
  assert.equal(res.status, 200, res.text);
  assertIngressError(await output(id), 404, "invocation not found");
});

test("purge: running 409; completed 200 then output 404; purged 404; the idempotency key can be reused", async () => {
  const running = await sleepingInvocation();
  assertAdminError(await invocation(running, "purge"), 409, `The invocation '${running}' is not yet completed.`);
  assert.equal((await invocation(running, "kill")).status, 200);

  const key = uniqueKey("purge");
  const idem = uniqueKey("idem");
  const call = await post(`${env.ingress}/Counter/${key}/countExec`, "p", { "idempotency-key": idem });
  assert.deepEqual(call.json, { execs: 1, input: "p" });
  const id = call.headers.get("x-restate-id")!;

  const purged = await invocation(id, "purge");
  assert.equal(purged.status, 200, purged.text);
  assert.equal(purged.text, "");
  assertIngressError(await output(id), 404, "invocation not found");
  assertAdminError(await invocation(id, "purge"), 404, `The requested invocation '${id}' does not exist`);
  assertAdminError(await invocation(id, "cancel"), 404, `The requested invocation '${id}' does not exist`);

  const again = await post(`${env.ingress}/Counter/${key}/countExec`, "p2", { "idempotency-key": idem });
  assert.deepEqual(again.json, { execs: 2, input: "p2" }, "after purge the same key executes again");
  assert.equal(again.headers.get("idempotency-expires"), null);
});

test("invocation ops with a malformed id: 400", async () => {
  for (const action of ["cancel", "kill", "purge"]) {
    assertAdminError(await invocation("abc", action), 400, "The request field 'invocation_id' is invalid. Reason: bad format");
  }
});

test("deprecated DELETE /invocations/{id}?mode=…: 202 empty", async () => {
  const id = await sleepingInvocation();
  const res = await http(`${env.admin}/invocations/${id}?mode=Kill`, { method: "DELETE" });
  assert.equal(res.status, 202, res.text);
  assert.equal(res.text, "");
  assertIngressError(await output(id), 409, "killed", "invocation");
});

test("re-registering a changed endpoint: without force the old schema stays; with force it is replaced (revision 2)", async () => {
  const v1 = restate.service({ name: "Evolving", handlers: { a: async () => "a1" } });
  const v2 = restate.service({ name: "Evolving", handlers: { a: async () => "a2", b: async () => "b2" } });
  let server = await startServices(0, { quiet: true, services: [v1] });
  const port = server.port;
  try {
    const first = await registerDeployment<{ id: string }>(env.admin, server.url);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const id = first.body.id;
    assert.equal((await post(`${env.ingress}/Evolving/a`)).json, "a1");

    await server.close();
    server = await startServices(port, { quiet: true, services: [v2] });

    const noForce = await registerDeployment<{ id: string }>(env.admin, server.url);
    assert.equal(noForce.status, 200, JSON.stringify(noForce.body));
    assert.equal(noForce.body.id, id);
    const kept = (await http(`${env.admin}/services/Evolving`)).json as ServiceMeta;
    assert.equal(kept.revision, 1);
    assert.deepEqual(kept.handlers.map((h) => h.name), ["a"]);
    assertIngressError(
      await post(`${env.ingress}/Evolving/b`),
      404,
      "the service 'Evolving' exists, but the handler 'b' was not found, check that the handler exists in the latest registered service version.",
    );

    const forced = await registerDeployment<{ id: string }>(env.admin, server.url, { force: true });
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.equal(forced.body.id, id);
    const replaced = (await http(`${env.admin}/services/Evolving`)).json as ServiceMeta;
    assert.equal(replaced.revision, 2);
    assert.deepEqual(replaced.handlers.map((h) => h.name).sort(), ["a", "b"]);
    assert.equal((await post(`${env.ingress}/Evolving/b`)).json, "b2");
    assert.equal((await post(`${env.ingress}/Evolving/a`)).json, "a2");

    const removed = await http(`${env.admin}/deployments/${id}?force=true`, { method: "DELETE" });
    assert.equal(removed.status, 202, removed.text);
  } finally {
    await server.close();
  }
});

// Last: removes the deployment the other tests use.
test("DELETE /deployments/{id}: 501 without force; 202 with force, then its services are gone", async () => {
  const id = env.deploymentId!;
  const noForce = await http(`${env.admin}/deployments/${id}`, { method: "DELETE" });
  assert.equal(noForce.status, 501);
  assert.equal(noForce.text, "");
  assert.equal((await http(`${env.admin}/deployments/${id}?force=false`, { method: "DELETE" })).status, 501);

  const forced = await http(`${env.admin}/deployments/${id}?force=true`, { method: "DELETE" });
  assert.equal(forced.status, 202, forced.text);
  assert.equal(forced.text, "");
  assertAdminError(await http(`${env.admin}/services/Greeter`), 404, "The requested service 'Greeter' does not exist");
  assertIngressError(
    await post(`${env.ingress}/Greeter/greet`, {}),
    404,
    "service 'Greeter' not found, make sure to register the service before calling it.",
  );
  assert.deepEqual((await http(`${env.admin}/deployments`)).json, { deployments: [] });
  assertAdminError(
    await http(`${env.admin}/deployments/${id}?force=true`, { method: "DELETE" }),
    404,
    `not found in the schema registry: deployment with id '${id}'`,
  );

  // registering again works (a new deployment)
  const again = await registerDeployment<{ id: string }>(env.admin, env.services.url);
  assert.equal(again.status, 201, JSON.stringify(again.body));
  assert.equal((await post(`${env.ingress}/Greeter/greet`, { name: "back" })).json, "Hello BACK");
});
