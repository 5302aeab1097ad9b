// Tests of endpoint manifest parsing: a v4 manifest exactly as @restatedev/restate-sdk 1.17.2 serves it from
// GET /discover, and every way a manifest is refused (protocol mode, versions, names, handler types).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MANIFEST_CONTENT_TYPES,
  MAX_SERVICE_PROTOCOL_VERSION,
  MIN_SERVICE_PROTOCOL_VERSION,
  ManifestError,
  parseEndpointManifest,
  pickProtocolVersion,
} from "./endpoint-manifest.ts";

/** Served by the SDK (1.17.2, Node 24) for a Greeter service, a Counter object and a Signup workflow. */
const SDK_MANIFEST = `{"minProtocolVersion":5,"maxProtocolVersion":7,"services":[{"name":"Greeter","ty":"SERVICE","handlers":[{"name":"greet","input":{"required":false,"contentType":"application/json"},"output":{"setContentTypeIfEmpty":false,"contentType":"application/json"}},{"name":"noInput","input":{"required":false,"contentType":"application/json"},"output":{"setContentTypeIfEmpty":false,"contentType":"application/json"}},{"name":"raw","input":{"required":false,"contentType":"application/octet-stream"},"output":{"setContentTypeIfEmpty":false,"contentType":"application/octet-stream"}}],"journalRetention":86400000,"retryPolicyInitialInterval":100,"retryPolicyMaxAttempts":3,"retryPolicyOnMaxAttempts":"KILL"},{"name":"Counter","ty":"VIRTUAL_OBJECT","handlers":[{"name":"add","ty":"EXCLUSIVE","input":{"required":false,"contentType":"application/json"},"output":{"setContentTypeIfEmpty":false,"contentType":"application/json"}},{"name":"get","ty":"SHARED","input":{"required":false,"contentType":"application/json"},"output":{"setContentTypeIfEmpty":false,"contentType":"application/json"}}]},{"name":"Signup","ty":"WORKFLOW","handlers":[{"name":"run","ty":"WORKFLOW","input":{"required":false,"contentType":"application/json"},"output":{"setContentTypeIfEmpty":false,"contentType":"application/json"}},{"name":"status","ty":"SHARED","input":{"required":false,"contentType":"application/json"},"output":{"setContentTypeIfEmpty":false,"contentType":"application/json"}}]}],"protocolMode":"BIDI_STREAM"}`;

type Doc = Record<string, unknown>;
const sdkManifest = (): Doc => JSON.parse(SDK_MANIFEST) as Doc;
const json = { required: false, contentType: "application/json" };
const jsonOut = { contentType: "application/json", setContentTypeIfEmpty: false };

function manifest(services: unknown[], over: Doc = {}): Doc {
  return { protocolMode: "BIDI_STREAM", minProtocolVersion: MIN_SERVICE_PROTOCOL_VERSION, maxProtocolVersion: MAX_SERVICE_PROTOCOL_VERSION, services, ...over };
}
const svc = (name: string, ty: string, handlers: unknown[], over: Doc = {}) => ({ name, ty, handlers, ...over });
const h = (name: string, over: Doc = {}) => ({ name, input: json, output: jsonOut, ...over });

function refused(doc: unknown, pattern: RegExp, message?: string): void {
  assert.throws(
    () => parseEndpointManifest(doc),
    (err: unknown) => err instanceof ManifestError && pattern.test(err.message),
    message ?? `should be refused with ${pattern}`,
  );
}

test("a v4 manifest as the SDK emits it", () => {
  const m = parseEndpointManifest(sdkManifest());
  assert.equal(m.protocolMode, "BIDI_STREAM");
  assert.equal(m.minProtocolVersion, 5);
  assert.equal(m.maxProtocolVersion, 7);
  assert.deepEqual(
    m.services.map((s) => [s.name, s.ty]),
    [
      ["Greeter", "service"],
      ["Counter", "virtual_object"],
      ["Signup", "workflow"],
    ],
  );
  const [greeter, counter, signup] = m.services;
  assert.deepEqual(greeter!.options, { journalRetentionMs: 86_400_000, retryPolicy: { initialIntervalMs: 100, maxAttempts: 3, onMaxAttempts: "kill" } });
  assert.deepEqual(greeter!.handlers[0], { name: "greet", ty: undefined, input: json, output: jsonOut, options: {} });
  assert.deepEqual(greeter!.handlers[2]!.input, { required: false, contentType: "application/octet-stream" });
  assert.deepEqual(
    counter!.handlers.map((x) => [x.name, x.ty]),
    [
      ["add", "exclusive"],
      ["get", "shared"],
    ],
  );
  assert.deepEqual(
    signup!.handlers.map((x) => [x.name, x.ty]),
    [
      ["run", "workflow"],
      ["status", "shared"],
    ],
  );
  assert.deepEqual(counter!.options, {});
});

