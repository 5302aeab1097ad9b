// Endpoint faults: perdure in-process against endpoints that are down, die mid-stream, reset connections,
// answer 5xx / 429 with Retry-After, a wrong content type, garbage frames, or stall; and a deployment removed
// while invocations are pinned to it. Every fault ends in retries with backoff and the error recorded on the
// invocation (read from the SQLite file with a read-only connection, and for several faults through the admin
// API's POST /query while the invocation is still failing), and the invocation completes once the endpoint
// behaves again. Known perdure bugs are `todo` tests whose reason names the bug.
//
// Endpoints used here:
// - the fake h2c endpoint (kit.ts) serving the `Faulty` service through the real SDK handler, except for the
//   /invoke requests a test planned a fault for; its manifest is patched to give the `stall*` handlers small
//   inactivity and abort timeouts;
// - a real SDK server (test/services) serving `Downtime`, stopped and restarted on the same port;
// - a real SDK server behind a TCP proxy that resets connections (`Proxied`);
// - a real SDK server for `Pinned`, whose deployment is removed with force.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import * as restate from "@restatedev/restate-sdk";
import { MessageType, encodeFrame } from "../../src/protocol/index.ts";
import { startServices, type ServicesServer } from "../services/index.ts";
import { registerDeployment, waitFor } from "../support/admin-client.ts";
import { http } from "../support/http.ts";
import { openReader, prng, startFakeEndpoint, startInProcess, startTcpProxy, type FakeEndpoint, type InProcessPerdure, type StoredInvocation, type TcpProxy } from "./kit.ts";

const FAST = { initialInterval: 100, exponentiationFactor: 1, maxInterval: 100 } as const;
/** Inactivity and abort timeouts (ms) the patched manifest gives the `stall*` handlers. */
const STALL_INACTIVITY_MS = 300;
const STALL_ABORT_MS = 300;

// ----- services -----------------------------------------------------------------------------------

const FAULTY_HANDLERS = [
  "ok",
  "http500",
  "http503",
  "http429",
  "retryAfterZero",
  "wrongType",
  "garbagePayload",
  "unknownType",
  "randomBytes",
  "rstStream",
  "closeEarly",
  "sessionDestroy",
  "stallNoHeaders",
  "stallAfterHeaders",
  "stallTrickle",
] as const;

type FaultyHandler = (typeof FAULTY_HANDLERS)[number];

/** A service whose handlers answer "<handler>:<input>"; the fake endpoint injects the faults. */
function faultyService<N extends string>(name: N) {
  return restate.service({
    name,
    options: { retryPolicy: FAST },
    handlers: Object.fromEntries(FAULTY_HANDLERS.map((h) => [h, async (_ctx: restate.Context, input: string) => `${h}:${input}`])) as Record<
      FaultyHandler,
      (ctx: restate.Context, input: string) => Promise<string>
    >,
  });
}
const faulty = faultyService("Faulty");
/** The same, served over HTTP/1.1 (request/response mode) by a second fake endpoint. */
const faulty11 = faultyService("Faulty11");

/** A gate per logical run id: the first execution of the step waits on it; later executions pass. */
const gates = new Map<string, { entered: PromiseWithResolvers<void>; release: PromiseWithResolvers<string>; executions: number }>();
function gate(id: string) {
  let g = gates.get(id);
  if (!g) gates.set(id, (g = { entered: Promise.withResolvers(), release: Promise.withResolvers(), executions: 0 }));
  return g;
}
async function blockingStep(ctx: restate.Context, id: string): Promise<string> {
  const step = await ctx.run("wait", async () => {
    const g = gate(id);
    g.executions++;
    if (g.executions === 1) {
      g.entered.resolve();
      return g.release.promise;
    }
    return `step ${g.executions}`;
  });
  return `${id}:${step}`;
}

// Downtime uses the default retry policy (500 ms, x2) so the first backoffs can be observed.
const downtime = restate.service({
  name: "Downtime",
  handlers: {
    hello: async (_ctx: restate.Context, name: string) => `hello ${name}`,
    block: restate.handlers.handler({ retryPolicy: FAST }, blockingStep),
  },
});

