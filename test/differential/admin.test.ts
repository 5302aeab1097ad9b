// Differential tests of the admin API (deployments, services, retention settings, misc endpoints)
// and of invocation management (cancel / kill / purge), against the reference server and perdure.
// Case ids follow §8 and §10 of /work/shared/design/restate-ingress-admin-behaviour.md.
// Order matters: cases that change schema or settings come after the ones that read them.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../support/free-port.ts";
import { runCase, type CaseFn, type CaseOptions, type Exchange, type Json, type Side } from "./compare.ts";
import { startHarness, type Harness } from "./harness.ts";

/**
 * Known differences: case id → why perdure differs from the reference. These cases pass (and are
 * reported); remove an entry once perdure matches, or the case fails as a stale exception.
 */
const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {
  "10.openapi": "GET /openapi describes each server's own admin API, so the title and the number of paths differ (both 200, OpenAPI 3.1.0)",
};

const UNKNOWN_INVOCATION = "inv_13AGENVCZA7z6nSEHoF5rF2yxcKwvpDpX5";
const UNKNOWN_DEPLOYMENT = "dp_149C9ia9wAS9AYMwDmuUS09";

let harness: Harness | undefined;

before(async () => {
  harness = await startHarness(KNOWN_DIFFERENCES);
}, { timeout: 40_000 });

after(async () => {
  await harness?.dispose();
});

function h(): Harness {
  assert.ok(harness, "the servers did not start");
  return harness;
}

function diff(id: string, title: string, fn: CaseFn, opts?: CaseOptions): void {
  test(`${id} ${title}`, (t) => runCase(t, h().differ, id, title, fn, opts));
}

const json = (method: string, body: unknown): { method: string; json: unknown } => ({ method, json: body });
const post = (s: Side, path: string, body?: unknown, headers?: Record<string, string>): Promise<Exchange> =>
  s.ingress(path, body === undefined ? { method: "POST", ...(headers ? { headers } : {}) } : { json: body, ...(headers ? { headers } : {}) });
const idem = (key: string): Record<string, string> => ({ "idempotency-key": key });
const patch = (s: Side, path: string) => s.admin(path, { method: "PATCH" });

function firstRegistration(s: Side): Exchange {
  return s.name === "reference" ? h().firstRegistration.reference : h().firstRegistration.perdure;
}

function deploymentId(s: Side): string {
  return (firstRegistration(s).json as { id: string }).id;
}

/** Hours from now until the idempotency-expires header of `ex` (rounded), or null. */
function expiresInHours(ex: Exchange): Json {
  const v = ex.headers.get("idempotency-expires");
  return v === null ? null : Math.round((Date.parse(v) - Date.now()) / 3_600_000);
}

/**
 * Starts a Greeter/sleep call with an idempotency key (the blocked caller) and learns its id from a
 * /send with the same key (PreviouslyAccepted), then gives it time to reach ctx.sleep.
 */
