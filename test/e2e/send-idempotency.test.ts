// End to end: one-way sends (`/send`, delayed sends) and idempotency keys (behaviour doc §2, §5, §6):
// the 202 acknowledgement, delay parsing and timing, deduplication of calls and sends, and attach/output by
// invocation id and by idempotency key.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { waitFor } from "../support/admin-client.ts";
import { http } from "../support/http.ts";
import { assertIngressError, post, startE2e, uniqueKey, type E2eEnv, type SendAck } from "./harness.ts";

let env: E2eEnv;

before(async () => {
  env = await startE2e();
});

after(async () => {
  await env?.close();
});

const NOT_READY = "the invocation exists but has not completed yet";
const output = (id: string) => http(`${env.ingress}/restate/invocation/${id}/output`);
const attach = (id: string) => http(`${env.ingress}/restate/invocation/${id}/attach`);

test("/send: 202 with exactly {invocationId, status: Accepted}; the invocation runs", async () => {
  const res = await post(`${env.ingress}/Greeter/greet/send`, { name: "s" });
  assert.equal(res.status, 202, res.text);
  assert.equal(res.headers.get("content-type"), "application/json");
  const ack = res.json as SendAck;
  assert.deepEqual(Object.keys(ack), ["invocationId", "status"]);
  assert.equal(ack.status, "Accepted");
  assert.match(ack.invocationId, /^inv_1[0-9A-Za-z]+$/);
  assert.equal(res.headers.get("x-restate-id"), ack.invocationId);

  const result = await attach(ack.invocationId);
  assert.equal(result.status, 200, result.text);
  assert.equal(result.json, "Hello S");
  assert.equal(result.headers.get("x-restate-id"), ack.invocationId);
});

test("/send variants: GET, unknown query params, object key, trailing slash", async () => {
  const get = await http(`${env.ingress}/Greeter/greet/send`);
  assert.equal(get.status, 202, get.text);
  const foo = await post(`${env.ingress}/Greeter/greet/send?foo=bar`, {});
  assert.equal(foo.status, 202, foo.text);
  assert.equal((foo.json as SendAck).executionTime, undefined);
  const key = uniqueKey("send");
  const obj = await post(`${env.ingress}/Counter/${key}/add/send`, 3);
  assert.equal(obj.status, 202, obj.text);
  await waitFor(async () => (await http(`${env.ingress}/Counter/${key}/get`)).json === 3);
  const slash = await post(`${env.ingress}/Greeter/greet/send/`, {});
  assert.equal(slash.status, 202, slash.text);
});