const proxied = restate.service({
  name: "Proxied",
  options: { retryPolicy: FAST },
  handlers: {
    hello: async (_ctx: restate.Context, name: string) => `hello ${name}`,
    block: blockingStep,
    /** Small inactivity/abort timeouts, for the hung-peer test. */
    quick: restate.handlers.handler({ inactivityTimeout: 300, abortTimeout: 300 }, async (_ctx: restate.Context, name: string) => `quick ${name}`),
  },
});

let pinnedBroken = true;
const pinned = restate.service({
  name: "Pinned",
  options: { retryPolicy: FAST },
  handlers: {
    work: async (_ctx: restate.Context, name: string) => {
      if (pinnedBroken) throw new Error(`pinned is broken for ${name}`);
      return `pinned ${name}`;
    },
  },
});

// ----- setup --------------------------------------------------------------------------------------

let env: InProcessPerdure;
let fake: FakeEndpoint;
let fake11: FakeEndpoint;
let proxy11: TcpProxy;
let downtimeServer: ServicesServer | undefined;
let downtimePort = 0;
let proxiedServer: ServicesServer;
let proxy: TcpProxy;
let pinnedServer: ServicesServer;
let reader: ReturnType<typeof openReader>;

const quiet = { quiet: true } as const;

before(async () => {
  env = await startInProcess();
  reader = openReader(env.dataDir);
  const smallStallTimeouts = (doc: Record<string, unknown>) => {
    for (const svc of doc.services as Array<{ handlers: Array<Record<string, unknown>> }>) {
      for (const h of svc.handlers) {
        if (String(h.name).startsWith("stall")) {
          h.inactivityTimeout = STALL_INACTIVITY_MS;
          h.abortTimeout = STALL_ABORT_MS;
        }
      }
    }
    return doc;
  };
  fake = await startFakeEndpoint(restate.createEndpointHandler({ services: [faulty], logger: () => {} }));
  fake.patchManifest(smallStallTimeouts);
  fake11 = await startFakeEndpoint(restate.createEndpointHandler({ services: [faulty11], logger: () => {} }), { http1: true });
  fake11.patchManifest(smallStallTimeouts);
  proxy11 = await startTcpProxy(fake11.port);
  const reg11 = await registerDeployment(env.admin, proxy11.url, { use_http_11: true });
  assert.equal(reg11.status, 201, JSON.stringify(reg11.body));
  downtimeServer = await startServices(0, { ...quiet, services: [downtime] });
  downtimePort = downtimeServer.port;
  proxiedServer = await startServices(0, { ...quiet, services: [proxied] });
  proxy = await startTcpProxy(proxiedServer.port);
  pinnedServer = await startServices(0, { ...quiet, services: [pinned] });
  for (const url of [fake.url, downtimeServer.url, proxy.url, pinnedServer.url]) {
    const reg = await registerDeployment(env.admin, url);
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
  }
});

after(async () => {
  for (const g of gates.values()) g.release.resolve("released at the end");
  reader?.close();
  await env?.close();
  await Promise.all([fake?.close(), fake11?.close(), proxy11?.close(), downtimeServer?.close(), proxiedServer?.close(), proxy?.close(), pinnedServer?.close()]);
});

// ----- helpers ------------------------------------------------------------------------------------

const record = (id: string): StoredInvocation => {
  const r = reader.invocation(id);
  assert.ok(r, `invocation ${id} is stored`);
  return r;
};

/** Waits until the stored record satisfies `pred`; returns it. */
function recordWhere(id: string, pred: (r: StoredInvocation) => boolean, timeoutMs = 5000): Promise<StoredInvocation> {
  return waitFor(() => {
    const r = reader.invocation(id);
    return r && pred(r) ? r : undefined;
  }, timeoutMs);
}

type QueriedInvocation = { id: string; status: string; retry_count?: number; last_failure?: string; last_failure_error_code?: string };

