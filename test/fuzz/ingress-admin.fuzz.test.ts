// Bad input: a seeded fuzzer over perdure's ingress (:8080) and admin API (:9070), plus slow clients, clients
// that disconnect mid-request or mid-wait, and the size limits.
//
// Every input goes over a raw TCP socket (so malformed request lines, non-ASCII headers and lying lengths
// reach the server as written). Properties checked for every input and after every batch:
// - perdure answers a well-formed HTTP response (status line, headers, a body matching its length; JSON error
//   bodies parse), never silence, never a hang;
// - bad input gets a 4xx: a 5xx only where documented (an invocation's own failure on the ingress; 500
//   META0003 when discovery of a registered uri fails; 501 for DELETE /deployments/{id} without force; 500 for
//   POST /query on unknown tables/columns or a failed execution, as the reference);
// - a rejected request changes nothing: no invocation row appears that a response did not announce, and the
//   deployments and services (admin listings and SQLite tables) are the same after a batch;
// - perdure stays healthy: admin /health and ingress /restate/health answer 200 after every batch.
//
// The seed is printed; PERDURE_FUZZ_SEED replays a run, PERDURE_FUZZ_COUNT sets how many random inputs.
// PERDURE_FUZZ_DEBUG prints inputs and answers: "*" for the targeted batch, "/path" for random inputs with that
// exact target, any other text for random inputs whose body contains it.
import assert from "node:assert/strict";
import { after, before, describe, test, type TestContext } from "node:test";
import * as restate from "@restatedev/restate-sdk";
import { encodeAwakeableId, encodeDeploymentId, encodeInvocationId } from "../../src/core/ids.ts";
import { startServices, type ServicesServer } from "../services/index.ts";
import { registerDeployment, waitFor } from "../support/admin-client.ts";
import { http } from "../support/http.ts";
import { openReader, prng, startInProcess, type InProcessPerdure } from "../faults/kit.ts";
import { buildRequest, rawExchange, type RawOutcome, type RawResponse } from "./raw-http.ts";

const SEED = process.env.PERDURE_FUZZ_SEED !== undefined ? Number(process.env.PERDURE_FUZZ_SEED) >>> 0 : 0x5eed2026;
const COUNT = process.env.PERDURE_FUZZ_COUNT !== undefined ? Number(process.env.PERDURE_FUZZ_COUNT) : 1600;
const BATCH = 100;
const CONCURRENCY = 8;
const LIMIT = 32 * 1024 * 1024;

// ----- services the ingress fuzz can reach: every handler answers at once, whatever the input ------------

const binary = { input: restate.serde.binary, output: restate.serde.binary };
const echo = restate.service({
  name: "Echo",
  handlers: { echo: restate.handlers.handler(binary, async (_ctx: restate.Context, input: Uint8Array) => input) },
});
const box = restate.object({
  name: "Box",
  handlers: {
    put: restate.handlers.object.exclusive(binary, async (ctx: restate.ObjectContext, input: Uint8Array) => {
      ctx.set("v", Buffer.from(input).toString("base64"));
      return input;
    }),
    get: restate.handlers.object.shared(binary, async (ctx: restate.ObjectSharedContext) => Buffer.from((await ctx.get<string>("v")) ?? "", "base64")),
  },
});
const flow = restate.workflow({
  name: "Flow",
  handlers: {
    run: restate.handlers.workflow.workflow(binary, async (_ctx: restate.WorkflowContext, input: Uint8Array) => input),
    peek: restate.handlers.workflow.shared(binary, async () => new Uint8Array([1])),
  },
});
/** Only for the disconnect-mid-wait test (never picked by the random fuzzer). */
const sleeper = restate.service({
  name: "Sleeper",
  handlers: {
    sleep: async (ctx: restate.Context, ms: number) => {
      await ctx.sleep(ms);
      return `slept ${ms}`;
    },
  },
});

// ----- setup ----------------------------------------------------------------------------------------

let env: InProcessPerdure;
let services: ServicesServer;
let reader: ReturnType<typeof openReader>;
let deploymentId: string;

before(async () => {
  env = await startInProcess();
  services = await startServices(0, { quiet: true, services: [echo, box, flow, sleeper] });
  const reg = await registerDeployment<{ id: string }>(env.admin, services.url);
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  deploymentId = reg.body.id;
  reader = openReader(env.dataDir);
  process.stdout.write(`# fuzz seed ${SEED} (PERDURE_FUZZ_SEED=${SEED} to replay), ${COUNT} random inputs\n`);
});

after(async () => {
  reader?.close();
  await env?.close();
  await services?.close();
  process.stdout.write(`# fuzz totals: ${JSON.stringify(totals)}\n`);
});

const totals = {
  random: 0,
  targeted: 0,
  slow: 0,
  disconnects: 0,
  concurrent: 0,
  /** Answers written by perdure's handlers (they carry a date header), rather than by node's HTTP parser. */
  handled: 0,
  statuses: {} as Record<string, number>,
};

// ----- random inputs ------------------------------------------------------------------------------

