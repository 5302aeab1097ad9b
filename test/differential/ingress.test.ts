// Differential tests of the HTTP ingress: every case sends the same requests to the reference
// server (restate-server 1.7.12) and to perdure and compares what a client sees (see compare.ts).
// Case ids follow the sections of /work/shared/design/restate-ingress-admin-behaviour.md.
import assert from "node:assert/strict";
import { after, before, test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { runCase, type CaseFn, type CaseOptions, type Exchange, type Json, type Side } from "./compare.ts";
import { waitFor } from "../support/admin-client.ts";
import { awakeableIds, startHarness, type Harness } from "./harness.ts";

/**
 * Known differences: case id → why perdure differs from the reference. These cases pass (and are
 * reported); remove an entry once perdure matches, or the case fails as a stale exception.
 */
const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {
};

// Well-formed ids that exist on neither server (taken from the behaviour document).
const UNKNOWN_ID = "inv_13AGENVCZA7z6nSEHoF5rF2yxcKwvpDpX5";
const UNKNOWN_ID_2 = "inv_12W0CEBesRZt2MmWY1ymnDibUP5k8LxHyy";

let harness: Harness | undefined;

before(async () => {
  harness = await startHarness(KNOWN_DIFFERENCES);
}, { timeout: 40_000 });

after(async () => {
  await harness?.dispose();
});

function differ() {
  assert.ok(harness, "the servers did not start");
  return harness.differ;
}

/** A top-level test holding one differential case. */
function diff(id: string, title: string, fn: CaseFn, opts?: CaseOptions): void {
  test(`${id} ${title}`, (t) => runCase(t, differ(), id, title, fn, opts));
}

/** A differential case as a subtest (steps of a sequence). */
function diffStep(t: TestContext, id: string, title: string, fn: CaseFn, opts?: CaseOptions): Promise<void> {
  return t.test(`${id} ${title}`, (st) => runCase(st, differ(), id, title, fn, opts));
}

const post = (s: Side, path: string, json?: unknown, headers?: Record<string, string>): Promise<Exchange> =>
  s.ingress(path, json === undefined ? { method: "POST", ...(headers ? { headers } : {}) } : { json, ...(headers ? { headers } : {}) });

const idem = (key: string): Record<string, string> => ({ "idempotency-key": key });

/** Half-seconds between `sentAt` and the `executionTime` of a delayed-send answer (null if none). */
function delaySeconds(ex: Exchange, sentAt: number): Json {
  const body = ex.json as { executionTime?: string } | undefined;
  if (!body?.executionTime) return null;
  return Math.round(((Date.parse(body.executionTime) - sentAt) / 1000) * 2) / 2;
}

/** Calls `fn` until `done` holds for its answer (or 5 s pass); returns the last answer. */
async function until(fn: () => Promise<Exchange>, done: (ex: Exchange) => boolean, timeoutMs = 5000): Promise<Exchange> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ex = await fn();
    if (done(ex) || Date.now() > deadline) return ex;
    await sleep(25);
  }
}

// ---------------------------------------------------------------------------------------------
// §1 service calls