/** The invocation as the admin API shows it (POST /query on sys_invocation, JSON reply). */
async function queryInvocation(id: string): Promise<QueriedInvocation> {
  const res = await http(`${env.admin}/query`, {
    json: { query: `SELECT id, status, retry_count, last_failure, last_failure_error_code FROM sys_invocation WHERE id = '${id}'` },
    headers: { accept: "application/json" },
  });
  assert.equal(res.status, 200, res.text);
  const rows = (res.json as { rows: QueriedInvocation[] }).rows;
  assert.equal(rows.length, 1, res.text);
  return rows[0]!;
}

/** Asserts the admin API shows the recorded failure: `[code] message` and the error code. */
async function assertFailureVisible(id: string, code: number, message: string | RegExp, errorCode: string): Promise<void> {
  const row = await queryInvocation(id);
  assert.equal(row.last_failure_error_code, errorCode, JSON.stringify(row));
  const text = row.last_failure ?? "";
  assert.ok(text.startsWith(`[${code}] `), JSON.stringify(row));
  if (typeof message === "string") assert.equal(text.slice(`[${code}] `.length), message, JSON.stringify(row));
  else assert.match(text, message, JSON.stringify(row));
}

async function send(path: string, body: unknown): Promise<string> {
  const res = await http(`${env.ingress}${path}/send`, { json: body });
  assert.equal(res.status, 202, res.text);
  return (res.json as { invocationId: string }).invocationId;
}

async function attach(id: string, timeoutMs = 10_000) {
  return http(`${env.ingress}/restate/invocation/${id}/attach`, { signal: AbortSignal.timeout(timeoutMs) });
}

/** Calls Faulty/<handler> with `times` planned faults; asserts the result and returns the stored record. */
async function callThroughFaults(handler: FaultyHandler, fault: FaultFn, times: number, service: "Faulty" | "Faulty11" = "Faulty"): Promise<{ rec: StoredInvocation; arrivals: number[] }> {
  const endpoint = service === "Faulty" ? fake : fake11;
  endpoint.plan(service, handler, fault, times);
  const input = `in-${handler}`;
  const res = await http(`${env.ingress}/${service}/${handler}`, { json: input, signal: AbortSignal.timeout(15_000) });
  assert.equal(res.status, 200, `${handler}: ${res.status} ${res.text}`);
  assert.equal(res.json, `${handler}:${input}`);
  const id = res.headers.get("x-restate-id")!;
  const rec = record(id);
  assert.equal(rec.status, "completed");
  assert.equal(rec.failedAttempts, times, `${handler}: one failed attempt per planned fault`);
  return { rec, arrivals: endpoint.arrivals(service, handler) };
}

/**
 * Sends to Faulty/<handler> while every attempt gets `fault`, waits until the admin API (POST /query) shows the
 * failure on the invocation, then lets the endpoint behave and checks the invocation completes.
 */
async function failureVisibleThenCompletes(handler: FaultyHandler, fault: FaultFn, code: number, message: string | RegExp, errorCode: string): Promise<void> {
  fake.plan("Faulty", handler, fault, Number.POSITIVE_INFINITY);
  const id = await send(`/Faulty/${handler}`, "visible");
  try {
    await waitFor(async () => (await queryInvocation(id)).last_failure_error_code !== undefined, 5000, 50);
    await assertFailureVisible(id, code, message, errorCode);
  } finally {
    fake.plan("Faulty", handler, fault, 0);
  }
  const res = await attach(id);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json, `${handler}:visible`);
  assert.equal((await queryInvocation(id)).status, "completed");
}

/** Asserts the gaps between consecutive attempts are at least `minMs` (retries wait out their backoff). */
function assertBackoff(arrivals: number[], minMs: number, what: string): void {
  for (let i = 1; i < arrivals.length; i++) {
    const gap = arrivals[i]! - arrivals[i - 1]!;
    assert.ok(gap >= minMs, `${what}: attempt ${i + 1} came ${gap} ms after attempt ${i}, expected >= ${minMs} ms`);
  }
}

type FaultFn = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

const invocationType = (req: http2.Http2ServerRequest) => String(req.headers["content-type"] ?? "application/vnd.restate.invocation.v5");