class Rand {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  float(): number {
    return this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  ascii(n: number, alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"): string {
    let s = "";
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

/** Path segments that stress decoding: encoded separators, dot segments, bad escapes, unicode, length. */
function weirdSegment(r: Rand): string {
  const pool = [
    "k",
    "",
    "%2F",
    "a%2Fb",
    "..",
    ".",
    "%2e%2e",
    "%2E%2E%2F%2E%2E",
    "%",
    "%zz",
    "%E0%A4%A",
    "%C0%AF",
    "%00",
    "%FF%FE",
    "%25",
    "%252F",
    "+",
    "a+b",
    "%20",
    "%3F%23",
    "%u0041",
    "ключ",
    "键",
    "🔑",
    "\u202e",
    "a\u0301",
    ";jsessionid=1",
    "@",
    "$",
    "~",
    "restate",
    "send",
    "attach",
  ];
  if (r.chance(0.1)) return r.ascii(r.pick([64, 512, 4000, 17000, 70000]));
  if (r.chance(0.1)) {
    const cp = 0x80 + r.int(0x10000);
    return encodeURIComponent(String.fromCodePoint(cp >= 0xd800 && cp <= 0xdfff ? cp + 0x800 : cp));
  }
  return r.pick(pool);
}

const randomInvocationId = (r: Rand) => encodeInvocationId(r.bytes(24));
const randomDeploymentId = (r: Rand) => encodeDeploymentId(r.bytes(16));

function weirdId(r: Rand, kind: "inv" | "dp" | "sign"): string {
  if (r.chance(0.4)) return kind === "inv" ? randomInvocationId(r) : kind === "dp" ? randomDeploymentId(r) : encodeAwakeableId(r.bytes(24), r.int(100));
  return r.pick([`${kind}_1`, `${kind}_`, `${kind}_1${r.ascii(10)}`, `${kind}_2${r.ascii(33)}`, "inv_1" + "0".repeat(33), "dp_1" + "z".repeat(22), weirdSegment(r), r.ascii(r.int(80))]);
}

type Case = {
  readonly api: "ingress" | "admin";
  readonly method: string;
  readonly target: string;
  readonly headers: Array<[string | Buffer, string | Buffer]>;
  readonly body: Buffer | undefined;
  readonly note: string;
};

const METHODS = ["GET", "POST", "POST", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "get", "POSTX", "M-SEARCH", "PROPFIND", "QUERY"];

function ingressPath(r: Rand): string {
  const k = () => (r.chance(0.6) ? weirdSegment(r) : r.ascii(1 + r.int(12)));
  const bases: Array<() => string> = [
    () => "/Echo/echo",
    () => "/Echo/echo/send",
    () => `/Box/${k()}/put`,
    () => `/Box/${k()}/get`,
    () => `/Box/${k()}/put/send`,
    () => `/Flow/${k()}/run`,
    () => `/Flow/${k()}/peek`,
    () => `/restate/call/Echo/echo`,
    () => `/restate/send/Box/${k()}/put`,
    () => `/restate/call/${k()}/${k()}`,
    () => `/restate/invocation/${weirdId(r, "inv")}/${r.pick(["attach", "output", "x", ""])}`,
    () => `/restate/invocation/Echo/echo/${k()}/${r.pick(["attach", "output"])}`,
    () => `/restate/invocation/Box/${k()}/put/${k()}/${r.pick(["attach", "output"])}`,
    () => `/restate/invocation/${k()}/${k()}/${k()}`,
    () => `/restate/workflow/Flow/${k()}/${r.pick(["output", "attach", "run"])}`,
    () => `/restate/${r.pick(["a", "awakeables"])}/${weirdId(r, "sign")}/${r.pick(["resolve", "reject", "x"])}`,
    () => `/restate/attach/${weirdId(r, "inv")}`,
    () => `/restate/output/${weirdId(r, "inv")}`,
    () => "/restate/health",
    () => `/restate/scope/${k()}/call/Echo/echo`,
    () => `/restate/${k()}`,
    () => `/${k()}/${k()}`,
    () => `/${k()}/${k()}/${k()}/${k()}/${k()}`,
    () => "/Echo",
    () => "/",
    () => "*",
    () => "http://127.0.0.1/Echo/echo",
    () => "Echo/echo",
    () => "//Echo//echo",
    () => "/Echo/echo/../../restate/health",
  ];
  let p = r.pick(bases)();
  if (r.chance(0.25)) {
    p += r.pick([
      "?delay=10s",
      "?delay=abc",
      "?delay=-1s",
      "?delay=P99999999999Y",
      "?delay=PT0S",
      "?delay=",
      "?delay=1s&delay=2s",
      "?%zz=%zz",
      "?" + r.ascii(3000),
      "#frag",
      "?a=1#b",
      "?delay=1h30m",
    ]);
  }
  return p;
}

function adminPath(r: Rand): string {
  const svc = () => r.pick(["Echo", "Box", "Flow", "Nope", "Ech%6F", "%zz", "%E0%A4%A", "..", "%2e%2e", "Echo%2F", "Ёлка", "", r.ascii(300), weirdSegment(r)]);
  const bases: Array<() => string> = [
    () => "/deployments",
    () => `/deployments/${r.chance(0.15) ? deploymentId : weirdId(r, "dp")}`,
    () => `/deployments/${weirdId(r, "dp")}/${weirdSegment(r)}`,
    () => "/services",
    () => `/services/${svc()}`,
    () => `/services/${svc()}/handlers`,
    () => `/services/${svc()}/handlers/${r.pick(["echo", "put", "nope", weirdSegment(r)])}`,
    () => `/services/${svc()}/openapi`,
    () => `/invocations/${weirdId(r, "inv")}/${r.pick(["cancel", "kill", "purge", "pause", "resume", "restart", "x", ""])}`,
    () => `/invocations/${weirdId(r, "inv")}${r.pick(["", "?mode=kill", "?mode=purge", "?mode=bogus", "?mode=%zz"])}`,
    () => "/health",
    () => "/version",
    () => "/openapi",
    () => "/cluster-health",
    () => "/query",
    () => "/query",
    () => "/query",
    () => `/${weirdSegment(r)}`,
    () => `/${weirdSegment(r)}/${weirdSegment(r)}`,
    () => "/",
    () => "*",
    () => "/deployments/../services",
    () => "//deployments",
  ];
  const prefix = r.chance(0.3) ? r.pick(["/v1", "/v2", "/v3", "/v4", "/v0", "/v99", "/V1", "/v1/v1", "/v"]) : "";
  let p = prefix + r.pick(bases)();
  if (r.chance(0.15)) p += r.pick(["?force=true", "?force=TRUE", "?force", "?%zz", "?" + r.ascii(2000), "#x"]);
  return p;
}

/** SQL for POST /query: read-only queries (answered, change nothing) and hostile ones (must be refused). */
const SQL = [
  "SELECT id, status FROM sys_invocation LIMIT 5",
  "SELECT count(*) FROM sys_invocation",
  "SELECT * FROM sys_deployment",
  "SELECT * FROM state",
  "VALUES (1)",
  "WITH x AS (SELECT 1) SELECT * FROM x",
  "DELETE FROM invocations",
  "DROP TABLE invocations",
  "UPDATE deployments SET record = '{}'",
  "INSERT INTO invocations (id) VALUES ('inv_x')",
  "SELECT 1; DELETE FROM invocations",
  "SELECT 1; DROP TABLE services",
  "PRAGMA writable_schema = 1",
  "ATTACH DATABASE '/tmp/perdure-fuzz.db' AS x",
  "VACUUM",
  "SELECT load_extension('/tmp/x')",
  "SELECT * FROM main.invocations",
  "SELECT * FROM sqlite_master",
  "SELECT zeroblob(2000000000)",
  "SELECT 'a' || x'00' || 'b'",
  "SELECT * FROM sys_invocation WHERE id = '\u0000'",
  "SELECT",
  "",
  ";;;",
  "/* */ DELETE FROM invocations",
  "-- comment\nDELETE FROM invocations",
  "WITH d AS (DELETE FROM invocations RETURNING *) SELECT * FROM d",
  "SELECT * FROM sys_invocation " + "JOIN sys_invocation USING (id) ".repeat(3),
  "SELECT " + "(".repeat(5000) + "1" + ")".repeat(5000),
];

function jsonishBody(r: Rand, api: "ingress" | "admin", path: string): Buffer | undefined {
  if (api === "admin" && path.includes("query") && r.chance(0.7)) {
    return Buffer.from(JSON.stringify(r.chance(0.9) ? { query: r.pick(SQL) } : r.pick([{ query: 1 }, { query: null }, { q: "SELECT 1" }, { query: ["SELECT 1"] }])));
  }
  const choice = r.int(12);
  switch (choice) {
    case 0:
      return undefined;
    case 1:
      return Buffer.alloc(0);
    case 2:
      return r.bytes(r.int(2000));
    case 3:
      return Buffer.from(r.pick(["{", "}", "[1,", '{"uri":', "nul", "tru", '{"a":1}}', "\u0000", "{'uri': 'x'}", '{"uri":"\\ud800"}']));
    case 4:
      return Buffer.from("[".repeat(r.pick([100, 5000, 100_000])));
    case 5:
      return Buffer.from(JSON.stringify(r.pick([null, 1, "s", [], [1, 2], true, { uri: 1 }, { uri: null }, { uri: [] }])));
    case 6: {
      // Discovery targets stay on 127.0.0.1: unreachable ports, perdure's own listeners, bad schemes.
      const uri = r.pick([
        "http://127.0.0.1:1/",
        `http://127.0.0.1:${env.perdure.ingressPort}/`,
        `http://127.0.0.1:${env.perdure.adminPort}/`,
        "ftp://127.0.0.1/",
        "javascript:alert(1)",
        "http://[::1",
        "http://",
        "",
        "/relative",
        "http://127.0.0.1:99999/",
        "http://127.0.0.1:1/" + "a".repeat(5000),
        "file:///etc/passwd",
      ]);
      const doc: Record<string, unknown> = { uri };
      if (r.chance(0.3)) doc.additional_headers = r.pick([{ a: 1 }, "x", [], { "x-a": "b" }, null]);
      if (r.chance(0.3)) doc.use_http_11 = r.pick([true, false, "yes"]);
      if (r.chance(0.2)) doc.force = r.pick([true, "true", 1]);
      return Buffer.from(JSON.stringify(doc));
    }
    case 7:
      // Invalid settings for PATCH /services/{name}: wrong types and unparseable durations only.
      return Buffer.from(
        JSON.stringify(
          r.pick([
            { public: "yes" },
            { public: 1 },
            { idempotency_retention: 5 },
            { idempotency_retention: "forever" },
            { journal_retention: "1 parsec" },
            { abort_timeout: [] },
            { inactivity_timeout: {} },
            { inactivity_timeout: "10s", public: "no" },
            { workflow_completion_retention: "1h" },
          ]),
        ),
      );
    case 8:
      return Buffer.from(JSON.stringify("x".repeat(r.int(50_000))));
    case 9:
      return Buffer.from(`{"uri":"http://127.0.0.1:1/","x":"${"é".repeat(r.int(100))}"}`);
    case 10:
      return api === "ingress" && path.includes("awakeable") ? Buffer.from('"value"') : Buffer.from(JSON.stringify({ n: r.int(1000) }));
    default:
      return Buffer.from(r.ascii(r.int(300)));
  }
}

function weirdHeaders(r: Rand): Array<[string | Buffer, string | Buffer]> {
  const out: Array<[string | Buffer, string | Buffer]> = [];
  const n = r.chance(0.5) ? 0 : 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    switch (r.int(14)) {
      case 0:
        out.push(["x-huge", "h".repeat(r.pick([1000, 8000, 15_000, 20_000, 70_000]))]);
        break;
      case 1: {
        const name = r.pick(["x-rep", "idempotency-key", "content-type", "accept", "host"]);
        const times = r.pick([2, 3, 50, 500]);
        for (let j = 0; j < times; j++) out.push([name, `${name === "content-type" ? "application/octet-stream" : "v"}${j}`]);
        break;
      }
      case 2:
        out.push(["x-latin1", Buffer.from([0x61, 0xe9, 0xff, 0x80, 0x62])]);
        break;
      case 3:
        out.push(["x-utf8", "ключ 键 🔑"]);
        break;
      case 4:
        out.push([Buffer.from("x-n\u00e9me", "latin1"), "v"]);
        break;
      case 5:
        out.push(["bad name", "v"]);
        break;
      case 6:
        out.push(["idempotency-key", r.pick(["", " ", "%2F..%2F", "a/b?c#d", "ключ", "🔑", "k".repeat(10_000), "\t", "a\u0000b"].map((s) => s))]);
        break;
      case 7:
        out.push(["x-empty", ""]);
        break;
      case 8:
        out.push(["expect", r.pick(["100-continue", "200-ok", "x"])]);
        break;
      case 9:
        out.push(["x-restate-id", randomInvocationId(r)]);
        break;
      case 10:
        out.push(["origin", r.pick(["http://evil", "null", "\u00ff"])]);
        break;
      case 11:
        out.push(["content-encoding", r.pick(["gzip", "br", "identity", "x"])]);
        break;
      case 12:
        out.push(["accept-encoding", r.pick(["gzip", "*", "gzip;q=0", "x".repeat(1000)])]);
        break;
      default:
        out.push(["x-obs-fold", "a\r\n b"]);
        break;
    }
  }
  return out;
}

function randomCase(r: Rand, api: "ingress" | "admin"): Case {
  const method = r.chance(0.05) ? r.ascii(1 + r.int(8), "ABCDEFGHIJKLMNOPQRSTUVWXYZ@!") : r.pick(METHODS);
  const target = api === "ingress" ? ingressPath(r) : adminPath(r);
  const headers: Array<[string | Buffer, string | Buffer]> = [];
  if (!r.chance(0.03)) headers.push(["host", "127.0.0.1"]);
  headers.push(["connection", r.chance(0.9) ? "close" : "keep-alive"]);
  if (r.chance(0.7)) {
    headers.push([
      "content-type",
      r.pick(["application/json", "application/octet-stream", "application/octet-stream", "text/plain", "application/json; charset=utf-8", "", "*/*", "application/octet-stream, text/plain", "ApPlIcAtIoN/JSON", "x/y; a=\"b"]),
    ]);
  }
  headers.push(...weirdHeaders(r));
  const body = jsonishBody(r, api, target);
  const te = body !== undefined && r.chance(0.1);
  let wire = body;
  if (te && body) {
    headers.push(["transfer-encoding", "chunked"]);
    // Well-formed chunks, or a bad chunk size up front (a bad one later would end the request early and turn
    // the rest into a second, pipelined request).
    if (!r.chance(0.8)) wire = Buffer.concat([Buffer.from("zz\r\n"), body]);
    else if (body.length === 0) wire = Buffer.from("0\r\n\r\n");
    else wire = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]);
  } else if (body !== undefined) {
    // Malformed lengths only: a length shorter than the body would turn the rest into a second, pipelined request.
    const lie = r.chance(0.05);
    headers.push(["content-length", lie ? r.pick(["-1", "abc", "1e3", ` ${body.length} `, "0x10", `${body.length}, ${body.length}`]) : String(body.length)]);
  }
  // Shuffle the headers a little: order must not matter.
  if (r.chance(0.3)) headers.reverse();
  return { api, method, target, headers, body: wire, note: "" };
}