async function sleepingInvocation(s: Side, key: string, ms = 30_000): Promise<{ caller: Promise<Exchange>; sent: Exchange; id: string }> {
  const caller = post(s, "/Greeter/sleep", { ms }, idem(key));
  await sleep(150);
  const sent = await post(s, "/Greeter/sleep/send", { ms }, idem(key));
  await sleep(300);
  return { caller, sent, id: sent.invocationId };
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

const waitForStatus = (s: Side, path: string, want: string): Promise<Exchange> => until(() => post(s, path), (ex) => ex.json === want);

// ---------------------------------------------------------------------------------------------
// §10 deployments

diff("10.register-new", "first POST /deployments", async (s) => firstRegistration(s), { refStatus: 201, headers: ["location"] });
diff("10.get-deployments", "GET /deployments", (s) => s.admin("/deployments"), { refStatus: 200 });
diff("10.get-deployment", "GET /deployments/{id}", (s) => s.admin(`/deployments/${deploymentId(s)}`), { refStatus: 200 });
diff("10.get-deployment-unknown", "GET /deployments/{unknown}", (s) => s.admin(`/deployments/${UNKNOWN_DEPLOYMENT}`), {
  refStatus: 404,
});
diff("10.get-deployment-malformed", "GET /deployments/abc", (s) => s.admin("/deployments/abc"), { refStatus: 400 });

// §10 services

diff("10.services", "GET /services", (s) => s.admin("/services"), { refStatus: 200 });
for (const name of ["Greeter", "Counter", "Signup", "QuickWf", "Private", "Steps", "KeyProbe"]) {
  diff(`10.service ${name}`, `GET /services/${name}`, (s) => s.admin(`/services/${name}`), { refStatus: 200 });
}
diff("10.service-unknown", "GET /services/Nope", (s) => s.admin("/services/Nope"), { refStatus: 404 });
diff("10.handlers", "GET /services/Counter/handlers", (s) => s.admin("/services/Counter/handlers"), { refStatus: 200 });
diff("10.handler", "GET /services/Counter/handlers/sharedSleep", (s) => s.admin("/services/Counter/handlers/sharedSleep"), {
  refStatus: 200,
});
diff("10.handler-binary", "GET /services/Greeter/handlers/raw", (s) => s.admin("/services/Greeter/handlers/raw"), {
  refStatus: 200,
});
diff("10.handler-unknown", "GET /services/Counter/handlers/nope", (s) => s.admin("/services/Counter/handlers/nope"), {
  refStatus: 404,
});

// §10 registering again, and bad registrations

diff("10.register-again", "POST /deployments again (same endpoint)", async (s) => {
  const response = await s.admin("/deployments", json("POST", { uri: h().services.url }));
  return { response, sameId: (response.json as { id?: string } | undefined)?.id === deploymentId(s) };
}, { refStatus: { response: 200 }, headers: ["location"] });
for (const [label, extra] of [
  ["force false", { force: false }],
  ["dry run", { dry_run: true }],
] as const) {
  diff(`10.register-again ${label}`, `POST /deployments again (${label})`, (s) =>
    s.admin("/deployments", json("POST", { uri: h().services.url, ...extra })), { refStatus: 200, headers: ["location"] });
}
diff("10.register-again slash", "POST /deployments again (trailing slash)", (s) =>
  s.admin("/deployments", json("POST", { uri: h().services.url + "/" })), { refStatus: 200, headers: ["location"] });
diff("10.register-url-field", "POST /deployments {url}", (s) => s.admin("/deployments", json("POST", { url: h().services.url })), {
  refStatus: 422,
});
diff("10.register-not-a-uri", "POST /deployments {uri: 'not a uri'}", (s) =>
  s.admin("/deployments", json("POST", { uri: "not a uri" })), { refStatus: 422 });
diff("10.register-bad-json", "POST /deployments with body '{'", (s) =>
  s.admin("/deployments", { method: "POST", body: "{", headers: { "content-type": "application/json" } }), { refStatus: 400 });
diff("10.register-no-content-type", "POST /deployments without content-type", (s) =>
  s.admin("/deployments", { method: "POST", body: JSON.stringify({ uri: h().services.url }) }), { refStatus: 415 });
test("10.register-unreachable POST /deployments with an unreachable uri", async (t) => {
  const port = await freePort();
  await runCase(t, h().differ, "10.register-unreachable", "POST /deployments with an unreachable uri", (s) =>
    s.admin("/deployments", json("POST", { uri: `http://127.0.0.1:${port}` })), { refStatus: 500, parallel: true });
});

// ---------------------------------------------------------------------------------------------
// §10 PATCH /services (on Steps unless the case is about another service)

for (const [label, body, status] of [
  ["idempotency 2days", { idempotency_retention: "2days" }, 200],
  ["idempotency PT3H", { idempotency_retention: "PT3H" }, 200],
  ["idempotency 1 hour 30 minutes", { idempotency_retention: "1 hour 30 minutes" }, 200],
  ["idempotency forever", { idempotency_retention: "forever" }, 422],
  ["idempotency 3600", { idempotency_retention: 3600 }, 422],
  ["empty", {}, 200],
  ["unknown field", { foo: "bar" }, 200],
  ["journal 2h", { journal_retention: "2h" }, 200],
  ["workflow retention on a service", { workflow_completion_retention: "2days" }, 400],
] as const) {
  diff(`10.patch ${label}`, `PATCH /services/Steps ${JSON.stringify(body)}`, (s) => s.admin("/services/Steps", json("PATCH", body)), {
    refStatus: status,
  });
}
diff("10.patch workflow retention", "PATCH /services/Signup {workflow_completion_retention}", (s) =>
  s.admin("/services/Signup", json("PATCH", { workflow_completion_retention: "2days" })), { refStatus: 200 });
diff("10.patch unknown service", "PATCH /services/Nope", (s) => s.admin("/services/Nope", json("PATCH", { idempotency_retention: "1h" })), {
  refStatus: 404,
});
diff("10.patch no content-type", "PATCH /services/Steps without content-type", (s) =>
  s.admin("/services/Steps", { method: "PATCH", body: '{"idempotency_retention":"1h"}' }), { refStatus: 415 });
diff("10.patch public", "PATCH /services/Private {public:false} then true", async (s) => ({
  hide: await s.admin("/services/Private", json("PATCH", { public: false })),
  callHidden: await post(s, "/Private/hidden", {}),
  show: await s.admin("/services/Private", json("PATCH", { public: true })),
}), { refStatus: { hide: 200, callHidden: 400, show: 200 } });
diff("10.patch retention effect", "idempotency_retention 2days applies to new invocations", async (s) => {
  const patched = await s.admin("/services/Greeter", json("PATCH", { idempotency_retention: "2days" }));
  // The reference's ingress learns schema changes asynchronously: try new keys for up to 3 s until
  // the new retention shows (perdure's first attempt should already have it).
  const deadline = Date.now() + 3000;
  for (let n = 1; ; n++) {
    const first = await post(s, "/Greeter/greet", { name: "r" }, idem(`retention-${n}`));
    const repeat = await post(s, "/Greeter/greet", { name: "r" }, idem(`retention-${n}`));
    const hours = expiresInHours(repeat);
    if (hours === 48 || Date.now() > deadline) return { patched: patched.status ?? null, first, repeat, repeatExpiresInHours: hours };
    await sleep(100);
  }
}, { refStatus: { first: 200, repeat: 200 } });

// ---------------------------------------------------------------------------------------------
// §10 misc

diff("10.health", "GET /health", (s) => s.admin("/health"), { refStatus: 200 });
diff("10.version", "GET /version (shape; the version itself differs)", async (s) => {
  const response = await s.admin("/version");
  const body = (response.json ?? {}) as { [key: string]: Json };
  const features = body.features;
  return {
    status: response.status ?? null,
    contentType: response.headers.get("content-type"),
    keys: Object.keys(body).sort(),
    min_admin_api_version: body.min_admin_api_version ?? null,
    max_admin_api_version: body.max_admin_api_version ?? null,
    featuresIsObject: !!features && typeof features === "object" && !Array.isArray(features),
    featureKeys: features && typeof features === "object" && !Array.isArray(features) ? Object.keys(features).sort() : null,
  };
});
diff("10.unknown-path", "GET /nope", (s) => s.admin("/nope"), { refStatus: 404 });
diff("10.compression", "admin responses with accept-encoding (fetch sends gzip, deflate)", async (s) => {
  const observe = (ex: Exchange) => ({
    status: ex.status ?? null,
    contentEncoding: ex.headers.get("content-encoding"),
    vary: ex.headers.get("vary"),
  });
  return {
    services: observe(await s.admin("/services", { headers: { "accept-encoding": "gzip" } })),
    deployments: observe(await s.admin("/deployments", { headers: { "accept-encoding": "gzip" } })),
    identity: observe(await s.admin("/services", { headers: { "accept-encoding": "identity" } })),
  };
});

// ---------------------------------------------------------------------------------------------
// §8 cancel / kill / purge

diff("8.cancel-sleeping", "cancel a sleeping invocation", async (s) => {
  const { caller, sent, id } = await sleepingInvocation(s, "cancel-1");
  const cancel = await patch(s, `/invocations/${id}/cancel`);
  return {
    sent,
    cancel,
    caller: await caller,
    output: await s.ingress(`/restate/invocation/${id}/output`),
    attach: await s.ingress(`/restate/invocation/${id}/attach`),
    cancelAgain: await patch(s, `/invocations/${id}/cancel`),
  };
}, { parallel: true, refStatus: { sent: 202, cancel: 202, caller: 409, output: 409, attach: 409 } });
diff("8.kill-sleeping", "kill a sleeping invocation", async (s) => {
  const { caller, sent, id } = await sleepingInvocation(s, "kill-1");
  const kill = await patch(s, `/invocations/${id}/kill`);
  return {
    sent,
    kill,
    caller: await caller,
    output: await s.ingress(`/restate/invocation/${id}/output`),
    attach: await s.ingress(`/restate/invocation/${id}/attach`),
    recall: await post(s, "/Greeter/sleep", { ms: 30_000 }, idem("kill-1")),
    killAgain: await patch(s, `/invocations/${id}/kill`),
  };
}, { parallel: true, refStatus: { sent: 202, kill: 200, caller: 409, output: 409, attach: 409, recall: 409 } });
diff("8.deprecated-delete", "DELETE /invocations/{id}?mode=Kill and without mode", async (s) => {
  const a = await sleepingInvocation(s, "delete-1");
  const b = await sleepingInvocation(s, "delete-2");
  const kill = await s.admin(`/invocations/${a.id}?mode=Kill`, { method: "DELETE" });
  const cancel = await s.admin(`/invocations/${b.id}`, { method: "DELETE" });
  return { kill, killedCaller: await a.caller, cancel, cancelledCaller: await b.caller };
}, { parallel: true, refStatus: { kill: 202, killedCaller: 409, cancel: 202, cancelledCaller: 409 } });
diff("8.completed", "cancel, kill, pause, resume, purge a completed invocation", async (s) => {
  const call = await post(s, "/Greeter/greet", { name: "p" }, idem("purge-1"));
  const id = call.id;
  return {
    call,
    cancel: await patch(s, `/invocations/${id}/cancel`),
    kill: await patch(s, `/invocations/${id}/kill`),
    pause: await patch(s, `/invocations/${id}/pause`),
    resume: await patch(s, `/invocations/${id}/resume`),
    purge: await patch(s, `/invocations/${id}/purge`),
    outputAfterPurge: await s.ingress(`/restate/invocation/${id}/output`),
    purgeAgain: await patch(s, `/invocations/${id}/purge`),
    callAgain: await post(s, "/Greeter/greet", { name: "p" }, idem("purge-1")),
  };
}, {
  refStatus: { call: 200, cancel: 409, kill: 409, pause: 409, resume: 409, purge: 200, outputAfterPurge: 404, purgeAgain: 404, callAgain: 200 },
});
diff("8.purge-running", "purge a running invocation", async (s) => {
  const { id } = await sleepingInvocation(s, "purge-running");
  const purge = await patch(s, `/invocations/${id}/purge`);
  const kill = await patch(s, `/invocations/${id}/kill`);
  return { purge, kill };
}, { parallel: true, refStatus: { purge: 409, kill: 200 } });
for (const action of ["cancel", "kill", "purge"]) {
  diff(`8.malformed ${action}`, `PATCH /invocations/abc/${action}`, (s) => patch(s, `/invocations/abc/${action}`), { refStatus: 400 });
  diff(`8.unknown ${action}`, `PATCH /invocations/{unknown}/${action}`, (s) => patch(s, `/invocations/${UNKNOWN_INVOCATION}/${action}`), {
    refStatus: 404,
  });
}
diff("8.paused", "an invocation paused after its retries: output, cancel, resume, kill", async (s) => {
  const sent = await post(s, "/PauseProbe/failPause/send");
  const id = sent.invocationId;
  await sleep(800); // two attempts 50 ms apart, then paused
  const output = await s.ingress(`/restate/invocation/${id}/output`);
  const cancel = await patch(s, `/invocations/${id}/cancel`);
  await sleep(300);
  const outputAfterCancel = await s.ingress(`/restate/invocation/${id}/output`);
  const resume = await patch(s, `/invocations/${id}/resume`);
  await sleep(500);
  const outputAfterResume = await s.ingress(`/restate/invocation/${id}/output`);
  const kill = await patch(s, `/invocations/${id}/kill`);
  const outputAfterKill = await until(() => s.ingress(`/restate/invocation/${id}/output`), (ex) => ex.status !== 470);
  return { sent, output, cancel, outputAfterCancel, resume, outputAfterResume, kill, outputAfterKill };
}, {
  parallel: true,
  refStatus: { sent: 202, output: 470, cancel: 202, outputAfterCancel: 470, resume: 200, outputAfterResume: 470, kill: 200, outputAfterKill: 409 },
});
diff("8.scheduled-kill", "kill a scheduled (delayed) invocation", async (s) => {
  const sent = await post(s, "/Greeter/greet/send?delay=1h", { name: "later" });
  const kill = await patch(s, `/invocations/${sent.invocationId}/kill`);
  const output = await until(() => s.ingress(`/restate/invocation/${sent.invocationId}/output`), (ex) => ex.status !== 470);
  return { sent, kill, output };
}, { parallel: true, refStatus: { sent: 202, kill: 200, output: 404 } });
diff("8.pending-cancel", "cancel an invocation queued behind an exclusive handler", async (s) => {
  const block = await post(s, "/Counter/pq/block/send", { ms: 1000 });
  await sleep(100);
  const queued = await post(s, "/Counter/pq/stamp/send");
  const cancel = await patch(s, `/invocations/${queued.invocationId}/cancel`);
  const output = await until(() => s.ingress(`/restate/invocation/${queued.invocationId}/output`), (ex) => ex.status !== 470);
  return { block, queued, cancel, output };
}, { parallel: true, refStatus: { block: 202, queued: 202, cancel: 200, output: 404 } });
diff("8.workflow-cancel", "cancel a waiting workflow", async (s) => {
  const sent = await post(s, "/Signup/wc1/run/send", "in");
  const waiting = await waitForStatus(s, "/Signup/wc1/status", "waiting");
  await sleep(200);
  const cancel = await patch(s, `/invocations/${sent.invocationId}/cancel`);
  // Cancellation completes asynchronously (the handler must see it): wait for that, so the attach
  // below reads a completed invocation (with idempotency-expires) on both sides.
  const output = await until(() => s.ingress("/restate/workflow/Signup/wc1/output"), (ex) => ex.status !== 470);
  return {
    sent,
    waiting,
    cancel,
    output,
    attach: await s.ingress("/restate/workflow/Signup/wc1/attach"),
    statusAfter: await post(s, "/Signup/wc1/status"),
    runAgain: await post(s, "/Signup/wc1/run", "again"),
  };
}, {
  parallel: true,
  refStatus: { sent: 202, waiting: 200, cancel: 202, attach: 409, output: 409, statusAfter: 200, runAgain: 409 },
});
diff("8.workflow-kill", "kill a waiting workflow", async (s) => {
  const sent = await post(s, "/Signup/wk1/run/send", "in");
  const waiting = await waitForStatus(s, "/Signup/wk1/status", "waiting");
  await sleep(200);
  const kill = await patch(s, `/invocations/${sent.invocationId}/kill`);
  return {
    sent,
    waiting,
    kill,
    output: await until(() => s.ingress("/restate/workflow/Signup/wk1/output"), (ex) => ex.status !== 470),
    statusAfter: await post(s, "/Signup/wk1/status"),
  };
}, { parallel: true, refStatus: { sent: 202, waiting: 200, kill: 200, output: 409, statusAfter: 200 } });

// ---------------------------------------------------------------------------------------------
// last: re-registration with force (may bump revisions), then what the schema looks like after it

diff("10.register-again force", "POST /deployments again with force:true (unchanged endpoint): revisions", async (s) => {
  const response = await s.admin("/deployments", json("POST", { uri: h().services.url, force: true }));
  const services = ((response.json as { services?: { name: string; revision: number }[] } | undefined)?.services ?? []).map((x) => [
    x.name,
    x.revision,
  ]);
  return {
    status: response.status ?? null,
    location: response.headers.get("location")?.startsWith("deployments/dp_") ?? null,
    revisions: Object.fromEntries(services) as Json,
  };
});
diff("10.settings-after-force", "service settings changed by PATCH, after the forced re-registration", async (s) => {
  const response = await s.admin("/services");
  const settings: { [name: string]: Json } = {};
  for (const x of (response.json as { services?: { [key: string]: Json }[] } | undefined)?.services ?? []) {
    settings[String(x.name)] = {
      idempotency_retention: x.idempotency_retention ?? null,
      journal_retention: x.journal_retention ?? null,
      workflow_completion_retention: x.workflow_completion_retention ?? null,
      public: x.public ?? null,
    };
  }
  return { status: response.status ?? null, settings };
});

diff("10.query", "POST /query (SQL over the invocation tables; the CLI depends on it)", async (s) => ({
  select: await s.admin("/query", { json: { query: "select 1 as one" }, headers: { accept: "application/json" } }),
  selectNull: await s.admin("/query", { json: { query: "select null as n, 1 as one" }, headers: { accept: "application/json" } }),
  syntaxError: await s.admin("/query", { json: { query: "selec 1" }, headers: { accept: "application/json" } }),
  missingQuery: await s.admin("/query", { json: {}, headers: { accept: "application/json" } }),
  get: await s.admin("/query"),
}), { headers: ["allow"], refStatus: { select: 200, selectNull: 200, syntaxError: 400, missingQuery: 422, get: 405 } });
diff("10.openapi", "GET /openapi and GET /services/Greeter/openapi (shape)", async (s) => {
  const shape = (ex: Exchange) => {
    const body = ex.json as { openapi?: string; info?: { title?: string }; paths?: object } | undefined;
    return {
      status: ex.status ?? null,
      contentType: ex.headers.get("content-type"),
      openapi: body?.openapi ?? null,
      title: body?.info?.title ?? null,
      pathCount: body?.paths ? Object.keys(body.paths).length : null,
    };
  };
  return { admin: shape(await s.admin("/openapi")), greeter: shape(await s.admin("/services/Greeter/openapi")) };
});
diff("10.cluster-health", "GET /cluster-health", (s) => s.admin("/cluster-health"), { refStatus: 200 });

// deleting the deployment removes everything, so this is the very end

diff("10.delete-deployment", "DELETE /deployments/{id} without and with force", async (s) => {
  const id = deploymentId(s);
  const noForce = await s.admin(`/deployments/${id}`, { method: "DELETE" });
  const forceFalse = await s.admin(`/deployments/${id}?force=false`, { method: "DELETE" });
  const force = await s.admin(`/deployments/${id}?force=true`, { method: "DELETE" });
  // The reference's ingress learns schema changes asynchronously.
  const call = await until(() => post(s, "/Greeter/greet", { name: "gone" }), (ex) => ex.status !== 200, 3000);
  return {
    noForce,
    forceFalse,
    force,
    service: await s.admin("/services/Greeter"),
    deployments: await s.admin("/deployments"),
    call,
    health: await s.ingress("/restate/health"),
    again: await s.admin(`/deployments/${id}?force=true`, { method: "DELETE" }),
  };
}, { refStatus: { noForce: 501, forceFalse: 501, force: 202, service: 404, deployments: 200, call: 404, health: 200, again: 404 } });

test("summary", async (t) => {
  const d = h().differ;
  for (const line of d.summary().split("\n")) t.diagnostic(line);
  await d.writeReport("admin");
  assert.deepEqual(d.unusedExceptions(), [], "exceptions listed for cases that do not exist");
});