const status =
  (code: number, headers: Record<string, string> = {}): FaultFn =>
  (req, res) => {
    req.resume();
    res.writeHead(code, { "content-type": "text/plain", ...headers });
    res.end(`fault ${code}`);
  };

/** 200 with the right content type, then `bytes`; the stream stays open (perdure must end it). */
const frames =
  (bytes: Buffer): FaultFn =>
  (req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": invocationType(req) });
    res.write(bytes);
  };

// ----- tests --------------------------------------------------------------------------------------

describe("endpoint down", () => {
  test("down at call time: retries with the default backoff, completes once the endpoint is back on the same port", async () => {
    await downtimeServer!.close();
    downtimeServer = undefined;
    const id = await send("/Downtime/hello", "down");
    // Default policy: 500 ms after the first failure, 1000 ms after the second.
    const delays = new Map<number, number>();
    const second = await waitFor(() => {
      const r = reader.invocation(id);
      if (r && r.status === "backing-off" && r.nextRetryAt !== undefined) delays.set(r.failedAttempts, r.nextRetryAt - r.modifiedAt);
      return r && r.failedAttempts >= 2 && r.status === "backing-off" ? r : undefined;
    }, 5000, 5);
    assert.equal(second.lastFailure?.errorCode, "RT0010", JSON.stringify(second.lastFailure));
    assert.equal(second.lastFailure?.code, 500);
    assert.match(second.lastFailure!.message, new RegExp(`error when calling 'http://127\\.0\\.0\\.1:${downtimePort}/': .*ECONNREFUSED`));
    await assertFailureVisible(id, 500, /ECONNREFUSED/, "RT0010");
    if (delays.has(1)) assert.equal(delays.get(1), 500, `first backoff ${delays.get(1)} ms`);
    assert.equal(delays.get(2), 1000, `second backoff ${delays.get(2)} ms`);

    downtimeServer = await startServices(downtimePort, { ...quiet, services: [downtime] });
    const res = await attach(id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, "hello down");
    const done = record(id);
    assert.equal(done.status, "completed");
    assert.ok(done.failedAttempts >= 2, `failedAttempts ${done.failedAttempts}`);
  });

  test("endpoint dies while the handler is inside ctx.run: retried after restart, the step runs again and completes", async () => {
    const run = `dying-${Date.now()}`;
    const id = await send("/Downtime/block", run);
    await gate(run).entered.promise;
    assert.equal(record(id).status, "running");
    await downtimeServer!.close();
    downtimeServer = undefined;
    const failed = await recordWhere(id, (r) => r.failedAttempts >= 1);
    assert.equal(failed.lastFailure?.errorCode, "RT0010", JSON.stringify(failed.lastFailure));
    downtimeServer = await startServices(downtimePort, { ...quiet, services: [downtime] });
    const res = await attach(id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, `${run}:step 2`);
    assert.equal(gate(run).executions, 2, "the unfinished step ran again, once");
  });
});

