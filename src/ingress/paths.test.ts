// Table tests of ingress path parsing against the reference's path rules (restate-ingress-admin-behaviour.md
// §1, §3, §6, §7): every route kind, trailing slashes, query strings, percent-decoding of keys (invalid
// escapes kept, `+` is not a space), idempotency keys taken literally, and the bad-path messages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BAD_HANDLER_PATH, decodeSegment, parseIngressPath, type IngressRoute } from "./paths.ts";

const BAD_RESTATE_CALL_PATH =
  "bad path, expected /restate/call/:service/:handler, /restate/send/:service/:handler, /restate/scope/:scope/call/:service/:handler, /restate/attach/:invocation_id, /restate/output/:invocation_id, or /restate/lookup";
const BAD_INVOCATION_PATH =
  "bad path, expected either /restate/invocation/:invocation_id/output or /restate/invocation/:invocation_id/attach or /restate/invocation/:invocation_target/:idempotency_key/output or /restate/invocation/:invocation_target/:idempotency_key/attach";
const BAD_WORKFLOW_PATH =
  "bad path, expected either /restate/workflow/:workflow_name/:workflow_key/output or /restate/workflow/:workflow_name/:workflow_key/attach";

function check(cases: ReadonlyArray<readonly [string, IngressRoute]>): void {
  for (const [path, expected] of cases) assert.deepEqual(parseIngressPath(path), expected, path);
}

const handler = (...segments: string[]): IngressRoute => ({ kind: "handler", segments });
const NOT_FOUND: IngressRoute = { kind: "not-found" };
const bad = (message: string): IngressRoute => ({ kind: "bad-path", message });

test("handler paths: service, object and send forms, with and without a trailing slash", () => {
  check([
    ["/Greeter/greet", handler("Greeter", "greet")],
    ["/Greeter/greet/", handler("Greeter", "greet")],
    ["/Greeter/greet/send", handler("Greeter", "greet", "send")],
    ["/Greeter/greet/send/", handler("Greeter", "greet", "send")],
    ["/Counter/c1/add", handler("Counter", "c1", "add")],
    ["/Counter/c1/add/send", handler("Counter", "c1", "add", "send")],
    // shapes the registry must decide on (§1.9): the parser only splits
    ["/Greeter/greet/send/x", handler("Greeter", "greet", "send", "x")],
    ["/Greeter/k/greet", handler("Greeter", "k", "greet")],
  ]);
});

test("handler paths: the query string is not part of the path", () => {
  check([
    ["/Greeter/whoami?x=1", handler("Greeter", "whoami")],
    ["/Greeter/greet/send?delay=1s", handler("Greeter", "greet", "send")],
    ["/Greeter/greet/?a=/b/c", handler("Greeter", "greet")],
  ]);
});

test("handler paths: an empty object key is a key (§3)", () => {
  check([["/Counter//add", handler("Counter", "", "add")]]);
});

test("handler paths keep key segments raw; the caller decodes the key with decodeSegment", () => {
  const route = parseIngressPath("/Counter/a%2Fb%20c/add");
  assert.deepEqual(route, handler("Counter", "a%2Fb%20c", "add"), "an encoded slash does not split the path");
  assert.equal(decodeSegment("a%2Fb%20c"), "a/b c");
});

test("bad handler paths (§1.8, §1.9)", () => {
  check([
    ["/", bad("bad path: /")],
    ["/Greeter", bad("bad path: /Greeter")],
    ["/Greeter/", bad("bad path: /Greeter/")],
    ["/health", bad("bad path: /health")],
    ["/openapi", bad("bad path: /openapi")],
    ["/A/b/c/d/e", bad(BAD_HANDLER_PATH)],
    ["/Greeter/greet/send/x/y", bad(BAD_HANDLER_PATH)],
  ]);
  assert.equal(BAD_HANDLER_PATH, "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler");
});

test("/restate/health and unknown /restate paths (§1.26, §1.27)", () => {
  check([
    ["/restate/health", { kind: "health" }],
    ["/restate/health/", { kind: "health" }],
    ["/restate/health?verbose=1", { kind: "health" }],
    ["/restate/health/x", NOT_FOUND],
    ["/restate/foo", NOT_FOUND],
    ["/restate/foo/bar/baz", NOT_FOUND],
  ]);
});

test("/restate/call and /restate/send aliases (§1.24, §1.25)", () => {
  check([
    ["/restate/call/Greeter/greet", { kind: "restate-call", send: false, segments: ["Greeter", "greet"] }],
    ["/restate/send/Greeter/greet", { kind: "restate-call", send: true, segments: ["Greeter", "greet"] }],
    ["/restate/call/Counter/k/add", { kind: "restate-call", send: false, segments: ["Counter", "k", "add"] }],
    ["/restate/send/Counter/k/add/", { kind: "restate-call", send: true, segments: ["Counter", "k", "add"] }],
    ["/restate/call/Greeter", bad(BAD_RESTATE_CALL_PATH)],
    ["/restate/call", bad(BAD_RESTATE_CALL_PATH)],
    ["/restate/send/A/b/c/d", bad(BAD_RESTATE_CALL_PATH)],
  ]);
});

test("/restate/scope is recognised (answered as unsupported by the server, §1.28)", () => {
  check([["/restate/scope/s1/call/Greeter/greet", { kind: "scope" }]]);
});