diff("1.1", "POST /Greeter/greet with JSON", (s) => post(s, "/Greeter/greet", { name: "anna" }), { refStatus: 200 });
diff("1.2", "GET /Greeter/greet invokes", (s) => s.ingress("/Greeter/greet"), { refStatus: 200 });
for (const method of ["PUT", "DELETE", "PATCH"]) {
  diff(`1.3-${method}`, `${method} /Greeter/greet is 405`, (s) =>
    s.ingress("/Greeter/greet", method === "DELETE" ? { method } : { method, json: { name: "x" } }), { refStatus: 405 });
}
diff("1.4", "HEAD /Greeter/greet is 405", (s) => s.ingress("/Greeter/greet", { method: "HEAD" }), { refStatus: 405 });
diff("1.5", "OPTIONS preflight (CORS)", (s) =>
  s.ingress("/Greeter/greet", {
    method: "OPTIONS",
    headers: { origin: "http://example.com", "access-control-request-method": "POST" },
  }), {
  refStatus: 200,
  headers: ["access-control-allow-origin", "access-control-allow-methods", "access-control-allow-credentials", "vary"],
});
diff("1.5b", "CORS headers on a normal call with origin", (s) =>
  s.ingress("/Greeter/greet", { json: {}, headers: { origin: "http://example.com" } }), {
  refStatus: 200,
  headers: ["access-control-allow-origin", "access-control-allow-credentials", "access-control-expose-headers", "vary"],
});
diff("1.5c", "OPTIONS preflight with access-control-request-headers", (s) =>
  s.ingress("/Greeter/greet", {
    method: "OPTIONS",
    headers: {
      origin: "http://example.com",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,idempotency-key",
    },
  }), {
  refStatus: 200,
  headers: ["access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers"],
});
diff("1.6", "unknown handler", (s) => post(s, "/Greeter/nope", {}), { refStatus: 404 });
diff("1.7", "unknown service", (s) => post(s, "/Nope/greet", {}), { refStatus: 404 });
for (const path of ["/Greeter", "/", "/health", "/openapi"]) {
  diff(`1.8 ${path}`, `bad path POST ${path}`, (s) => post(s, path, {}), { refStatus: 400 });
}
for (const path of ["/Greeter/k/greet", "/Greeter/greet/extra", "/Greeter/greet/send/x", "/Counter/add", "/Signup/run"]) {
  diff(`1.9 ${path}`, `bad handler path POST ${path}`, (s) => post(s, path, {}), { refStatus: 400 });
}
diff("1.10 call", "trailing slash on a call", (s) => post(s, "/Greeter/greet/", { name: "t" }), { refStatus: 200 });
diff("1.10 send", "trailing slash on a send", (s) => post(s, "/Greeter/greet/send/", { name: "t" }), { refStatus: 202 });
diff("1.11", "empty body with content-type application/json", (s) =>
  s.ingress("/Greeter/greet", { method: "POST", body: "", headers: { "content-type": "application/json" } }), { refStatus: 200 });
diff("1.12", "empty body without content-type", (s) => post(s, "/Greeter/greet"), { refStatus: 200 });
diff("1.13", "JSON body without content-type", (s) => s.ingress("/Greeter/greet", { body: '{"name":"anna"}' }), { refStatus: 400 });
for (const [id, contentType, status] of [
  ["1.14", "text/plain", 400],
  ["1.15", "APPLICATION/JSON", 400],
  ["1.16", "application/vnd.api+json", 400],
  ["1.17", "application/json; charset=utf-8", 200],
] as const) {
  diff(id, `content-type ${contentType}`, (s) =>
    s.ingress("/Greeter/greet", { body: '{"name":"anna"}', headers: { "content-type": contentType } }), { refStatus: status });
}
diff("1.18", "invalid JSON body", (s) =>
  s.ingress("/Greeter/greet", { body: '{"name":', headers: { "content-type": "application/json" } }), { refStatus: 400 });
diff("1.19 json", "noInput with a JSON body", (s) => post(s, "/Greeter/noInput", { ignored: true }), { refStatus: 200 });
diff("1.19 text", "noInput with a text/plain body", (s) =>
  s.ingress("/Greeter/noInput", { body: "hi", headers: { "content-type": "text/plain" } }), { refStatus: 400 });
diff("1.20", "binary handler with text/plain", (s) =>
  s.ingress("/Greeter/raw", { body: "hello", headers: { "content-type": "text/plain" } }), { refStatus: 200 });
diff("1.20 no ct", "binary handler without content-type", (s) => s.ingress("/Greeter/raw", { body: "hello" }), { refStatus: 400 });
diff("1.21", "handler returning undefined", (s) => post(s, "/Greeter/echo"), { refStatus: 200, headers: ["content-length"] });
diff("1.21b", "echo of a JSON value", (s) => post(s, "/Greeter/echo", { a: [1, "x"], b: null }), { refStatus: 200 });
diff("1.22", "headers the handler sees", (s) =>
  s.ingress("/Greeter/whoami?x=1", {
    json: {},
    headers: { "x-custom": "hello", authorization: "Bearer t", "idempotency-key": "whoami-1" },
  }), { refStatus: 200 });