describe("connection reset", () => {
  test("reset in the middle of a stream: the attempt fails with the reset recorded, the retry completes", async () => {
    const run = `reset-${Date.now()}`;
    const id = await send("/Proxied/block", run);
    await gate(run).entered.promise;
    assert.ok(proxy.resetAll() >= 1, "a connection to reset");
    const failed = await recordWhere(id, (r) => r.failedAttempts >= 1);
    assert.equal(failed.lastFailure?.errorCode, "RT0010", JSON.stringify(failed.lastFailure));
    assert.match(failed.lastFailure!.message, /ECONNRESET|stream closed|socket hang up|closed/i);
    const res = await attach(id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, `${run}:step 2`);
  });

  test("reset as soon as the connection sends its first bytes (twice): completes on the third connection", async () => {
    proxy.resetNext(2);
    proxy.resetAll(); // drop the pooled session so the next attempt connects anew
    const before = proxy.accepted();
    const res = await http(`${env.ingress}/Proxied/hello`, { json: "reset", signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, "hello reset");
    const rec = record(res.headers.get("x-restate-id")!);
    assert.equal(rec.failedAttempts, 2, JSON.stringify(rec));
    assert.equal(rec.lastFailure?.errorCode, "RT0010");
    assert.ok(proxy.accepted() - before >= 3);
  });
});

describe("hung peer", () => {
  test(
    "a connection that is accepted but never answered: the attempt times out (RT0001), a retry on a new connection completes",
    async () => {
    proxy.blackholeNext(1);
    proxy.resetAll(); // drop the pooled session so the next attempt connects anew, into the black hole
    const before = proxy.accepted();
    const id = await send("/Proxied/quick", "hung");
    const failed = await recordWhere(id, (r) => r.failedAttempts >= 1, 3000);
    assert.equal(failed.lastFailure?.errorCode, "RT0001", JSON.stringify(failed.lastFailure));
    // Every later attempt should not keep using the session that never answered.
    try {
      const done = await recordWhere(id, (r) => r.status === "completed", 2500).catch(() => record(id));
      assert.equal(
        done.status,
        "completed",
        `still ${done.status} after ${done.failedAttempts} failed attempts, ${proxy.accepted() - before} connection(s) opened: every retry reused the hung HTTP/2 session`,
      );
    } finally {
      // Once the hung connection goes away, the invocation completes.
      proxy.resetAll();
      const res = await attach(id);
      assert.equal(res.json, "quick hung");
    }
  },
  );
});

describe("faulty answers from the endpoint (fake h2c endpoint)", () => {
  test("the fake endpoint behaves like the SDK when no fault is planned", async () => {
    const res = await http(`${env.ingress}/Faulty/ok`, { json: "x" });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, "ok:x");
  });

  test("HTTP 500: retried with backoff, recorded as RT0010 with code 500", async () => {
    const { rec, arrivals } = await callThroughFaults("http500", status(500), 2);
    assert.deepEqual(rec.lastFailure, { code: 500, message: "the endpoint answered HTTP 500", errorCode: "RT0010" });
    assert.equal(arrivals.length, 3);
    assertBackoff(arrivals, 90, "500");
    await failureVisibleThenCompletes("http500", status(500), 500, "the endpoint answered HTTP 500", "RT0010");
  });

  test("HTTP 503: retried with backoff, recorded with code 503", async () => {
    const { rec, arrivals } = await callThroughFaults("http503", status(503), 2);
    assert.deepEqual(rec.lastFailure, { code: 503, message: "the endpoint answered HTTP 503", errorCode: "RT0010" });
    assertBackoff(arrivals, 90, "503");
  });

  test("HTTP 429 with Retry-After: 1: the retry waits about a second instead of the 100 ms policy", async () => {
    const { rec, arrivals } = await callThroughFaults("http429", status(429, { "retry-after": "1" }), 1);
    assert.deepEqual(rec.lastFailure, { code: 429, message: "the endpoint answered HTTP 429", errorCode: "RT0010" });
    const gap = arrivals[1]! - arrivals[0]!;
    assert.ok(gap >= 950 && gap < 2500, `retry after ${gap} ms, expected about 1000 ms`);
  });

  test(
    "503 with Retry-After: 0 on every attempt: retries still back off",
    async () => {
      const { arrivals } = await callThroughFaults("retryAfterZero", status(503, { "retry-after": "0" }), 10);
      const total = arrivals[arrivals.length - 1]! - arrivals[0]!;
      assert.ok(total >= 10 * 90, `10 retries took ${total} ms: no backoff (policy: 100 ms)`);
    },
  );

  test("a 200 with a wrong content type is a protocol violation (RT0012), retried", async () => {
    const fault: FaultFn = (req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>not restate</html>");
    };
    const { rec, arrivals } = await callThroughFaults("wrongType", fault, 2);
    assert.equal(rec.lastFailure?.errorCode, "RT0012");
    assert.equal(rec.lastFailure?.message, "the endpoint answered with content-type 'text/html'");
    assertBackoff(arrivals, 90, "wrong content type");
    await failureVisibleThenCompletes("wrongType", fault, 500, "the endpoint answered with content-type 'text/html'", "RT0012");
  });

  test("garbage frames: a valid header for an Output command with a random payload", async () => {
    const random = prng(0x5eed);
    // Field 1, wire type 7 (no such wire type) first, so the payload cannot decode, then random bytes.
    const payload = Buffer.concat([Buffer.from([0x0f]), Buffer.from(Array.from({ length: 63 }, () => Math.floor(random() * 256)))]);
    const { rec } = await callThroughFaults("garbagePayload", frames(encodeFrame(MessageType.OutputCommand, payload)), 2);
    assert.equal(rec.lastFailure?.errorCode, "RT0012", JSON.stringify(rec.lastFailure));
    assert.equal(rec.lastFailure?.code, 571);
  });

  test("garbage frames: a frame with an unknown type id", async () => {
    const { rec } = await callThroughFaults("unknownType", frames(encodeFrame(0x03f0, Buffer.from([1, 2, 3]))), 2);
    assert.equal(rec.lastFailure?.errorCode, "RT0012", JSON.stringify(rec.lastFailure));
    assert.match(rec.lastFailure!.message, /unexpected message .*0x03f0/i);
    await failureVisibleThenCompletes("unknownType", frames(encodeFrame(0x03f0, Buffer.from([1, 2, 3]))), 571, /unexpected message/, "RT0012");
  });

  test("garbage frames: random bytes whose header declares a frame beyond the size limit", async () => {
    const random = prng(42);
    const bytes = Buffer.from(Array.from({ length: 64 }, () => Math.floor(random() * 256)));
    bytes.writeUInt32BE(0xfffffff0, 4); // declared payload length
    const { rec } = await callThroughFaults("randomBytes", frames(bytes), 2);
    assert.equal(rec.lastFailure?.errorCode, "RT0012", JSON.stringify(rec.lastFailure));
    assert.match(rec.lastFailure!.message, /malformed frames from the endpoint: .*exceeds the maximum frame size/);
  });

  test("the endpoint resets the stream (RST_STREAM): RT0010, retried", async () => {
    const fault: FaultFn = (req) => req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    const { rec } = await callThroughFaults("rstStream", fault, 2);
    assert.equal(rec.lastFailure?.errorCode, "RT0010", JSON.stringify(rec.lastFailure));
  });

  test("the endpoint ends the stream without End, Suspension or Error: RT0010, retried", async () => {
    const fault: FaultFn = (req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": invocationType(req) });
      res.end();
    };
    const { rec } = await callThroughFaults("closeEarly", fault, 2);
    assert.deepEqual(rec.lastFailure, { code: 500, message: "the endpoint closed the stream without End, Suspension or Error", errorCode: "RT0010" });
  });

  test("the endpoint drops the whole HTTP/2 connection mid-request: RT0010, retried on a new connection", async () => {
    const fault: FaultFn = (req) => req.stream.session?.destroy();
    const { rec } = await callThroughFaults("sessionDestroy", fault, 2);
    assert.equal(rec.lastFailure?.errorCode, "RT0010", JSON.stringify(rec.lastFailure));
  });

  test("a stall before any response header: inactivity then abort timeout end the attempt (RT0001)", async () => {
    const stall: FaultFn = (req) => req.resume();
    const { rec, arrivals } = await callThroughFaults("stallNoHeaders", stall, 1);
    assert.equal(rec.lastFailure?.errorCode, "RT0001", JSON.stringify(rec.lastFailure));
    assert.match(rec.lastFailure!.message, new RegExp(`abort timeout of ${STALL_ABORT_MS} ms`));
    const gap = arrivals[1]! - arrivals[0]!;
    const min = STALL_INACTIVITY_MS + STALL_ABORT_MS + 100 - 30;
    assert.ok(gap >= min && gap < min + 2500, `retry ${gap} ms after the stalled attempt, expected about ${min} ms`);
    await failureVisibleThenCompletes("stallNoHeaders", stall, 500, /did not finish within the abort timeout of 300 ms/, "RT0001");
  });

  test("a stall after the response headers: the same timeouts apply (RT0001)", async () => {
    const stall: FaultFn = (req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": invocationType(req) });
    };
    const { rec, arrivals } = await callThroughFaults("stallAfterHeaders", stall, 2);
    assert.equal(rec.lastFailure?.errorCode, "RT0001", JSON.stringify(rec.lastFailure));
    assertBackoff(arrivals, STALL_INACTIVITY_MS + STALL_ABORT_MS, "stall after headers");
  });
});