test("awakeables: resolve and reject under both prefixes", () => {
  check([
    ["/restate/awakeables/sign_1abc/resolve", { kind: "awakeable", id: "sign_1abc", action: "resolve" }],
    ["/restate/awakeables/sign_1abc/reject", { kind: "awakeable", id: "sign_1abc", action: "reject" }],
    ["/restate/a/sign_1abc/resolve/", { kind: "awakeable", id: "sign_1abc", action: "resolve" }],
    ["/restate/awakeables/sign_1abc/complete", NOT_FOUND],
    ["/restate/awakeables/sign_1abc", NOT_FOUND],
    ["/restate/awakeables//resolve", NOT_FOUND],
  ]);
});

test("attach and output by invocation id (§1.29, §6)", () => {
  check([
    ["/restate/attach/inv_1abc", { kind: "invocation-by-id", id: "inv_1abc", action: "attach" }],
    ["/restate/output/inv_1abc", { kind: "invocation-by-id", id: "inv_1abc", action: "output" }],
    ["/restate/invocation/inv_1abc/attach", { kind: "invocation-by-id", id: "inv_1abc", action: "attach" }],
    ["/restate/invocation/inv_1abc/output", { kind: "invocation-by-id", id: "inv_1abc", action: "output" }],
    ["/restate/invocation/inv_1abc/output/", { kind: "invocation-by-id", id: "inv_1abc", action: "output" }],
    ["/restate/invocation/abc/output", { kind: "invocation-by-id", id: "abc", action: "output" }],
    ["/restate/output", bad(BAD_RESTATE_CALL_PATH)],
    ["/restate/attach/a/b", bad(BAD_RESTATE_CALL_PATH)],
    ["/restate/invocation/inv_1abc/foo", NOT_FOUND],
    ["/restate/invocation/inv_1abc", bad(BAD_INVOCATION_PATH)],
    ["/restate/invocation", bad(BAD_INVOCATION_PATH)],
    // Three segments: the service is looked up first (unknown → 404), so the route names it.
    ["/restate/invocation/a/b/output", { kind: "bad-invocation-path", service: "a", message: BAD_INVOCATION_PATH }],
    ["/restate/invocation/a/b/c/d/e/output", bad(BAD_INVOCATION_PATH)],
  ]);
});

test("attach and output by idempotency key: the object key is decoded, the idempotency key is literal (§6)", () => {
  const byKey = (service: string, key: string | undefined, handlerName: string, idempotencyKey: string, action: "attach" | "output"): IngressRoute => ({
    kind: "invocation-by-key",
    service,
    key,
    handler: handlerName,
    idempotencyKey,
    action,
  });
  check([
    ["/restate/invocation/Greeter/sleep/k1/output", byKey("Greeter", undefined, "sleep", "k1", "output")],
    ["/restate/invocation/Greeter/sleep/k1/attach/", byKey("Greeter", undefined, "sleep", "k1", "attach")],
    ["/restate/invocation/Counter/ok1/countExec/k1/output", byKey("Counter", "ok1", "countExec", "k1", "output")],
    ["/restate/invocation/Counter/a%2Fb%20c/countExec/p%20q/attach", byKey("Counter", "a/b c", "countExec", "p%20q", "attach")],
    ["/restate/invocation/Greeter/sleep/x%20y/output", byKey("Greeter", undefined, "sleep", "x%20y", "output")],
    ["/restate/invocation/Greeter/sleep/a+b/output", byKey("Greeter", undefined, "sleep", "a+b", "output")],
    ["/restate/invocation/Counter//countExec/k/output", byKey("Counter", "", "countExec", "k", "output")],
    ["/restate/invocation/Greeter/sleep/k1/foo", NOT_FOUND],
    ["/restate/invocation/Counter/k/countExec/k1/foo", NOT_FOUND],
  ]);
});

test("workflow attach and output; the workflow id is decoded (§6, §7)", () => {
  check([
    ["/restate/workflow/Signup/w/output", { kind: "workflow", service: "Signup", key: "w", action: "output" }],
    ["/restate/workflow/Signup/w/attach/", { kind: "workflow", service: "Signup", key: "w", action: "attach" }],
    ["/restate/workflow/Signup/a%20b/output", { kind: "workflow", service: "Signup", key: "a b", action: "output" }],
    ["/restate/workflow/Signup/a+b/output", { kind: "workflow", service: "Signup", key: "a+b", action: "output" }],
    ["/restate/workflow/QuickWf/x/foo", NOT_FOUND],
    ["/restate/workflow/QuickWf/output", bad(BAD_WORKFLOW_PATH)],
    ["/restate/workflow/QuickWf", bad(BAD_WORKFLOW_PATH)],
    ["/restate/workflow/QuickWf/x/y/output", bad(BAD_WORKFLOW_PATH)],
  ]);
});

test("decodeSegment: the reference's key decoding table (§3)", () => {
  const cases: Array<[string, string]> = [
    ["a%2Fb%20c", "a/b c"],
    ["caf%C3%A9", "café"],
    ["café", "café"],
    ["x%25y", "x%y"],
    ["k%3Fq%3D1", "k?q=1"],
    ["a+b", "a+b"],
    ["%", "%"],
    ["a%2", "a%2"],
    ["", ""],
    ["plain", "plain"],
    ["%2f", "/"],
  ];
  for (const [raw, decoded] of cases) assert.equal(decodeSegment(raw), decoded, raw);
});

test("decodeSegment: valid escapes are decoded even when others in the segment are invalid", () => {
  const cases: Array<[string, string]> = [
    ["%zz%41", "%zzA"],
    ["100%", "100%"],
    ["%C3%A9%", "é%"],
    ["a%2%41", "a%2A"],
    ["%%41", "%A"],
  ];
  for (const [raw, decoded] of cases) assert.equal(decodeSegment(raw), decoded, raw);
});