// ----- checking -----------------------------------------------------------------------------------

type Violation = { input: string; problem: string; target?: string };

function describeCase(c: Case): string {
  const target = c.target.length > 200 ? `${c.target.slice(0, 200)}…(${c.target.length} chars)` : c.target;
  const headers = c.headers.map(([n, v]) => `${String(n).slice(0, 40)}: ${String(v).length > 60 ? `${String(v).slice(0, 60)}…(${String(v).length})` : String(v)}`).join(" | ");
  const body = c.body === undefined ? "none" : c.body.length > 80 ? `${c.body.length} bytes` : JSON.stringify(c.body.toString("latin1"));
  return `${c.api} ${JSON.stringify(c.method)} ${JSON.stringify(target)} [${headers}] body=${body}`;
}

/** Checks one answer; returns the problems found (empty when it is fine). */
function checkAnswer(c: Case, outcome: RawOutcome): string[] {
  if (outcome.kind !== "response") {
    return [`no well-formed response: ${outcome.kind}${outcome.kind === "malformed" ? ` (${outcome.reason})` : ""}: ${JSON.stringify(outcome.partial.subarray(0, 200).toString("latin1"))}`];
  }
  const res = outcome.response;
  const problems: string[] = [];
  totals.statuses[res.status] = (totals.statuses[res.status] ?? 0) + 1;
  if (res.header("date") !== undefined) totals.handled++;
  const ct = res.header("content-type") ?? "";
  const text = res.body.toString("utf8");
  let doc: unknown;
  if (ct.includes("json") && res.body.length > 0 && res.header("content-encoding") === undefined) {
    try {
      doc = JSON.parse(text);
    } catch {
      problems.push(`${res.status} with content-type ${ct} but a body that is not JSON: ${text.slice(0, 200)}`);
    }
  }
  const source = res.header("x-restate-error-source");
  if (c.api === "ingress" && source && res.status >= 400 && c.method !== "HEAD") {
    const d = doc as { code?: unknown; message?: unknown; source?: unknown } | undefined;
    if (!d || typeof d.message !== "string" || typeof d.code !== "number" || d.source !== source) problems.push(`ingress error without {code,message,source}: ${text.slice(0, 200)}`);
  }
  if (res.status >= 500) {
    const documented =
      (c.api === "ingress" && source === "invocation") ||
      (c.api === "admin" && res.status === 500 && /META0003/.test(text)) ||
      (c.api === "admin" && res.status === 501 && c.method === "DELETE") ||
      // POST /query: unknown tables and columns and failed executions are 500s, as the reference answers them
      // (test/query/engine.test.ts); SQL it refuses is a 400.
      (c.api === "admin" && res.status === 500 && /\/query\b/.test(c.target) && /^\{"message":"(Error during planning|Execution error)/.test(text));
    if (!documented) problems.push(`${res.status} for client input: ${text.slice(0, 300)}`);
  }
  return problems;
}

type Snapshot = { invocations: Set<string>; deployments: string; services: string; tables: string };

async function snapshot(): Promise<Snapshot> {
  const ids = new Set<string>();
  for (const id of reader.invocationIds()) ids.add(id);
  const deployments = (await http(`${env.admin}/deployments`)).text;
  const services = (await http(`${env.admin}/services`)).text;
  return { invocations: ids, deployments, services, tables: reader.registryTables() };
}

async function assertHealthy(where: string): Promise<void> {
  const a = await http(`${env.admin}/health`, { signal: AbortSignal.timeout(5000) });
  assert.equal(a.status, 200, `admin /health after ${where}`);
  const i = await http(`${env.ingress}/restate/health`, { signal: AbortSignal.timeout(5000) });
  assert.equal(i.status, 200, `ingress /restate/health after ${where}`);
}

async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Prints an input and its answer when PERDURE_FUZZ_DEBUG selects it. */
function debugCase(label: string, c: Case, outcome: RawOutcome): void {
  const sel = process.env.PERDURE_FUZZ_DEBUG;
  if (!sel) return;
  const hit = sel === "*" ? label.startsWith("targeted") : sel.startsWith("/") ? c.target === sel : (c.body?.toString("latin1").includes(sel) ?? false);
  if (!hit) return;
  const answer = outcome.kind === "response" ? [outcome.response.statusLine, [...outcome.response.headers], outcome.response.body.toString("latin1").slice(0, 300)] : outcome;
  process.stderr.write(`DEBUG ${describeCase(c)}\n=> ${JSON.stringify(answer)}\n`);
}

/** Sends a batch, checks every answer and the state around the batch; returns the violations. */
async function runBatch(cases: readonly Case[], label: string): Promise<Violation[]> {
  const violations: Violation[] = [];
  const announced = new Set<string>();
  const before = await snapshot();
  await runPool(cases, CONCURRENCY, async (c) => {
    const port = c.api === "ingress" ? env.perdure.ingressPort : env.perdure.adminPort;
    const outcome = await rawExchange(port, buildRequest(c.method, c.target, c.headers, c.body), { timeoutMs: 10_000, head: c.method === "HEAD" });
    debugCase(label, c, outcome);
    for (const problem of checkAnswer(c, outcome)) violations.push({ input: describeCase(c), problem, target: c.target });
    if (outcome.kind === "response") {
      const res: RawResponse = outcome.response;
      for (const id of res.headers.get("x-restate-id") ?? []) announced.add(id);
      if (c.api === "ingress" && res.status < 400 && res.status >= 200) {
        const doc = safeJson(res.body);
        if (doc && typeof doc === "object" && "invocationId" in doc) announced.add(String((doc as { invocationId: unknown }).invocationId));
      }
    }
  });
  await assertHealthy(label);
  const afterSnap = await snapshot();
  for (const id of afterSnap.invocations) {
    if (!before.invocations.has(id) && !announced.has(id)) {
      const rec = { ...reader.invocation(id), input: reader.journalText(id, 0) };
      violations.push({ input: label, problem: `invocation ${id} appeared without any response announcing it: ${JSON.stringify(rec)}` });
    }
  }
  if (afterSnap.deployments !== before.deployments) violations.push({ input: label, problem: `deployments changed: ${before.deployments} -> ${afterSnap.deployments}` });
  if (afterSnap.services !== before.services) violations.push({ input: label, problem: "services changed (admin listing)" });
  if (afterSnap.tables !== before.tables) violations.push({ input: label, problem: "deployments/services tables changed" });
  return violations;
}

function safeJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString("utf8"));
  } catch {
    return undefined;
  }
}