describe("slow endpoints", () => {
  test(
    "a trickle that never completes a frame (one byte every 100 ms): the inactivity and abort timeouts still end the attempt",
    async () => {
      let trickle: NodeJS.Timeout | undefined;
      const fault: FaultFn = (req, res) => {
        req.resume();
        res.writeHead(200, { "content-type": invocationType(req) });
        const header = Buffer.alloc(8);
        header.writeUInt16BE(MessageType.OutputCommand, 0);
        header.writeUInt32BE(1_000_000, 4);
        res.write(header);
        trickle = setInterval(() => {
          if (res.writableEnded || res.destroyed || req.stream.closed) clearInterval(trickle);
          else res.write(Buffer.from([0]));
        }, 100);
      };
      fake.plan("Faulty", "stallTrickle", fault, 1);
      const id = await send("/Faulty/stallTrickle", "trickle");
      try {
        const failed = await recordWhere(id, (r) => r.failedAttempts >= 1, (STALL_INACTIVITY_MS + STALL_ABORT_MS) * 3).catch(() => record(id));
        assert.equal(failed.lastFailure?.errorCode, "RT0001", `after ${(STALL_INACTIVITY_MS + STALL_ABORT_MS) * 3} ms: ${failed.status}, ${failed.failedAttempts} failed attempts`);
      } finally {
        clearInterval(trickle);
        fake.plan("Faulty", "stallTrickle", fault, 0);
        await http(`${env.admin}/invocations/${id}/kill`, { method: "PATCH" });
      }
    },
  );
});

