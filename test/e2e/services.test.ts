// End to end: plain services through perdure's ingress with the real SDK (Greeter, Private).
// Registration, calls (POST and GET), content-type validation, routing errors and their exact JSON shape,
// terminal errors (custom codes, metadata), empty output, request headers seen by the handler, health.
import assert from "node:assert/strict";
import nodeHttp from "node:http";
import { after, before, test } from "node:test";
import { registerDeployment } from "../support/admin-client.ts";
import { http } from "../support/http.ts";
import { assertIngressError, post, startE2e, uniqueKey, type E2eEnv } from "./harness.ts";

const BAD_HANDLER_PATH = "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler";

let env: E2eEnv;

const bytes = (s: string) => new TextEncoder().encode(s);

before(async () => {
  env = await startE2e({ register: false });
});

after(async () => {
  await env?.close();
});

test("before any registration: health lists no services, calls are 404", async () => {
  const health = await http(`${env.ingress}/restate/health`);
  assert.equal(health.status, 200, health.text);
  assert.deepEqual(health.json, { services: [] });
  assertIngressError(await post(`${env.ingress}/Greeter/greet`, {}), 404, "service 'Greeter' not found, make sure to register the service before calling it.");
  assert.deepEqual((await http(`${env.admin}/deployments`)).json, { deployments: [] });
});

test("register: 201 with the services, then 200 with the same id on re-register", async () => {
  const first = await registerDeployment<{ id: string; services: { name: string }[] }>(env.admin, env.services.url);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.match(first.body.id, /^dp_/);
  assert.equal(first.headers.get("location"), `deployments/${first.body.id}`);
  assert.deepEqual(first.body.services.map((s) => s.name).sort(), ["Counter", "Greeter", "Private", "QuickWf", "Signup", "Steps"]);

  const again = await registerDeployment<{ id: string }>(env.admin, env.services.url);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.id, first.body.id);

  // With a trailing slash it is the same endpoint.
  const slash = await registerDeployment<{ id: string }>(env.admin, env.services.url + "/");
  assert.equal(slash.status, 200, JSON.stringify(slash.body));
  assert.equal(slash.body.id, first.body.id);

  const list = await http(`${env.admin}/deployments`);
  assert.equal((list.json as { deployments: unknown[] }).deployments.length, 1, list.text);
});

test("POST /Greeter/greet: 200, JSON body, x-restate-id, content-type", async () => {
  const res = await post(`${env.ingress}/Greeter/greet`, { name: "anna" });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json, "Hello ANNA");
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.match(res.headers.get("x-restate-id") ?? "", /^inv_1[0-9A-Za-z]+$/);
  assert.equal(res.headers.get("idempotency-expires"), null, "a live response has no idempotency-expires");
  assert.equal(res.headers.get("x-restate-error-source"), null);
});

test("each call is a new invocation with its own id", async () => {
  const a = await post(`${env.ingress}/Greeter/greet`, { name: "a" });
  const b = await post(`${env.ingress}/Greeter/greet`, { name: "a" });
  assert.notEqual(a.headers.get("x-restate-id"), b.headers.get("x-restate-id"));
});

test("GET invokes too (input undefined)", async () => {
  const res = await http(`${env.ingress}/Greeter/greet`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json, "Hello ANONYMOUS");
});

test("empty body, with or without content-type", async () => {
  const withCt = await http(`${env.ingress}/Greeter/greet`, { method: "POST", body: "", headers: { "content-type": "application/json" } });
  assert.equal(withCt.status, 200, withCt.text);
  assert.equal(withCt.json, "Hello ANONYMOUS");
  const without = await http(`${env.ingress}/Greeter/greet`, { method: "POST" });
  assert.equal(without.status, 200, without.text);
  assert.equal(without.json, "Hello ANONYMOUS");
});