function report(t: TestContext, violations: Violation[]): void {
  const byProblem = new Map<string, Violation[]>();
  for (const v of violations) {
    const key = v.problem.replace(/inv_1\w+|dp_1\w+/g, "<id>").slice(0, 120);
    const list = byProblem.get(key) ?? [];
    list.push(v);
    byProblem.set(key, list);
  }
  for (const [key, list] of byProblem) t.diagnostic(`${list.length}× ${key}\n    e.g. ${list[0]!.input}\n    ${list[0]!.problem}`);
}

// Known perdure bugs the fuzzer finds; their inputs are reported as diagnostics, not as failures. Empty: every
// bug it found so far is fixed (admin 500s on bad escapes and on '//' targets, CONNECT dropped).
const KNOWN: Array<{ match: (v: Violation) => boolean; bug: string }> = [];

function splitKnown(violations: Violation[]): { unknown: Violation[]; known: Map<string, Violation[]> } {
  const known = new Map<string, Violation[]>();
  const unknown: Violation[] = [];
  for (const v of violations) {
    const k = KNOWN.find((x) => x.match(v));
    if (!k) unknown.push(v);
    else known.set(k.bug, [...(known.get(k.bug) ?? []), v]);
  }
  return { unknown, known };
}

async function fuzz(t: TestContext, api: "ingress" | "admin", count: number, seed: number): Promise<Violation[]> {
  const r = new Rand(seed);
  const all: Violation[] = [];
  for (let done = 0; done < count; done += BATCH) {
    const cases = Array.from({ length: Math.min(BATCH, count - done) }, () => randomCase(r, api));
    all.push(...(await runBatch(cases, `${api} batch ${done / BATCH + 1} (seed ${seed})`)));
    totals.random += cases.length;
  }
  report(t, all);
  return all;
}