diff("1.23", "ingress-private handler", (s) => post(s, "/Private/hidden", {}), { refStatus: 400 });
diff("1.23 send", "ingress-private handler via send", (s) => post(s, "/Private/hidden/send", {}), { refStatus: 400 });
diff("1.24 call", "/restate/call alias", (s) => post(s, "/restate/call/Greeter/greet", { name: "al" }), { refStatus: 200 });
diff("1.24 send", "/restate/send alias", (s) => post(s, "/restate/send/Greeter/greet", { name: "al" }), { refStatus: 202 });
diff("1.24 object", "/restate/call alias for an object", (s) => post(s, "/restate/call/Counter/alias1/add", 2), { refStatus: 200 });
diff("1.25", "/restate/call/…/send is a bad path", (s) => post(s, "/restate/call/Greeter/greet/send", {}), { refStatus: 400 });
diff("1.26", "GET /restate/health", (s) => s.ingress("/restate/health"), { refStatus: 200 });
diff("1.27", "GET /restate/foo", (s) => s.ingress("/restate/foo"), { refStatus: 404 });
diff("1.28", "scoped call", (s) => post(s, "/restate/scope/s1/call/Greeter/greet", {}), { refStatus: 400 });
diff("1.29", "/restate/output and /restate/attach aliases", async (s) => {
  const call = await post(s, "/Greeter/greet", { name: "o" });
  return {
    call,
    output: await s.ingress(`/restate/output/${call.id}`),
    attach: await s.ingress(`/restate/attach/${call.id}`),
  };
}, { refStatus: { call: 200, output: 200, attach: 200 } });

// ---------------------------------------------------------------------------------------------
// §4 errors thrown by handlers (messages come from the handler: compared exactly)

for (const code of [400, 404, 409, 418, 470, 503, 302, 200, 299, 600, 99, 1000]) {
  const httpStatus = code < 200 || code > 599 ? (code === 600 ? 600 : 500) : code;
  diff(`4.code-${code}`, `TerminalError errorCode ${code}`, (s) =>
    post(s, "/Greeter/fail", { code, message: "custom terminal" }), { exactMessage: true, refStatus: httpStatus });
}
diff("4.default", "TerminalError without code", (s) => post(s, "/Greeter/fail", { message: "this is terminal" }), {
  exactMessage: true,
  refStatus: 500,
});
diff("4.metadata", "TerminalError with metadata", (s) =>
  post(s, "/Greeter/fail", { code: 422, message: "with metadata", metadata: { field: "name", reason: "too-short" } }), {
  exactMessage: true,
  refStatus: 422,
});
diff("4.run", "TerminalError inside ctx.run", (s) => post(s, "/Greeter/terminalInRun", {}), { exactMessage: true, refStatus: 409 });
diff("4.flaky", "retried plain errors, then success", (s) => post(s, "/Greeter/flaky", {}), { parallel: true, refStatus: 200 });
diff("4.kill", "retries exhausted with onMaxAttempts kill", (s) => post(s, "/Greeter/failKill", {}), {
  parallel: true,
  exactMessage: true,
  refStatus: 500,
});
diff("3.fail", "TerminalError from an object handler", (s) => post(s, "/Counter/x/fail", {}), { exactMessage: true, refStatus: 400 });

// ---------------------------------------------------------------------------------------------
// §2 send and delayed send

diff("2.1", "POST …/send", (s) => post(s, "/Greeter/greet/send", { name: "s" }), { refStatus: 202 });
diff("2.2", "GET …/send", (s) => s.ingress("/Greeter/greet/send"), { refStatus: 202 });
diff("2.3", "send with unknown query parameter", (s) => post(s, "/Greeter/greet/send?foo=bar", { name: "s" }), { refStatus: 202 });
diff("2.4", "send to an object", (s) => post(s, "/Counter/c1/add/send", 1), { refStatus: 202 });
for (const [delay, seconds] of [
  ["1s", 1],
  ["PT1S", 1],
  ["500ms", 0.5],
  ["1%20second", 1],
  ["2m", 120],
  ["1h30m", 5400],
  ["P1D", 86400],
  ["0s", 0],
] as const) {
  diff(`2.delay ${delay}`, `send?delay=${delay}`, async (s) => {
    const sentAt = Date.now();
    const response = await post(s, `/Greeter/greet/send?delay=${delay}`, { name: "d" });
    return { response, delaySeconds: delaySeconds(response, sentAt), expectedSeconds: seconds };
  }, { refStatus: { response: 202 } });
}
for (const delay of ["1500", "abc", "-1s", ""]) {
  diff(`2.bad-delay '${delay}'`, `send?delay=${delay}`, (s) => post(s, `/Greeter/greet/send?delay=${delay}`, { name: "d" }), {
    refStatus: 400,
  });
}
for (const path of ["/Greeter/greet?delay=1s", "/Signup/d1/run?delay=1s", "/restate/call/Greeter/greet?delay=1s"]) {
  diff(`2.delay-on-call ${path}`, `delay on a call ${path}`, (s) => post(s, path, { name: "d" }), { refStatus: 400 });
}
diff("2.scheduled", "output (470) and attach of a delayed send", async (s) => {
  const sent = await post(s, "/Greeter/greet/send?delay=1s", { name: "later" });
  const output = await s.ingress(`/restate/invocation/${sent.invocationId}/output`);
  const attach = await s.ingress(`/restate/invocation/${sent.invocationId}/attach`);
  return { sent, output, attach };
}, { parallel: true, refStatus: { sent: 202, output: 470, attach: 200 } });
diff("2.workflow", "delayed send of a workflow run", async (s) => {
  const sent = await post(s, "/Signup/wd1/run/send?delay=1s", "in");
  const before = await post(s, "/Signup/wd1/status");
  const after = await until(() => post(s, "/Signup/wd1/status"), (ex) => ex.json === "waiting", 4000);
  return { sent, before, after };
}, { parallel: true, refStatus: { sent: 202, before: 200, after: 200 } });