test("content-type validation (behaviour doc §1.13-1.17, 1.19, 1.20)", async (t) => {
  // A Uint8Array body: fetch adds no content-type of its own (it would for a string).
  const body = bytes(JSON.stringify({ name: "anna" }));
  await t.test("body without content-type: 400 Empty content-type", async () => {
    const res = await http(`${env.ingress}/Greeter/greet`, { method: "POST", body });
    assertIngressError(res, 400, "input validation error: Empty content-type");
  });
  for (const ct of ["text/plain", "APPLICATION/JSON", "application/vnd.api+json"]) {
    await t.test(`content-type ${ct}: 400 mismatch`, async () => {
      const res = await http(`${env.ingress}/Greeter/greet`, { method: "POST", body, headers: { "content-type": ct } });
      assertIngressError(res, 400, `input validation error: Content-type '${ct}' does not match 'application/json'`);
    });
  }
  await t.test("parameters are allowed: application/json; charset=utf-8", async () => {
    const res = await http(`${env.ingress}/Greeter/greet`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, "Hello ANNA");
  });
  await t.test("noInput ignores a JSON body, rejects a text/plain one", async () => {
    const ok = await post(`${env.ingress}/Greeter/noInput`, { ignored: true });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json, "no-input");
    const bad = await http(`${env.ingress}/Greeter/noInput`, { method: "POST", body: "x", headers: { "content-type": "text/plain" } });
    assertIngressError(bad, 400, "input validation error: Content-type 'text/plain' does not match 'application/json'");
  });
  await t.test("binary handler accepts any content-type and answers octet-stream", async () => {
    const res = await http(`${env.ingress}/Greeter/raw`, { method: "POST", body: "hello", headers: { "content-type": "text/plain" } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.equal(res.text, "got 5 bytes: hello");
    const noCt = await http(`${env.ingress}/Greeter/raw`, { method: "POST", body: bytes("hello") });
    assertIngressError(noCt, 400, "input validation error: Empty content-type");
  });
  await t.test("invalid JSON reaches the SDK: 400 from the invocation, with x-restate-id", async () => {
    const res = await http(`${env.ingress}/Greeter/greet`, { method: "POST", body: '{"name":', headers: { "content-type": "application/json" } });
    assertIngressError(res, 400, /^Failed to deserialize input/, "invocation");
  });
});

test("unknown service and handler: 404 with the exact JSON shape", async () => {
  const svc = await post(`${env.ingress}/Nope/greet`, {});
  assertIngressError(svc, 404, "service 'Nope' not found, make sure to register the service before calling it.");
  assert.deepEqual(svc.json, {
    code: 404,
    message: "service 'Nope' not found, make sure to register the service before calling it.",
    source: "ingress",
  });
  const handler = await post(`${env.ingress}/Greeter/nope`, {});
  assertIngressError(
    handler,
    404,
    "the service 'Greeter' exists, but the handler 'nope' was not found, check that the handler exists in the latest registered service version.",
  );
  assert.deepEqual(Object.keys(handler.json as object).sort(), ["code", "message", "source"]);
});

test("bad paths: 400", async (t) => {
  await t.test("/Greeter and /", async () => {
    assertIngressError(await post(`${env.ingress}/Greeter`), 400, "bad path: /Greeter");
    assertIngressError(await post(`${env.ingress}/`), 400, "bad path: /");
  });
  for (const path of ["/Greeter/k/greet", "/Greeter/greet/extra", "/Greeter/greet/send/x", "/Counter/add", "/Signup/run"]) {
    await t.test(path, async () => {
      assertIngressError(await post(`${env.ingress}${path}`), 400, BAD_HANDLER_PATH);
    });
  }
  await t.test("trailing slash is accepted", async () => {
    const res = await post(`${env.ingress}/Greeter/greet/`, { name: "slash" });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, "Hello SLASH");
  });
});

test("PUT, DELETE, PATCH: 405 method not allowed; HEAD: 405 without body", async () => {
  for (const method of ["PUT", "DELETE", "PATCH"]) {
    const res = await http(`${env.ingress}/Greeter/greet`, { method });
    assertIngressError(res, 405, "method not allowed");
  }
  const head = await fetch(`${env.ingress}/Greeter/greet`, { method: "HEAD" });
  assert.equal(head.status, 405);
  assert.equal(head.headers.get("x-restate-error-source"), "ingress");
  assert.equal(await head.text(), "");
});

test("OPTIONS answers the CORS preflight", async () => {
  const res = await fetch(`${env.ingress}/Greeter/greet`, {
    method: "OPTIONS",
    headers: { origin: "http://example.com", "access-control-request-method": "POST" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), "http://example.com");
  assert.equal(res.headers.get("access-control-allow-methods"), "POST");
  assert.equal(res.headers.get("access-control-allow-credentials"), "true");
  assert.equal(await res.text(), "");
});

test("TerminalError: status = code, source invocation, x-restate-id", async (t) => {
  await t.test("default code 500", async () => {
    const res = await post(`${env.ingress}/Greeter/fail`, { message: "this is terminal" });
    assertIngressError(res, 500, "this is terminal", "invocation");
    assert.deepEqual(res.json, { code: 500, message: "this is terminal", source: "invocation" });
  });
  for (const code of [400, 404, 409, 418, 503]) {
    await t.test(`errorCode ${code}`, async () => {
      const res = await post(`${env.ingress}/Greeter/fail`, { code, message: "custom terminal" });
      assertIngressError(res, code, "custom terminal", "invocation");
    });
  }
  await t.test("errorCode outside the HTTP range: status 500, body keeps the code", async () => {
    const res = await post(`${env.ingress}/Greeter/fail`, { code: 1000, message: "big" });
    assert.equal(res.status, 500, res.text);
    assert.deepEqual(res.json, { code: 1000, message: "big", source: "invocation" });
    assert.equal(res.headers.get("x-restate-error-source"), "invocation");
  });
  await t.test("TerminalError inside ctx.run", async () => {
    const res = await post(`${env.ingress}/Greeter/terminalInRun`);
    assertIngressError(res, 409, "terminal inside run", "invocation");
  });
});

test("TerminalError with metadata", async () => {
  const res = await post(`${env.ingress}/Greeter/fail`, {
    code: 422,
    message: "with metadata",
    metadata: { field: "name", reason: "too-short" },
  });
  assertIngressError(res, 422, "with metadata", "invocation");
  assert.deepEqual(res.json, {
    code: 422,
    message: "with metadata",
    metadata: { field: "name", reason: "too-short" },
    source: "invocation",
  });
});

test("handler returning undefined: 200, empty body, no content-type", async () => {
  const res = await post(`${env.ingress}/Greeter/echo`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.text, "");
  assert.equal(res.headers.get("content-length"), "0");
  assert.equal(res.headers.get("content-type"), null);
  assert.match(res.headers.get("x-restate-id") ?? "", /^inv_1/);

  const noop = await post(`${env.ingress}/Greeter/noop`);
  assert.equal(noop.status, 200, noop.text);
  assert.equal(noop.text, "");
  assert.equal(noop.headers.get("content-type"), null);
});

test("echo returns the input unchanged", async () => {
  const value = { nested: { list: [1, "two", null, true] }, unicode: "café ☕" };
  const res = await post(`${env.ingress}/Greeter/echo`, value);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, value);
});