test("?delay=1s: executionTime in the ack, output 470 until then, runs after ≥ ~1 s", async () => {
  const key = uniqueKey("delay");
  const t0 = Date.now();
  const res = await post(`${env.ingress}/Counter/${key}/stamp/send?delay=1s`);
  const t1 = Date.now();
  assert.equal(res.status, 202, res.text);
  const ack = res.json as SendAck;
  assert.deepEqual(Object.keys(ack), ["invocationId", "executionTime", "status"]);
  assert.equal(ack.status, "Accepted");
  assert.match(ack.executionTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  const executionTime = Date.parse(ack.executionTime!);
  assert.ok(
    executionTime >= t0 + 1000 - 5 && executionTime <= t1 + 1000 + 5,
    `executionTime ${ack.executionTime} is not 1 s after the request (sent ${new Date(t0).toISOString()})`,
  );

  assertIngressError(await output(ack.invocationId), 470, NOT_READY);

  const done = await attach(ack.invocationId);
  assert.equal(done.status, 200, done.text);
  const ranAt = done.json as number; // Counter/stamp returns Date.now() from a ctx.run
  assert.ok(ranAt >= t0 + 900, `the delayed invocation ran ${ranAt - t0} ms after the send`);
  assert.ok(ranAt >= executionTime - 50, `ran ${executionTime - ranAt} ms before its executionTime`);
});

test("delay formats that are accepted carry an executionTime", async () => {
  for (const delay of ["PT1S", "500ms", "1 second", "2m", "1h30m", "P1D"]) {
    const res = await post(`${env.ingress}/Greeter/noop/send?delay=${encodeURIComponent(delay)}`);
    assert.equal(res.status, 202, `${delay}: ${res.text}`);
    assert.ok((res.json as SendAck).executionTime, `${delay}: no executionTime in ${res.text}`);
  }
});

test("delay=0s still carries an executionTime", async () => {
  const res = await post(`${env.ingress}/Greeter/noop/send?delay=0s`);
  assert.equal(res.status, 202, res.text);
  assert.match((res.json as SendAck).executionTime ?? "", /^\d{4}-\d\d-\d\dT/, res.text);
});

test("bad delays: 400", async () => {
  for (const delay of ["1500", "abc", "-1s", ""]) {
    const res = await post(`${env.ingress}/Greeter/greet/send?delay=${encodeURIComponent(delay)}`, {});
    assertIngressError(res, 400, /^bad delay query parameter, must be a ISO8601 duration: /);
  }
});

test("delay on a call: 400", async () => {
  const message = "cannot use the delay query parameter with calls. The delay is supported only with sends";
  assertIngressError(await post(`${env.ingress}/Greeter/greet?delay=1s`, {}), 400, message);
  assertIngressError(await post(`${env.ingress}/restate/call/Greeter/greet?delay=1s`, {}), 400, message);
  assertIngressError(await post(`${env.ingress}/Signup/${uniqueKey("d")}/run?delay=1s`, {}), 400, message);
});

test("idempotency-key: the second call replays the first (same body and id, idempotency-expires), executed once", async () => {
  const key = uniqueKey("ik");
  const idem = uniqueKey("idem");
  const url = `${env.ingress}/Counter/${key}/countExec`;
  const first = await post(url, "a", { "idempotency-key": idem });
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.json, { execs: 1, input: "a" });
  assert.equal(first.headers.get("idempotency-expires"), null, "the first, live response has no idempotency-expires");
  const id = first.headers.get("x-restate-id");

  const second = await post(url, "a", { "idempotency-key": idem });
  assert.equal(second.status, 200, second.text);
  assert.equal(second.text, first.text);
  assert.equal(second.headers.get("x-restate-id"), id);
  const expires = second.headers.get("idempotency-expires");
  assert.ok(expires, "a replay has idempotency-expires");
  assert.ok(Math.abs(Date.parse(expires) - Date.now() - 86_400_000) < 60_000, `idempotency-expires ${expires} is not about +1 day`);

  // A different body with the same key is not compared: the cached response comes back.
  const other = await post(url, "b", { "idempotency-key": idem });
  assert.deepEqual(other.json, { execs: 1, input: "a" });
  assert.equal(other.headers.get("x-restate-id"), id);

  assert.equal((await http(`${env.ingress}/Counter/${key}/execs`)).json, 1, "the handler executed more than once");
});

test("idempotency-key: scoped to target, so another handler or another object key executes", async () => {
  const key = uniqueKey("scope");
  const idem = uniqueKey("idem");
  const first = await post(`${env.ingress}/Counter/${key}/countExec`, "a", { "idempotency-key": idem });
  const otherHandler = await post(`${env.ingress}/Counter/${key}/add`, 1, { "idempotency-key": idem });
  assert.equal(otherHandler.status, 200, otherHandler.text);
  assert.equal(otherHandler.json, 1);
  assert.notEqual(otherHandler.headers.get("x-restate-id"), first.headers.get("x-restate-id"));
  assert.equal(otherHandler.headers.get("idempotency-expires"), null);

  const otherKey = await post(`${env.ingress}/Counter/${key}-2/countExec`, "a", { "idempotency-key": idem });
  assert.deepEqual(otherKey.json, { execs: 1, input: "a" });
  assert.notEqual(otherKey.headers.get("x-restate-id"), first.headers.get("x-restate-id"));
  assert.equal(otherKey.headers.get("idempotency-expires"), null);
});

test("idempotency-key: concurrent calls while in flight share one invocation", async () => {
  const key = uniqueKey("conc");
  const idem = uniqueKey("idem");
  const url = `${env.ingress}/Counter/${key}/countExec`;
  const results = await Promise.all([1, 2, 3].map(() => post(url, "c", { "idempotency-key": idem })));
  for (const r of results) {
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { execs: 1, input: "c" });
    assert.equal(r.headers.get("x-restate-id"), results[0]!.headers.get("x-restate-id"));
  }
  assert.equal((await http(`${env.ingress}/Counter/${key}/execs`)).json, 1);
});