// ---------------------------------------------------------------------------------------------
// §3 virtual objects

diff("3.1", "object state: add then get", async (s) => ({
  add: await post(s, "/Counter/c3/add", 5),
  add2: await post(s, "/Counter/c3/add", 3),
  get: await s.ingress("/Counter/c3/get"),
}), { refStatus: { add: 200, add2: 200, get: 200 } });
for (const key of ["a%2Fb%20c", "a%2fb%20c", "caf%C3%A9", "café", "x%25y", "k%3Fq%3D1", "a+b", "%", "a%2", "%zz", ""]) {
  diff(`3.key '${key}'`, `object key from path segment '${key}'`, (s) => post(s, `/KeyProbe/${key}/key`), { refStatus: 200 });
}
diff("3.empty-key", "empty key on Counter", async (s) => ({
  add: await post(s, "/Counter//add", 4),
  get: await s.ingress("/Counter//get"),
}), { refStatus: { add: 200, get: 200 } });
diff("3.queue", "exclusive calls queue per key; shared ones do not", async (s) => {
  const block = await post(s, "/Counter/q/block/send", { ms: 1500 });
  await sleep(100);
  const stamp = await post(s, "/Counter/q/stamp/send");
  const queuedOutput = await s.ingress(`/restate/invocation/${stamp.invocationId}/output`);
  const t0 = Date.now();
  const shared = await s.ingress("/Counter/q/get");
  const sharedFast = Date.now() - t0 < 700;
  const t1 = Date.now();
  const other = (await post(s, "/Counter/q-other/stamp")).status ?? null; // the body is a timestamp
  const otherFast = Date.now() - t1 < 700;
  const attach = await s.ingress(`/restate/invocation/${stamp.invocationId}/attach`);
  const waitedForBlock = Date.now() - t0 > 800;
  return { block, stamp, queuedOutput, shared, sharedFast, other, otherFast, attachStatus: attach.status ?? null, waitedForBlock };
}, { parallel: true, refStatus: { block: 202, stamp: 202, queuedOutput: 470, shared: 200 } });
diff("3.shared-concurrent", "two shared handlers on one key run concurrently", async (s) => {
  const t0 = Date.now();
  const [a, b] = await Promise.all([post(s, "/Counter/sk/sharedSleep", { ms: 1000 }), post(s, "/Counter/sk/sharedSleep", { ms: 1000 })]);
  return { a, b, concurrent: Date.now() - t0 < 1800 };
}, { parallel: true, refStatus: { a: 200, b: 200 } });

// ---------------------------------------------------------------------------------------------
// §5 idempotency