// ----- tests --------------------------------------------------------------------------------------

describe("random inputs", () => {
  for (const api of ["ingress", "admin"] as const) {
    const count = Math.round(COUNT * (api === "ingress" ? 0.6 : 0.4));
    const seed = (SEED + (api === "ingress" ? 0 : 1)) >>> 0;
    test(`${api}: ${count} random requests (seed ${seed}) are answered well-formed, with 4xx, changing nothing`, async (t) => {
      const { unknown, known } = splitKnown(await fuzz(t, api, count, seed));
      for (const [bug, list] of known) t.diagnostic(`known, not failing this test (see its todo test): ${list.length} inputs hit ${bug}`);
      assert.deepEqual(unknown.slice(0, 5), [], `${unknown.length} violations`);
    });
  }
});

// Inputs the random generator may miss, each sent once and checked the same way.
describe("targeted bad input", () => {
  const r = new Rand(SEED ^ 0xabcdef);
  const h = (extra: Array<[string | Buffer, string | Buffer]> = []): Array<[string | Buffer, string | Buffer]> => [["host", "127.0.0.1"], ["connection", "close"], ...extra];
  const json = (doc: unknown) => Buffer.from(JSON.stringify(doc));
  const cl = (b: Buffer): [string, string] => ["content-length", String(b.length)];
  const cases = (): Case[] => {
    const list: Case[] = [];
    const add = (api: "ingress" | "admin", method: string, target: string, extra: Array<[string | Buffer, string | Buffer]> = [], body?: Buffer, note = "") =>
      list.push({ api, method, target, headers: h([...extra, ...(body ? [cl(body)] : [])]), body, note });
    // Admin: bad escapes in every routed position.
    for (const p of ["/deployments/%zz", "/deployments/%E0%A4%A", "/services/%zz", "/services/%E0%A4%A/handlers", "/invocations/%zz/kill", "/v1/services/%", "/%"]) add("admin", "GET", p);
    add("admin", "PATCH", "/invocations/%E0%A4%A/cancel");
    for (const p of ["//%zz", "//%u0041/deployments", "//a b", "//[::1/services"]) add("admin", "GET", p);
    // Admin: invalid JSON and wrong types to every body-taking route.
    for (const body of ["{", "[]", "null", '{"uri":5}', '{"uri":"http://127.0.0.1:1/","additional_headers":{"a":1}}', "\u00ff\u00fe"]) {
      add("admin", "POST", "/deployments", [["content-type", "application/json"]], Buffer.from(body, "latin1"));
      add("admin", "PATCH", "/services/Echo", [["content-type", "application/json"]], Buffer.from(body, "latin1"));
    }
    add("admin", "POST", "/deployments", [["content-type", "text/plain"]], json({ uri: "http://127.0.0.1:1/" }));
    add("admin", "PATCH", "/services/Echo", [["content-type", "application/json"]], json({ idempotency_retention: "-1h" }), "negative retention");
    add("admin", "PATCH", "/services/Echo", [["content-type", "application/json"]], json({ abort_timeout: "P999999999999Y" }), "overflowing duration");
    add("admin", "PATCH", "/services/Echo", [["content-type", "application/json"]], json({ inactivity_timeout: "NaNs" }));
    add("admin", "DELETE", `/deployments/${randomDeploymentId(r)}?force=true`);
    for (const sql of SQL) {
      add("admin", "POST", "/query", [["content-type", "application/json"], ["accept", r.pick(["application/json", "application/vnd.apache.arrow.stream"])]], json({ query: sql }));
    }
    add("admin", "DELETE", `/invocations/${randomInvocationId(r)}?mode=purge`);
    // Ingress: keys and idempotency keys with encoded characters, huge and repeated headers.
    for (const key of ["%2F", "%zz", "%E0%A4%A", "..", "%2e%2e", "ключ", "%00", "a".repeat(8000)]) {
      add("ingress", "POST", `/Box/${key}/get`);
      add("ingress", "GET", `/restate/invocation/Box/${key}/put/${key}/output`);
      add("ingress", "GET", `/restate/workflow/Flow/${key}/output`);
    }
    add("ingress", "POST", "/Echo/echo", [["content-type", "application/octet-stream"], ["idempotency-key", "a"], ["idempotency-key", "b"]], Buffer.from("x"));
    add("ingress", "POST", "/Echo/echo", [["x-big", "b".repeat(20_000)]]);
    add("ingress", "POST", "/Echo/echo", Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, "v"] as [string, string]));
    add("ingress", "POST", "/Echo/echo", [[Buffer.from("x-\u00e9", "latin1"), "v"]]);
    add("ingress", "POST", "/Echo/echo", [["content-type", "application/json"]], Buffer.from("{"));
    add("ingress", "POST", "/Echo/echo/send?delay=P99999999999Y", [["content-type", "application/octet-stream"]], Buffer.from("far future"), "delay beyond the timer range");
    add("ingress", "POST", "/Echo/echo/send?delay=-10s", [["content-type", "application/octet-stream"]], Buffer.from("negative delay"));
    add("ingress", "POST", "/Echo/echo?delay=10s");
    add("ingress", "POST", "/restate/a/sign_1/resolve");
    add("ingress", "POST", "/restate/a/prom_1AAAA/resolve", [], Buffer.from("1"));
    add("ingress", "GET", "/restate/invocation/inv_1/attach");
    // Methods and headers node:http treats specially.
    for (const api of ["ingress", "admin"] as const) {
      list.push({ api, method: "CONNECT", target: "127.0.0.1:80", headers: h(), body: undefined, note: "CONNECT" });
      add(api, "GET", api === "ingress" ? "/restate/health" : "/health", [["upgrade", "websocket"], ["connection", "upgrade"], ["sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="], ["sec-websocket-version", "13"]]);
      add(api, "GET", api === "ingress" ? "/restate/health" : "/health", [["upgrade", "h2c"], ["connection", "upgrade, http2-settings"], ["http2-settings", "AAMAAABkAARAAAAAAAIAAAAA"]]);
      add(api, "PRI", "*");
    }
    return list;
  };
  test("each targeted input is answered well-formed, with 4xx, changing nothing", async (t) => {
    const list = cases();
    const violations = await runBatch(list, "targeted batch");
    totals.targeted += list.length;
    report(t, violations);
    const { unknown, known } = splitKnown(violations);
    for (const [bug, vs] of known) t.diagnostic(`known, not failing this test (see its todo test): ${vs.length} inputs hit ${bug}`);
    assert.deepEqual(unknown.slice(0, 8), [], `${unknown.length} violations`);
  });
});