describe("faulty answers over HTTP/1.1 (request/response mode)", () => {
  test("the HTTP/1.1 fake endpoint behaves like the SDK when no fault is planned", async () => {
    const res = await http(`${env.ingress}/Faulty11/ok`, { json: "x" });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, "ok:x");
  });

  test("HTTP 500 over HTTP/1.1: RT0010 with code 500, retried with backoff", async () => {
    const { rec, arrivals } = await callThroughFaults("http500", status(500), 2, "Faulty11");
    assert.deepEqual(rec.lastFailure, { code: 500, message: "the endpoint answered HTTP 500", errorCode: "RT0010" });
    assertBackoff(arrivals, 90, "500 over HTTP/1.1");
  });

  test("wrong content type over HTTP/1.1: RT0012", async () => {
    const fault: FaultFn = (req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    };
    const { rec } = await callThroughFaults("wrongType", fault, 1, "Faulty11");
    assert.equal(rec.lastFailure?.errorCode, "RT0012", JSON.stringify(rec.lastFailure));
  });

  test("garbage frames over HTTP/1.1: RT0012", async () => {
    const { rec } = await callThroughFaults("unknownType", frames(encodeFrame(0x03f0, Buffer.alloc(0))), 1, "Faulty11");
    assert.equal(rec.lastFailure?.errorCode, "RT0012", JSON.stringify(rec.lastFailure));
  });

  test("the endpoint closes the connection mid-response over HTTP/1.1: RT0010", async () => {
    const fault: FaultFn = (req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": invocationType(req) });
      res.write(Buffer.alloc(3));
      setTimeout(() => req.socket.destroy(), 20);
    };
    const { rec } = await callThroughFaults("sessionDestroy", fault, 2, "Faulty11");
    assert.equal(rec.lastFailure?.errorCode, "RT0010", JSON.stringify(rec.lastFailure));
  });

  test("connection reset at connect over HTTP/1.1 (twice): RT0010, completes on the third connection", async () => {
    proxy11.resetNext(2);
    proxy11.resetAll();
    const res = await http(`${env.ingress}/Faulty11/ok`, { json: "reset11", signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, res.text);
    const rec = record(res.headers.get("x-restate-id")!);
    assert.equal(rec.failedAttempts, 2, JSON.stringify(rec));
    assert.equal(rec.lastFailure?.errorCode, "RT0010");
    assert.match(rec.lastFailure!.message, /ECONNRESET|socket hang up/);
  });

  test("a stall over HTTP/1.1: the abort timeout ends the attempt (RT0001)", async () => {
    const stall: FaultFn = (req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": invocationType(req) });
      res.write(Buffer.alloc(0));
    };
    const { rec, arrivals } = await callThroughFaults("stallAfterHeaders", stall, 1, "Faulty11");
    assert.equal(rec.lastFailure?.errorCode, "RT0001", JSON.stringify(rec.lastFailure));
    // Request/response mode ends the request body at once, so only the abort timeout applies.
    assertBackoff(arrivals, STALL_ABORT_MS, "stall over HTTP/1.1");
  });
});