test("whoami: the handler sees the request headers, the ingress path, and its own id", async () => {
  const key = uniqueKey("who");
  const res = await post(`${env.ingress}/Greeter/whoami?x=1`, undefined, {
    "x-custom": "hello",
    authorization: "Bearer t",
    "idempotency-key": key,
  });
  assert.equal(res.status, 200, res.text);
  const body = res.json as { headers: Record<string, string>; id: string };
  assert.equal(body.headers["x-restate-ingress-path"], "/Greeter/whoami?x=1");
  assert.equal(body.headers["x-custom"], "hello");
  assert.equal(body.headers["authorization"], "Bearer t");
  assert.equal(body.headers["idempotency-key"], undefined, "idempotency-key is stripped");
  assert.equal(body.headers["connection"], undefined, "hop-by-hop headers are stripped");
  assert.equal(body.id, res.headers.get("x-restate-id"));
});

test("ingress-private handler: 400 the invoked service is not public", async () => {
  assertIngressError(await post(`${env.ingress}/Private/hidden`), 400, "the invoked service is not public");
  assertIngressError(await post(`${env.ingress}/Private/hidden/send`), 400, "the invoked service is not public");
});

test("/restate/call/…/send: 400 with the /restate/call path message", async () => {
  assertIngressError(
    await post(`${env.ingress}/restate/call/Greeter/greet/send`, {}),
    400,
    "bad path, expected /restate/call/:service/:handler, /restate/send/:service/:handler, /restate/scope/:scope/call/:service/:handler, /restate/attach/:invocation_id, /restate/output/:invocation_id, or /restate/lookup",
  );
});

test("/restate/call and /restate/send aliases", async () => {
  const call = await post(`${env.ingress}/restate/call/Greeter/greet`, { name: "alias" });
  assert.equal(call.status, 200, call.text);
  assert.equal(call.json, "Hello ALIAS");
  const send = await post(`${env.ingress}/restate/send/Greeter/greet`, { name: "alias" });
  assert.equal(send.status, 202, send.text);
  assert.equal((send.json as { status: string }).status, "Accepted");
});

test("GET /restate/health lists the registered services; unknown /restate path 404", async () => {
  const res = await http(`${env.ingress}/restate/health`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.get("content-type"), "application/json");
  const services = (res.json as { services: string[] }).services;
  assert.deepEqual([...services].sort(), ["Counter", "Greeter", "Private", "QuickWf", "Signup", "Steps"]);

  assertIngressError(await http(`${env.ingress}/restate/foo`), 404, "not found");
});

/** POST `body` with node:http (fetch can fail with EPIPE when the server answers before reading the body). */
function rawPost(url: string, body: Uint8Array, timeoutMs: number): Promise<{ status: number; headers: nodeHttp.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request(url, { method: "POST", headers: { "content-type": "application/json", "content-length": body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

const jsonString = (bytes: number) => new TextEncoder().encode(JSON.stringify("x".repeat(bytes)));

test("request bodies: 1 MiB accepted; above the 32 MiB limit 413 in plain text", async () => {
  const ok = await rawPost(`${env.ingress}/Greeter/size`, jsonString(1024 * 1024), 10_000);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(JSON.parse(ok.text), { length: 1024 * 1024 });

  const tooLarge = await rawPost(`${env.ingress}/Greeter/size`, new Uint8Array(33 * 1024 * 1024).fill(0x20), 10_000);
  assert.equal(tooLarge.status, 413, tooLarge.text);
  assert.equal(tooLarge.headers["content-type"], "text/plain; charset=utf-8");
  assert.equal(tooLarge.text, "length limit exceeded");
  assert.equal(tooLarge.headers["x-restate-error-source"], undefined);
});

test(
  "request bodies: a 10 MiB input reaches the handler",
  async () => {
    const res = await rawPost(`${env.ingress}/Greeter/size`, jsonString(10 * 1024 * 1024), 4000);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(JSON.parse(res.text), { length: 10 * 1024 * 1024 });
  },
);