describe("known bugs", () => {
  test("admin: an invalid percent-escape in the path is a 400, not a 500", async () => {
    for (const path of ["/deployments/%zz", "/services/%E0%A4%A", "/invocations/%/kill"]) {
      const res = await http(`${env.admin}${path}`);
      assert.equal(res.status, 400, `${path}: ${res.status} ${res.text}`);
    }
  });

  test("admin: a request target starting with '//' and an invalid host is a 4xx, not a 500", async () => {
    for (const target of ["//%zz", "//%u0041/deployments"]) {
      const out = await rawExchange(env.perdure.adminPort, buildRequest("GET", target, [["host", "127.0.0.1"], ["connection", "close"]]), { timeoutMs: 2000 });
      assert.ok(out.kind === "response" && out.response.status < 500, `${target}: ${out.kind === "response" ? out.response.statusLine : out.kind}`);
    }
  });

  test("a CONNECT request is answered (405), not dropped", async () => {
    for (const port of [env.perdure.ingressPort, env.perdure.adminPort]) {
      const out = await rawExchange(port, buildRequest("CONNECT", "127.0.0.1:80", [["host", "127.0.0.1:80"]]), { timeoutMs: 2000 });
      assert.equal(out.kind, "response", `port ${port}: ${out.kind}`);
    }
  });
});