test("REQUEST_RESPONSE mode, documentation, metadata and every option are read", () => {
  const m = parseEndpointManifest(
    manifest(
      [
        svc("Docs", "VIRTUAL_OBJECT", [h("a", { documentation: "does a", metadata: { x: "1" }, inactivityTimeout: 1_000, enableLazyState: true })], {
          documentation: "a service",
          metadata: { team: "core" },
          abortTimeout: 2_000,
          idempotencyRetention: 3_000,
          ingressPrivate: true,
          retryPolicyMaxInterval: 4_000,
          retryPolicyExponentiationFactor: 1.5,
          retryPolicyOnMaxAttempts: "PAUSE",
        }),
        svc("Wf", "WORKFLOW", [h("run", { ty: "WORKFLOW", workflowCompletionRetention: 5_000 })]),
      ],
      { protocolMode: "REQUEST_RESPONSE" },
    ),
  );
  assert.equal(m.protocolMode, "REQUEST_RESPONSE");
  const [docs, wf] = m.services;
  assert.equal(docs!.documentation, "a service");
  assert.deepEqual(docs!.metadata, { team: "core" });
  assert.deepEqual(docs!.options, {
    abortTimeoutMs: 2_000,
    idempotencyRetentionMs: 3_000,
    ingressPrivate: true,
    retryPolicy: { maxIntervalMs: 4_000, exponentiationFactor: 1.5, onMaxAttempts: "pause" },
  });
  assert.equal(docs!.handlers[0]!.documentation, "does a");
  assert.deepEqual(docs!.handlers[0]!.metadata, { x: "1" });
  assert.deepEqual(docs!.handlers[0]!.options, { inactivityTimeoutMs: 1_000, enableLazyState: true });
  assert.deepEqual(wf!.handlers[0]!.options, { workflowCompletionRetentionMs: 5_000 });
});

test("a manifest without protocolMode, or with an unknown one, is refused", () => {
  const doc = sdkManifest();
  delete doc.protocolMode;
  refused(doc, /missing protocol mode/);
  refused({ ...sdkManifest(), protocolMode: "bidi_stream" }, /unknown protocol mode "bidi_stream"/);
  refused({ ...sdkManifest(), protocolMode: null }, /protocol mode/);
});

test("bad protocol versions and ranges are refused", () => {
  for (const [min, max] of [
    [undefined, 6],
    [5, undefined],
    ["5", 6],
    [5.5, 6],
    [0, 6],
    [-1, 6],
    [5, Number.NaN],
  ] as const) {
    refused(manifest([], { minProtocolVersion: min, maxProtocolVersion: max }), /'minProtocolVersion' and 'maxProtocolVersion' must be positive integers/, `[${min}, ${max}]`);
  }
  refused(manifest([], { minProtocolVersion: 6, maxProtocolVersion: 5 }), /minProtocolVersion 6 is greater than maxProtocolVersion 5/);
  const unsupported = new RegExp(`perdure supports \\[${MIN_SERVICE_PROTOCOL_VERSION}, ${MAX_SERVICE_PROTOCOL_VERSION}\\]`);
  refused(manifest([], { minProtocolVersion: 1, maxProtocolVersion: MIN_SERVICE_PROTOCOL_VERSION - 1 }), unsupported);
  refused(manifest([], { minProtocolVersion: MAX_SERVICE_PROTOCOL_VERSION + 1, maxProtocolVersion: MAX_SERVICE_PROTOCOL_VERSION + 3 }), unsupported);
  // any overlap is enough
  assert.ok(parseEndpointManifest(manifest([], { minProtocolVersion: 1, maxProtocolVersion: MIN_SERVICE_PROTOCOL_VERSION })));
  assert.ok(parseEndpointManifest(manifest([], { minProtocolVersion: MAX_SERVICE_PROTOCOL_VERSION, maxProtocolVersion: 99 })));
});

test("pickProtocolVersion takes the highest version both sides speak", () => {
  assert.equal(pickProtocolVersion(1, 99), MAX_SERVICE_PROTOCOL_VERSION);
  assert.equal(pickProtocolVersion(MIN_SERVICE_PROTOCOL_VERSION, MIN_SERVICE_PROTOCOL_VERSION), MIN_SERVICE_PROTOCOL_VERSION);
  assert.equal(pickProtocolVersion(1, MIN_SERVICE_PROTOCOL_VERSION - 1), undefined);
  assert.equal(pickProtocolVersion(MAX_SERVICE_PROTOCOL_VERSION + 1, 99), undefined);
  assert.deepEqual(MANIFEST_CONTENT_TYPES, [2, 3, 4].map((v) => `application/vnd.restate.endpointmanifest.v${v}+json`));
});