describe("deployment removed while invocations are pinned to it", () => {
  test("pinned invocations back off with 'no deployment' (RT0011), perdure keeps serving others", async () => {
    const deployments = (await http(`${env.admin}/deployments`)).json as { deployments: Array<{ id: string; uri: string }> };
    const dep = deployments.deployments.find((d) => d.uri.startsWith(pinnedServer.url));
    assert.ok(dep, JSON.stringify(deployments));
    const ids = await Promise.all([1, 2, 3].map((i) => send("/Pinned/work", `p${i}`)));
    for (const id of ids) await recordWhere(id, (r) => r.failedAttempts >= 1 && r.lastFailure?.errorCode === "RT0007");
    for (const id of ids) assert.equal(record(id).deploymentId, dep.id);

    const del = await http(`${env.admin}/deployments/${dep.id}?force=true`, { method: "DELETE" });
    assert.equal(del.status, 202, del.text);
    pinnedBroken = false; // the endpoint would work now, but nothing serves the pinned deployment any more

    for (const id of ids) {
      const r = await recordWhere(id, (x) => x.lastFailure?.errorCode === "RT0011");
      assert.deepEqual(r.lastFailure, { code: 500, message: "no deployment was found to process the invocation", errorCode: "RT0011" });
      await assertFailureVisible(id, 500, "no deployment was found to process the invocation", "RT0011");
      assert.ok(r.status === "backing-off" || r.status === "running", r.status);
    }
    // Still backing off a little later: no crash, no completion, no loop without backoff.
    const seen = record(ids[0]!).failedAttempts;
    await new Promise((resolve) => setTimeout(resolve, 600));
    const later = record(ids[0]!);
    assert.notEqual(later.status, "completed");
    assert.ok(later.failedAttempts - seen <= 3, `${later.failedAttempts - seen} failed attempts in 600 ms: retries must back off`);

    // perdure keeps serving everything else.
    assert.equal((await http(`${env.admin}/health`)).status, 200);
    const ok = await http(`${env.ingress}/Faulty/ok`, { json: "still" });
    assert.equal(ok.status, 200, ok.text);
    const gone = await http(`${env.ingress}/Pinned/work`, { json: "new" });
    assert.equal(gone.status, 404, gone.text);
    const listed = (await http(`${env.admin}/deployments`)).json as { deployments: Array<{ id: string }> };
    assert.ok(!listed.deployments.some((d) => d.id === dep.id));

    // An operator can still end them: kill completes the invocation and answers an attached caller.
    const attached = attach(ids[0]!);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const kill = await http(`${env.admin}/invocations/${ids[0]}/kill`, { method: "PATCH" });
    assert.ok(kill.status >= 200 && kill.status < 300, `${kill.status} ${kill.text}`);
    const killed = await attached;
    assert.ok(killed.status >= 400, `${killed.status} ${killed.text}`);
    assert.equal(record(ids[0]!).status, "completed");
    for (const id of ids.slice(1)) await http(`${env.admin}/invocations/${id}/kill`, { method: "PATCH" });
  });
});