describe("slow clients and clients that go away", () => {
  test("a request written one byte at a time is answered like any other", async () => {
    const body = Buffer.from("slowly");
    const call = buildRequest("POST", "/Echo/echo", [["host", "127.0.0.1"], ["connection", "close"], ["content-type", "application/octet-stream"], ["content-length", String(body.length)]], body);
    const bad = buildRequest("POST", "/Echo/%zz/nope/x/y", [["host", "127.0.0.1"], ["connection", "close"]]);
    const adminBad = buildRequest("POST", "/deployments", [["host", "127.0.0.1"], ["connection", "close"], ["content-type", "application/json"], ["content-length", "5"]], Buffer.from("{bad}"));
    const [a, b, c] = await Promise.all([
      rawExchange(env.perdure.ingressPort, call, { byteDelayMs: 1, timeoutMs: 20_000 }),
      rawExchange(env.perdure.ingressPort, bad, { byteDelayMs: 1, timeoutMs: 20_000 }),
      rawExchange(env.perdure.adminPort, adminBad, { byteDelayMs: 1, timeoutMs: 20_000 }),
    ]);
    totals.slow += 3;
    assert.equal(a.kind, "response");
    assert.equal(a.kind === "response" && a.response.status, 200);
    assert.equal(a.kind === "response" && a.response.body.toString(), "slowly");
    assert.equal(b.kind === "response" && b.response.status, 400);
    assert.equal(c.kind === "response" && c.response.status, 400);
    await assertHealthy("slow clients");
  });

  test("clients that disconnect mid-headers or mid-body change nothing", async () => {
    const before = await snapshot();
    const r = new Rand(SEED ^ 0x1234);
    const inputs: Array<{ port: number; bytes: Buffer }> = [];
    for (let i = 0; i < 60; i++) {
      const ingress = i % 2 === 0;
      const port = ingress ? env.perdure.ingressPort : env.perdure.adminPort;
      const full = ingress
        ? buildRequest("POST", i % 4 === 0 ? "/Echo/echo/send" : `/Box/k${i}/put`, [["host", "127.0.0.1"], ["content-type", "application/octet-stream"], ["content-length", "1000"]], r.bytes(1000))
        : buildRequest("POST", "/deployments", [["host", "127.0.0.1"], ["content-type", "application/json"], ["content-length", "1000"]], Buffer.from(`{"uri":"http://127.0.0.1:1/","pad":"${"x".repeat(960)}"}`));
      inputs.push({ port, bytes: full.subarray(0, 1 + r.int(full.length - 2)) });
    }
    await runPool(inputs, 10, async ({ port, bytes }) => {
      const outcome = await rawExchange(port, bytes, { disconnectAfterMs: 20, timeoutMs: 2000 });
      // A response is fine (e.g. a 400 for a cut request line); silence is what a cut request gets.
      if (outcome.kind === "malformed") assert.fail(`malformed answer to a cut request: ${outcome.reason}`);
    });
    totals.disconnects += inputs.length;
    await assertHealthy("disconnects mid-request");
    const afterSnap = await snapshot();
    assert.deepEqual([...afterSnap.invocations].filter((id) => !before.invocations.has(id)), [], "no invocation from a cut request");
    assert.equal(afterSnap.deployments, before.deployments);
  });

  test("callers that disconnect while waiting: the invocations still complete, perdure stays healthy", async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `gone-${SEED}-${i}-${Date.now()}`);
    await Promise.all(
      keys.map(async (key, i) => {
        const body = Buffer.from(JSON.stringify(300 + i * 10));
        const req = buildRequest("POST", "/Sleeper/sleep", [["host", "127.0.0.1"], ["content-type", "application/json"], ["idempotency-key", key], ["content-length", String(body.length)]], body);
        const outcome = await rawExchange(env.perdure.ingressPort, req, { disconnectAfterMs: 100, timeoutMs: 2000 });
        assert.equal(outcome.kind, "closed", "no answer before the caller left");
      }),
    );
    // Attachers that leave too.
    await Promise.all(
      keys.slice(0, 5).map((key) =>
        rawExchange(env.perdure.ingressPort, buildRequest("GET", `/restate/invocation/Sleeper/sleep/${key}/attach`, [["host", "127.0.0.1"]]), { disconnectAfterMs: 30, timeoutMs: 2000 }),
      ),
    );
    totals.disconnects += 15;
    await assertHealthy("callers that left");
    for (const [i, key] of keys.entries()) {
      const res = await waitFor(async () => {
        const out = await http(`${env.ingress}/restate/invocation/Sleeper/sleep/${key}/output`);
        return out.status === 200 ? out : undefined;
      }, 5000);
      assert.equal(res.json, `slept ${300 + i * 10}`);
    }
  });
});