diff("5.1", "repeat with the same key replays", async (s) => ({
  first: await post(s, "/Counter/ik1/countExec", "a", idem("idem-1")),
  repeat: await post(s, "/Counter/ik1/countExec", "a", idem("idem-1")),
  differentBody: await post(s, "/Counter/ik1/countExec", "b", idem("idem-1")),
  execs: await s.ingress("/Counter/ik1/execs"),
}), { refStatus: { first: 200, repeat: 200, differentBody: 200, execs: 200 } });
diff("5.2", "the key is scoped to service, object key and handler", async (s) => ({
  first: await post(s, "/Counter/ik2/countExec", "a", idem("idem-2")),
  otherHandler: await post(s, "/Counter/ik2/add", 1, idem("idem-2")),
  otherObjectKey: await post(s, "/Counter/ik3/countExec", "a", idem("idem-2")),
}), { refStatus: { first: 200, otherHandler: 200, otherObjectKey: 200 } });
diff("5.3", "send with the key of a completed call", async (s) => ({
  call: await post(s, "/Counter/ik4/countExec", "a", idem("idem-3")),
  send: await post(s, "/Counter/ik4/countExec/send", "a", idem("idem-3")),
}), { refStatus: { call: 200, send: 202 } });
diff("5.4", "send, send again, then call with the same key", async (s) => {
  const first = await post(s, "/Greeter/sleep/send", { ms: 1000 }, idem("idem-4"));
  const again = await post(s, "/Greeter/sleep/send", { ms: 1000 }, idem("idem-4"));
  const call = await post(s, "/Greeter/sleep", { ms: 1000 }, idem("idem-4"));
  return { first, again, call };
}, { parallel: true, refStatus: { first: 202, again: 202, call: 200 } });
diff("5.5", "two concurrent calls with the same key", async (s) => {
  const [a, b] = await Promise.all([
    post(s, "/Greeter/sleep", { ms: 600 }, idem("idem-5")),
    post(s, "/Greeter/sleep", { ms: 600 }, idem("idem-5")),
  ]);
  return { sameId: a.id !== "" && a.id === b.id, a, b };
}, { parallel: true, refStatus: { a: 200, b: 200 } });
diff("5.6", "ctx.run does not re-execute on an idempotent repeat", async (s) => ({
  first: await post(s, "/Greeter/sideEffect", {}, idem("idem-6")),
  repeat: await post(s, "/Greeter/sideEffect", {}, idem("idem-6")),
}), { refStatus: { first: 200, repeat: 200 } });
diff("5.7", "empty idempotency-key is a key", async (s) => ({
  first: await post(s, "/Counter/ik7/countExec", "a", idem("")),
  repeat: await post(s, "/Counter/ik7/countExec", "a", idem("")),
}), { refStatus: { first: 200, repeat: 200 } });
diff("5.8", "delayed idempotent send, again", async (s) => {
  const first = await post(s, "/Greeter/greet/send?delay=1h", { name: "d" }, idem("idem-8"));
  const again = await post(s, "/Greeter/greet/send?delay=1h", { name: "d" }, idem("idem-8"));
  const t1 = (first.json as { executionTime?: string } | undefined)?.executionTime;
  const t2 = (again.json as { executionTime?: string } | undefined)?.executionTime;
  return { first, again, sameExecutionTime: t1 !== undefined && t1 === t2 };
}, { refStatus: { first: 202, again: 202 } });
diff("5.9 call", "idempotency key on a workflow run call", (s) => post(s, "/Signup/ik9/run", "x", idem("k")), { refStatus: 400 });
diff("5.9 send", "idempotency key on a workflow run send", (s) => post(s, "/Signup/ik9/run/send", "x", idem("k")), {
  refStatus: 400,
});
diff("5.10", "idempotency key on a workflow shared handler", async (s) => ({
  first: await post(s, "/QuickWf/ik10/info", undefined, idem("k10")),
  repeat: await post(s, "/QuickWf/ik10/info", undefined, idem("k10")),
}), { refStatus: { first: 200, repeat: 200 } });

// ---------------------------------------------------------------------------------------------
// §6 attach / output