test("idempotency-key on a ctx.run service: the side effect runs once", async () => {
  const idem = uniqueKey("idem");
  const a = await post(`${env.ingress}/Greeter/sideEffect`, undefined, { "idempotency-key": idem });
  const b = await post(`${env.ingress}/Greeter/sideEffect`, undefined, { "idempotency-key": idem });
  assert.deepEqual(a.json, { runExecutions: 1 });
  assert.deepEqual(b.json, { runExecutions: 1 });
});

test("an empty idempotency-key is a valid key", async () => {
  const key = uniqueKey("empty");
  const url = `${env.ingress}/Counter/${key}/countExec`;
  const first = await post(url, "e", { "idempotency-key": "" });
  const second = await post(url, "e", { "idempotency-key": "" });
  assert.equal(second.headers.get("x-restate-id"), first.headers.get("x-restate-id"));
  assert.ok(second.headers.get("idempotency-expires"));
  assert.equal((await http(`${env.ingress}/Counter/${key}/execs`)).json, 1);
});

test("/send with an idempotency key: Accepted, then PreviouslyAccepted with the same id; a call attaches", async () => {
  const key = uniqueKey("sk");
  const idem = uniqueKey("idem");
  const url = `${env.ingress}/Counter/${key}/countExec`;
  const first = await post(`${url}/send`, "s", { "idempotency-key": idem });
  assert.equal(first.status, 202, first.text);
  const ack = first.json as SendAck;
  assert.equal(ack.status, "Accepted");
  const again = await post(`${url}/send`, "s", { "idempotency-key": idem });
  assert.equal(again.status, 202, again.text);
  assert.deepEqual(again.json, { invocationId: ack.invocationId, status: "PreviouslyAccepted" });

  const call = await post(url, "s", { "idempotency-key": idem });
  assert.equal(call.status, 200, call.text);
  assert.deepEqual(call.json, { execs: 1, input: "s" });
  assert.equal(call.headers.get("x-restate-id"), ack.invocationId);

  // and a send after a call with the same key
  const idem2 = uniqueKey("idem");
  const called = await post(url, "t", { "idempotency-key": idem2 });
  const sentAfter = await post(`${url}/send`, "t", { "idempotency-key": idem2 });
  assert.deepEqual(sentAfter.json, { invocationId: called.headers.get("x-restate-id"), status: "PreviouslyAccepted" });
  assert.equal((await http(`${env.ingress}/Counter/${key}/execs`)).json, 2);
});

test("delayed idempotent send, again: PreviouslyAccepted with the same executionTime", async () => {
  const idem = uniqueKey("idem");
  const url = `${env.ingress}/Greeter/noop/send?delay=1h`;
  const first = await post(url, undefined, { "idempotency-key": idem });
  assert.equal(first.status, 202, first.text);
  const second = await post(url, undefined, { "idempotency-key": idem });
  assert.equal(second.status, 202, second.text);
  const a = first.json as SendAck;
  assert.deepEqual(second.json, { invocationId: a.invocationId, executionTime: a.executionTime, status: "PreviouslyAccepted" });
});

test("attach/output by id", async () => {
  const sent = await post(`${env.ingress}/Greeter/sleep/send`, { ms: 1000 });
  const id = (sent.json as SendAck).invocationId;
  assertIngressError(await output(id), 470, NOT_READY);

  const attached = await attach(id);
  assert.equal(attached.status, 200, attached.text);
  assert.equal(attached.json, "slept");
  assert.equal(attached.headers.get("x-restate-id"), id);
  assert.equal(attached.headers.get("idempotency-expires"), null, "it completed while attached");

  for (const res of [await output(id), await attach(id), await http(`${env.ingress}/restate/output/${id}`)]) {
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, "slept");
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("x-restate-id"), id);
    assert.ok(res.headers.get("idempotency-expires"));
  }
});

test("output by id of a plain call without idempotency key works (auto-generated key)", async () => {
  const call = await post(`${env.ingress}/Greeter/greet`, { name: "plain" });
  const id = call.headers.get("x-restate-id")!;
  const res = await output(id);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json, "Hello PLAIN");
  assert.ok(res.headers.get("idempotency-expires"));
});