describe("limits", () => {
  test("a body over 32 MiB gets 413 (declared or streamed), and no invocation", async () => {
    const before = await snapshot();
    const declared = await rawExchange(
      env.perdure.ingressPort,
      buildRequest("POST", "/Echo/echo", [["host", "127.0.0.1"], ["content-type", "application/octet-stream"], ["content-length", String(LIMIT + 1)]]),
      { timeoutMs: 5000 },
    );
    assert.equal(declared.kind === "response" && declared.response.status, 413, JSON.stringify(declared.kind === "response" ? declared.response.statusLine : declared.kind));
    // Streamed with chunked encoding: no length up front, the limit trips while reading.
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const parts = [buildRequest("POST", "/Echo/echo/send", [["host", "127.0.0.1"], ["content-type", "application/octet-stream"], ["transfer-encoding", "chunked"]])];
    for (let i = 0; i < 33; i++) parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n"));
    parts.push(Buffer.from("0\r\n\r\n"));
    const streamed = await rawExchange(env.perdure.ingressPort, Buffer.concat(parts), { timeoutMs: 10_000 });
    assert.equal(streamed.kind === "response" && streamed.response.status, 413);
    // The admin API has its own, smaller limit (10 MiB): a body over 32 MiB, sent in full, is a 413 too.
    const big = Buffer.alloc(LIMIT + 1, 0x20);
    const admin = await rawExchange(
      env.perdure.adminPort,
      buildRequest("POST", "/deployments", [["host", "127.0.0.1"], ["connection", "close"], ["content-type", "application/json"], ["content-length", String(big.length)]], big),
      { timeoutMs: 10_000 },
    );
    totals.targeted += 3;
    assert.equal(admin.kind === "response" && admin.response.status, 413, `admin: ${admin.kind}`);
    const afterSnap = await snapshot();
    assert.deepEqual([...afterSnap.invocations].filter((id) => !before.invocations.has(id)), []);
    await assertHealthy("oversized bodies");
  });

  test(
    "admin: a declared content-length over the limit is answered 413 at once, as the ingress does",
    async () => {
      const out = await rawExchange(
        env.perdure.adminPort,
        buildRequest("POST", "/deployments", [["host", "127.0.0.1"], ["content-type", "application/json"], ["content-length", String(LIMIT + 1)]]),
        { timeoutMs: 1000 },
      );
      assert.equal(out.kind === "response" && out.response.status, 413, out.kind);
    },
  );

  test("headers over the size limit get 431", async () => {
    const out = await rawExchange(env.perdure.ingressPort, buildRequest("POST", "/Echo/echo", [["host", "127.0.0.1"], ["x-big", "b".repeat(64 * 1024)]]), { timeoutMs: 5000 });
    assert.equal(out.kind === "response" && out.response.status, 431);
    const admin = await rawExchange(env.perdure.adminPort, buildRequest("GET", "/health", [["host", "127.0.0.1"], ["x-big", "b".repeat(64 * 1024)]]), { timeoutMs: 5000 });
    assert.equal(admin.kind === "response" && admin.response.status, 431);
    totals.targeted += 2;
  });

  test("many concurrent requests (calls, sends and bad input) are all answered", async () => {
    const N = 400;
    const r = new Rand(SEED ^ 0x77);
    const results = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        if (i % 4 === 3) {
          const c = randomCase(r, i % 8 === 3 ? "admin" : "ingress");
          const port = c.api === "ingress" ? env.perdure.ingressPort : env.perdure.adminPort;
          const o = await rawExchange(port, buildRequest(c.method, c.target, c.headers, c.body), { timeoutMs: 20_000, head: c.method === "HEAD" });
          const input = describeCase(c);
          const { unknown } = splitKnown(checkAnswer(c, o).map((problem) => ({ input, problem, target: c.target })));
          return { kind: "random", ok: unknown.length === 0, detail: `${input}: ${unknown.map((v) => v.problem).join("; ")}` };
        }
        const send = i % 4 === 1;
        const res = await http(`${env.ingress}/Box/c${i % 16}/put${send ? "/send" : ""}`, {
          method: "POST",
          body: `v${i}`,
          headers: { "content-type": "application/octet-stream" },
          signal: AbortSignal.timeout(20_000),
        });
        return { kind: send ? "send" : "call", ok: res.status === (send ? 202 : 200), detail: `${res.status} ${res.text.slice(0, 100)}` };
      }),
    );
    totals.concurrent += N;
    const failed = results.filter((x) => !x.ok);
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${N} concurrent requests failed`);
    await assertHealthy("concurrent load");
  });
});