diff("6.1", "output and attach by id of a completed call", async (s) => {
  const call = await post(s, "/Greeter/greet", { name: "c" });
  return {
    call,
    output: await s.ingress(`/restate/invocation/${call.id}/output`),
    attach: await s.ingress(`/restate/invocation/${call.id}/attach`),
  };
}, { refStatus: { call: 200, output: 200, attach: 200 } });
diff("6.2", "output and attach of a failed invocation", async (s) => {
  const call = await post(s, "/Greeter/fail", { code: 418, message: "teapot" });
  return {
    call,
    output: await s.ingress(`/restate/invocation/${call.id}/output`),
    attach: await s.ingress(`/restate/invocation/${call.id}/attach`),
  };
}, { exactMessage: true, refStatus: { call: 418, output: 418, attach: 418 } });
diff("6.3", "output (470) and attach of a running invocation", async (s) => {
  const sent = await post(s, "/Greeter/sleep/send", { ms: 1200 });
  await sleep(100);
  const output = await s.ingress(`/restate/invocation/${sent.invocationId}/output`);
  const attach = await s.ingress(`/restate/invocation/${sent.invocationId}/attach`);
  const outputAfter = await s.ingress(`/restate/invocation/${sent.invocationId}/output`);
  return { sent, output, attach, outputAfter };
}, { parallel: true, refStatus: { sent: 202, output: 470, attach: 200, outputAfter: 200 } });
diff("6.4 output", "output of an unknown id", (s) => s.ingress(`/restate/invocation/${UNKNOWN_ID}/output`), { refStatus: 404 });
diff("6.4 attach", "attach to an unknown id", async (s) => {
  const attach = await s.ingress(`/restate/invocation/${UNKNOWN_ID_2}/attach`);
  return { attach, idIsTheRequestedOne: attach.id === UNKNOWN_ID_2 };
}, { refStatus: { attach: 404 } });
for (const [label, id] of [
  ["abc", "abc"],
  ["no-prefix", UNKNOWN_ID.slice(4)],
  ["wrong-type", "dp_149C9ia9wAS9AYMwDmuUS09"],
] as const) {
  diff(`6.5 output ${label}`, `output of a malformed id (${label})`, (s) => s.ingress(`/restate/invocation/${id}/output`), {
    refStatus: 400,
  });
  diff(`6.5 attach ${label}`, `attach to a malformed id (${label})`, (s) => s.ingress(`/restate/invocation/${id}/attach`), {
    refStatus: 400,
  });
}
diff("6.6 foo", "/restate/invocation/{id}/foo", (s) => s.ingress(`/restate/invocation/${UNKNOWN_ID}/foo`), { refStatus: 404 });
diff("6.6 bare", "/restate/invocation/{id}", (s) => s.ingress(`/restate/invocation/${UNKNOWN_ID}`), { refStatus: 400 });
diff("6.6 post", "POST …/output", (s) => post(s, `/restate/invocation/${UNKNOWN_ID}/output`), { refStatus: 405 });
diff("6.7", "output and attach by idempotency key (service)", async (s) => {
  const call = await post(s, "/Greeter/greet", { name: "k" }, idem("ok-1"));
  return {
    call,
    output: await s.ingress("/restate/invocation/Greeter/greet/ok-1/output"),
    attach: await s.ingress("/restate/invocation/Greeter/greet/ok-1/attach"),
  };
}, { refStatus: { call: 200, output: 200, attach: 200 } });
diff("6.8 output", "output by unknown idempotency key", (s) => s.ingress("/restate/invocation/Greeter/sleep/nokey/output"), {
  refStatus: 404,
});
diff("6.8 attach", "attach by unknown idempotency key", (s) => s.ingress("/restate/invocation/Greeter/sleep/nokey/attach"), {
  refStatus: 404,
});
for (const [label, path, status] of [
  ["unknown handler", "/restate/invocation/Greeter/nope/k/output", 404],
  ["unknown service", "/restate/invocation/Nope/sleep/k/output", 404],
  ["object without key", "/restate/invocation/Counter/countExec/k/output", 400],
  ["service with key", "/restate/invocation/Greeter/x/sleep/k/output", 404],
] as const) {
  diff(`6.9 ${label}`, `output by idempotency key: ${label}`, (s) => s.ingress(path), { refStatus: status });
}
diff("6.10", "output by idempotency key (object): right and wrong key", async (s) => ({
  call: await post(s, "/Counter/ok1/countExec", "v", idem("ok-10")),
  right: await s.ingress("/restate/invocation/Counter/ok1/countExec/ok-10/output"),
  wrong: await s.ingress("/restate/invocation/Counter/ok2/countExec/ok-10/output"),
}), { refStatus: { call: 200, right: 200, wrong: 404 } });
diff("6.11", "idempotency-key path segment is not percent-decoded", async (s) => ({
  spaced: await post(s, "/Greeter/greet", { name: "p" }, idem("p q")),
  spacedEncoded: await s.ingress("/restate/invocation/Greeter/greet/p%20q/output"),
  literal: await post(s, "/Greeter/greet", { name: "x" }, idem("x%20y")),
  literalEncoded: await s.ingress("/restate/invocation/Greeter/greet/x%20y/output"),
}), { refStatus: { spaced: 200, spacedEncoded: 404, literal: 200, literalEncoded: 200 } });
diff("6.12", "object key path segment is percent-decoded", async (s) => ({
  call: await post(s, "/Counter/a%2Fb%20c/countExec", "v", idem("ok-12")),
  output: await s.ingress("/restate/invocation/Counter/a%2Fb%20c/countExec/ok-12/output"),
}), { refStatus: { call: 200, output: 200 } });
diff("6.13", "workflow attach/output before the run exists", async (s) => {
  const output = await s.ingress("/restate/workflow/Signup/pre1/output");
  const attach = await s.ingress("/restate/workflow/Signup/pre1/attach");
  const run = await post(s, "/Signup/pre1/run/send", "x");
  return { output, attach, run, attachIdIsRunId: attach.id !== "" && attach.id === run.invocationId };
}, { refStatus: { output: 404, attach: 404, run: 202 } });
for (const [label, path, status] of [
  ["unknown workflow output", "/restate/workflow/Nope/x/output", 404],
  ["service as workflow output", "/restate/workflow/Greeter/x/output", 404],
  ["unknown workflow attach", "/restate/workflow/Nope/x/attach", 404],
  ["missing id", "/restate/workflow/QuickWf/output", 400],
  ["unknown action", "/restate/workflow/QuickWf/x/foo", 404],
] as const) {
  diff(`6.14 ${label}`, `GET ${path}`, (s) => s.ingress(path), { refStatus: status });
}
diff("6.14 post", "POST /restate/workflow/QuickWf/x/output", (s) => post(s, "/restate/workflow/QuickWf/x/output"), { refStatus: 405 });