test("output/attach of a failed invocation replay the failure", async () => {
  const call = await post(`${env.ingress}/Greeter/fail`, { code: 418, message: "teapot" });
  const id = call.headers.get("x-restate-id")!;
  for (const res of [await output(id), await attach(id)]) {
    assertIngressError(res, 418, "teapot", "invocation");
    assert.equal(res.headers.get("x-restate-id"), id);
    assert.ok(res.headers.get("idempotency-expires"));
  }
});

test("attach/output by idempotency key (service and object)", async () => {
  const idem = uniqueKey("idem");
  const sent = await post(`${env.ingress}/Greeter/greet/send`, { name: "byKey" }, { "idempotency-key": idem });
  const id = (sent.json as SendAck).invocationId;
  const attached = await http(`${env.ingress}/restate/invocation/Greeter/greet/${idem}/attach`);
  assert.equal(attached.status, 200, attached.text);
  assert.equal(attached.json, "Hello BYKEY");
  assert.equal(attached.headers.get("x-restate-id"), id);
  const out = await http(`${env.ingress}/restate/invocation/Greeter/greet/${idem}/output`);
  assert.equal(out.status, 200, out.text);
  assert.equal(out.json, "Hello BYKEY");
  assert.ok(out.headers.get("idempotency-expires"));

  const key = uniqueKey("ok");
  await post(`${env.ingress}/Counter/${key}/countExec`, "o", { "idempotency-key": idem });
  const objOut = await http(`${env.ingress}/restate/invocation/Counter/${key}/countExec/${idem}/output`);
  assert.equal(objOut.status, 200, objOut.text);
  assert.deepEqual(objOut.json, { execs: 1, input: "o" });
  assertIngressError(
    await http(`${env.ingress}/restate/invocation/Counter/${key}-wrong/countExec/${idem}/output`),
    404,
    "invocation not found",
  );
});

test("attach/output by idempotency key: unknown key, unknown service, wrong arity", async () => {
  const unknown = uniqueKey("nokey");
  assertIngressError(await http(`${env.ingress}/restate/invocation/Greeter/sleep/${unknown}/output`), 404, "invocation not found");
  const att = await http(`${env.ingress}/restate/invocation/Greeter/sleep/${unknown}/attach`);
  assertIngressError(att, 404, "not found", "invocation");
  assertIngressError(
    await http(`${env.ingress}/restate/invocation/Nope/sleep/${unknown}/output`),
    404,
    "service 'Nope' not found, make sure to register the service before calling it.",
  );
  assertIngressError(
    await http(`${env.ingress}/restate/invocation/Counter/countExec/${unknown}/output`),
    400,
    "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler",
  );
  assertIngressError(await http(`${env.ingress}/restate/invocation/Greeter/x/sleep/${unknown}/output`), 404, "not found");
});

test("attach/output by id: unknown id 404, malformed id 400, bad paths", async () => {
  // a well-formed id that was never used: take a real one and change its last character
  const real = (await post(`${env.ingress}/Greeter/noop`)).headers.get("x-restate-id")!;
  const last = real.at(-1) === "A" ? "B" : "A";
  const unknown = real.slice(0, -1) + last;

  assertIngressError(await output(unknown), 404, "invocation not found");
  const att = await attach(unknown);
  assertIngressError(att, 404, "not found", "invocation");
  assert.equal(att.headers.get("x-restate-id"), unknown);

  assertIngressError(await output("abc"), 400, "bad invocation id 'abc': bad format");
  assertIngressError(await attach("abc"), 400, "bad invocation id 'abc': bad format");
  assertIngressError(await output(real.slice(4)), 400, `bad invocation id '${real.slice(4)}': bad format`);
  assertIngressError(await http(`${env.ingress}/restate/invocation/${real}/foo`), 404, "not found");
  assertIngressError(await http(`${env.ingress}/restate/invocation/${real}`), 400, /^bad path, expected either \/restate\/invocation\//);
  assertIngressError(await http(`${env.ingress}/restate/invocation/${real}/output`, { method: "POST" }), 405, "method not allowed");
});