test("malformed documents are refused with the field named", () => {
  refused(null, /must be a JSON object/);
  refused([], /must be a JSON object/);
  refused("{}", /must be a JSON object/);
  refused(manifest([], { services: undefined }), /'services' must be an array/);
  refused(manifest(["Greeter"]), /every service must be an object/);
  refused(manifest([svc("A", "ACTOR", [])]), /service 'A': unknown type "ACTOR"/);
  refused(manifest([{ name: "A", ty: "SERVICE" }]), /service 'A': 'handlers' must be an array/);
  refused(manifest([svc("A", "SERVICE", [null])]), /service 'A': every handler must be an object/);
  refused(manifest([svc("A", "SERVICE", [h("a", { input: "json" })])]), /handler 'A\/a': 'input' and 'output' must be objects/);
  refused(manifest([svc("A", "SERVICE", [h("a", { inactivityTimeout: "10s" })])]), /handler 'A\/a': 'inactivityTimeout' must be a non-negative number/);
  refused(manifest([svc("A", "SERVICE", [], { journalRetention: -1 })]), /service 'A': 'journalRetention' must be a non-negative number/);
  refused(manifest([svc("A", "SERVICE", [], { enableLazyState: "yes" })]), /service 'A': 'enableLazyState' must be a boolean/);
  refused(manifest([svc("A", "SERVICE", [], { retryPolicyOnMaxAttempts: "STOP" })]), /'retryPolicyOnMaxAttempts' must be PAUSE or KILL/);
});

test("bad service names are refused", () => {
  for (const name of ["", "1abc", "a b", "_", "-a", ".a", "a/b", "café", 42, undefined]) {
    refused(manifest([svc(name as string, "SERVICE", [])]), /invalid service name/, `service name ${JSON.stringify(name)}`);
  }
  for (const name of ["restate", "RestateAdmin", "restate.io", "openapi", "OpenAPI"]) {
    refused(manifest([svc(name, "SERVICE", [])]), /is reserved/, name);
  }
  for (const name of ["a", "Greeter", "_a", "_1", "a.b-c_d", "my-service.v2"]) {
    assert.equal(parseEndpointManifest(manifest([svc(name, "SERVICE", [])])).services[0]!.name, name);
  }
  refused(manifest([svc("A", "SERVICE", []), svc("A", "VIRTUAL_OBJECT", [])]), /service 'A' is declared twice/);
});

test("bad handler names are refused", () => {
  for (const name of ["", "1a", "a-b", "a.b", "a b", "_", 7, undefined]) {
    refused(manifest([svc("S", "SERVICE", [h(name as string)])]), /service 'S': invalid handler name/, `handler name ${JSON.stringify(name)}`);
  }
  for (const name of ["a", "greet", "_a", "do_it2"]) {
    assert.equal(parseEndpointManifest(manifest([svc("S", "SERVICE", [h(name)])])).services[0]!.handlers[0]!.name, name);
  }
  refused(manifest([svc("S", "SERVICE", [h("a"), h("a")])]), /service 'S': handler 'a' is declared twice/);
});

test("handler types default by service type: exclusive for objects, shared for workflows, none for services", () => {
  const m = parseEndpointManifest(
    manifest([
      svc("S", "SERVICE", [h("a")]),
      svc("O", "VIRTUAL_OBJECT", [h("a"), h("b", { ty: "SHARED" }), h("c", { ty: null })]),
      svc("W", "WORKFLOW", [h("run", { ty: "WORKFLOW" }), h("q")]),
    ]),
  );
  const types = m.services.map((s) => s.handlers.map((x) => x.ty));
  assert.deepEqual(types, [[undefined], ["exclusive", "shared", "exclusive"], ["workflow", "shared"]]);
});

test("handler types that do not fit the service type are refused", () => {
  refused(manifest([svc("S", "SERVICE", [h("a", { ty: "EXCLUSIVE" })])]), /handler 'S\/a': handlers of a plain service have no type/);
  refused(manifest([svc("S", "SERVICE", [h("a", { ty: "SHARED" })])]), /handlers of a plain service have no type/);
  refused(manifest([svc("O", "VIRTUAL_OBJECT", [h("a", { ty: "WORKFLOW" })])]), /handler 'O\/a': WORKFLOW handlers only exist in workflows/);
  refused(manifest([svc("W", "WORKFLOW", [h("run", { ty: "WORKFLOW" }), h("a", { ty: "EXCLUSIVE" })])]), /handler 'W\/a': workflows have no EXCLUSIVE handlers/);
  refused(manifest([svc("O", "VIRTUAL_OBJECT", [h("a", { ty: "exclusive" })])]), /handler 'O\/a': unknown handler type "exclusive"/);
});

test("a workflow needs exactly one WORKFLOW handler", () => {
  refused(manifest([svc("W", "WORKFLOW", [h("status", { ty: "SHARED" })])]), /workflow 'W' must have exactly one WORKFLOW handler/);
  refused(manifest([svc("W", "WORKFLOW", [])]), /workflow 'W' must have exactly one WORKFLOW handler/);
  refused(manifest([svc("W", "WORKFLOW", [h("run", { ty: "WORKFLOW" }), h("run2", { ty: "WORKFLOW" })])]), /exactly one WORKFLOW handler/);
  refused(manifest([svc("W", "WORKFLOW", [h("run")])]), /exactly one WORKFLOW handler/, "an untyped workflow handler is shared, not the run handler");
});