diff("6.15 unknown", "/restate/invocation/a/b/c (three segments, unknown service)", (s) => s.ingress("/restate/invocation/a/b/c"), {
  refStatus: 404,
});
diff("6.15 known", "/restate/invocation/Greeter/b/c (three segments, known service)", (s) => s.ingress("/restate/invocation/Greeter/b/c"), {
  refStatus: 400,
});
diff("6.16", "/restate/invocation with six segments", (s) => s.ingress("/restate/invocation/Counter/k/countExec/x/y/output"), {
  refStatus: 400,
});

// ---------------------------------------------------------------------------------------------
// awakeables (not in the behaviour document; the SDK ingress client resolves and rejects them)

diff("aw.roundtrip", "resolve an awakeable through the ingress", async (s) => {
  const key = `${s.name}-aw1`;
  const call = post(s, `/AwakeProbe/${key}/wait`);
  const id = await waitFor(() => awakeableIds.get(key), 5000);
  const resolve = await s.ingress(`/restate/awakeables/${id}/resolve`, { json: { ok: 1 } });
  const result = await call;
  const resolveAgain = await s.ingress(`/restate/awakeables/${id}/resolve`, { json: { ok: 2 } });
  return { idPrefix: id.slice(0, 6), resolve, result, resolveAgain };
}, { parallel: true, refStatus: { resolve: 202, result: 200 } });
diff("aw.reject", "reject an awakeable through the ingress", async (s) => {
  const key = `${s.name}-aw2`;
  const call = post(s, `/AwakeProbe/${key}/wait`);
  const id = await waitFor(() => awakeableIds.get(key), 5000);
  const reject = await s.ingress(`/restate/a/${id}/reject`, { body: "nope", headers: { "content-type": "text/plain" } });
  return { reject, result: await call };
}, { parallel: true, exactMessage: ["result"], refStatus: { reject: 202 } });
for (const [label, path, status] of [
  ["malformed", "/restate/awakeables/abc/resolve", 400],
  ["wrong length", "/restate/a/sign_1abc/resolve", 400],
  ["unknown", "/restate/awakeables/sign_1AZGpL2Am1HwBl6ZNi7f42l4yF9c1bEhwAAAAAQ/resolve", 202],
  ["legacy prom_1", "/restate/awakeables/prom_1AZGpL2Am1HwBl6ZNi7f42l4yF9c1bEhwAAAAAQ/reject", 202],
  ["unknown action", "/restate/awakeables/sign_1AZGpL2Am1HwBl6ZNi7f42l4yF9c1bEhwAAAAAQ/foo", 404],
] as const) {
  diff(`aw.${label}`, `POST ${path}`, (s) => post(s, path, "x"), { refStatus: status });
}

// ---------------------------------------------------------------------------------------------
// §7 workflows

test("7 Signup workflow sequence", async (t) => {
  const W = "/Signup/w7";
  const runId = (s: Side, ex: Exchange): Json => ex.invocationId === s.get("runId") || ex.id === s.get("runId");
  await diffStep(t, "7.1", "shared handler before the run", (s) => post(s, `${W}/status`), { refStatus: 200 });
  await diffStep(t, "7.2", "peek before the run", (s) => post(s, `${W}/peek`), { refStatus: 200 });
  await diffStep(t, "7.3", "run/send", async (s) => {
    const sent = await post(s, `${W}/run/send`, "in1");
    s.vars.set("runId", sent.invocationId);
    return sent;
  }, { refStatus: 202 });
  await diffStep(t, "7.4", "run/send again", async (s) => {
    const again = await post(s, `${W}/run/send`, "in2");
    return { again, sameRun: runId(s, again) };
  }, { refStatus: { again: 202 } });
  await diffStep(t, "7.5", "run call while running", async (s) => {
    const status = await until(() => post(s, `${W}/status`), (ex) => ex.json === "waiting");
    const call = await post(s, `${W}/run`, "in3", {});
    return { status, call, sameRun: runId(s, call) };
  }, { refStatus: { status: 200, call: 409 } });
  await diffStep(t, "7.6", "output while running", (s) => s.ingress(`/restate/workflow/Signup/w7/output`), { refStatus: 470 });
  await diffStep(t, "7.7", "attach, then confirm", async (s) => {
    const attaching = s.ingress(`/restate/workflow/Signup/w7/attach`);
    await sleep(300); // let the attach arrive first, so it reads a live (not completed) invocation
    const confirm = await post(s, `${W}/confirm`, "yes");
    const attach = await attaching;
    return { confirm, attach, sameRun: runId(s, attach) };
  }, { parallel: true, refStatus: { confirm: 200, attach: 200 } });
  await diffStep(t, "7.9", "output after completion", (s) => s.ingress(`/restate/workflow/Signup/w7/output`), { refStatus: 200 });
  await diffStep(t, "7.10", "run call after completion", (s) => post(s, `${W}/run`, "in4"), { refStatus: 409 });
  await diffStep(t, "7.11", "run/send after completion", async (s) => {
    const sent = await post(s, `${W}/run/send`, "in5");
    return { sent, sameRun: runId(s, sent) };
  }, { refStatus: { sent: 202 } });
  await diffStep(t, "7.12", "shared handlers after completion", async (s) => ({
    status: await post(s, `${W}/status`),
    peek: await post(s, `${W}/peek`),
  }), { refStatus: { status: 200, peek: 200 } });
  await diffStep(t, "7.13", "confirm again", (s) => post(s, `${W}/confirm`, "again"), { refStatus: 409 });
});

diff("7.quick", "QuickWf run call", (s) => post(s, "/QuickWf/q/run", "a"), { refStatus: 200 });
diff("7.quick-fail", "failing workflow: call, output, run again", async (s) => ({
  call: await post(s, "/QuickWf/f/run", { fail: true }),
  output: await s.ingress("/restate/workflow/QuickWf/f/output"),
  again: await post(s, "/QuickWf/f/run", { fail: true }),
}), { exactMessage: true, refStatus: { call: 400, output: 400, again: 409 } });
diff("7.encoded-id", "workflow id is percent-decoded", async (s) => ({
  run: await post(s, "/QuickWf/a%20b/run", "e"),
  info: await post(s, "/QuickWf/a%20b/info"),
  output: await s.ingress("/restate/workflow/QuickWf/a%20b/output"),
}), { refStatus: { run: 200, info: 200, output: 200 } });

// ---------------------------------------------------------------------------------------------

test("summary", async (t) => {
  const d = differ();
  for (const line of d.summary().split("\n")) t.diagnostic(line);
  await d.writeReport("ingress");
  assert.deepEqual(d.unusedExceptions(), [], "exceptions listed for cases that do not exist");
});
