// Shared setup for the /query tests: perdure in-process on SQLite, the SDK test services plus a probe service,
// the deployment registered, invocations driven into every status, and a query engine on the data file.
// The engine is called directly (the admin route is wired elsewhere).
import assert from "node:assert/strict";
import * as restate from "@restatedev/restate-sdk";
import { tableFromIPC, type Table } from "apache-arrow";
import { DEFAULTS } from "../../src/config/config.ts";
import { createLogger } from "../../src/log/logger.ts";
import { startPerdure, type RunningPerdure } from "../../src/perdure.ts";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.ts";
import { createQueryEngine, type QueryEngine, type QueryReply } from "../../src/query/index.ts";
import { allServices, startServices, type ServicesServer } from "../services/index.ts";
import { registerDeployment, waitFor } from "../support/admin-client.ts";
import { http } from "../support/http.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";

/** Invocations the probe and the tests drive into particular statuses. */
export const queryProbe = restate.service({
  name: "QueryProbe",
  handlers: {
    /** A run step, then a failure; the next retry is 10 minutes away: stays backing-off. */
    failSlow: restate.handlers.handler(
      { retryPolicy: { initialInterval: 600_000, maxInterval: 600_000, exponentiationFactor: 1, maxAttempts: 100, onMaxAttempts: "pause" } },
      async (ctx: restate.Context): Promise<void> => {
        await ctx.run("step", () => 1);
        throw new Error("always failing slowly");
      },
    ),
    /** Fails twice, then is paused. */
    failPause: restate.handlers.handler(
      { retryPolicy: { initialInterval: 50, exponentiationFactor: 1, maxAttempts: 2, onMaxAttempts: "pause" } },
      async (_ctx: restate.Context): Promise<void> => {
        throw new Error("always failing (pause)");
      },
    ),
    /** Sleeps 10 minutes with a short inactivity timeout: suspends at once. */
    suspend: restate.handlers.handler({ inactivityTimeout: 100 }, async (ctx: restate.Context) => {
      await ctx.sleep(600_000);
      return "woke";
    }),
    /** A call, a send and an awakeable: a journal with commands and notifications of several kinds. */
    caller: async (ctx: restate.Context) => {
      const greeting = await ctx.genericCall({
        service: "Greeter",
        method: "greet",
        parameter: new TextEncoder().encode(JSON.stringify({ name: "x" })),
        inputSerde: restate.serde.binary,
        outputSerde: restate.serde.binary,
      });
      ctx.genericSend({ service: "Greeter", method: "noop", parameter: new Uint8Array(), inputSerde: restate.serde.binary });
      const { id, promise } = ctx.awakeable<string>();
      ctx.resolveAwakeable(id, "v");
      await promise;
      return new TextDecoder().decode(greeting);
    },
  },
});

export interface Scenario {
  readonly perdure: RunningPerdure;
  readonly engine: QueryEngine;
  readonly dataFile: string;
  readonly ingress: string;
  readonly admin: string;
  readonly deploymentId: string;
  /** Object key of the Counter with a running `block` and an inboxed `add`. */
  readonly blockedKey: string;
  /** Object key of the Counter whose state is {count: 5}. */
  readonly stateKey: string;
  readonly workflowKey: string;
  readonly ids: {
    readonly completed: string;
    readonly failed: string;
    readonly counterAdd: string;
    readonly caller: string;
    readonly running: string;
    readonly blocker: string;
    readonly inboxed: string;
    readonly scheduled: string;
    readonly suspended: string;
    readonly backingOff: string;
    readonly paused: string;
    readonly workflow: string;
  };
  /** Runs SQL; JSON replies parsed. */
  json(sql: string): Promise<Array<Record<string, unknown>>>;
  arrow(sql: string): Promise<Table>;
  raw(sql: string, format: "json" | "arrow"): Promise<QueryReply>;
  close(): Promise<void>;
}

let unique = 0;
const key = (prefix: string) => `${prefix}-${process.pid}-${++unique}`;

export async function startScenario(opts: { timeoutMs?: number } = {}): Promise<Scenario> {
  const dataDir = await makeTempDir("perdure-query-");
  let perdure: RunningPerdure | undefined;
  let services: ServicesServer | undefined;
  let engine: QueryEngine | undefined;
  const close = async () => {
    await engine?.close();
    await perdure?.stop();
    await services?.close();
    await removeTempDir(dataDir);
  };
  try {
    services = await startServices(0, { quiet: true, services: [...allServices, queryProbe] });
    perdure = await startPerdure({
      config: { ...DEFAULTS, ingressPort: 0, adminPort: 0, bindAddress: "127.0.0.1", dataDir, logLevel: "warn" },
      logger: createLogger("warn", (line) => {
        if (process.env.PERDURE_TEST_ECHO_LOGS === "1") process.stderr.write(line);
      }),
    });
    const admin = `http://127.0.0.1:${perdure.adminPort}`;
    const ingress = `http://127.0.0.1:${perdure.ingressPort}`;
    const reg = await registerDeployment<{ id: string }>(admin, services.url);
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    assert.ok(perdure.store instanceof SqliteStore);
    const dataFile = perdure.store.path;
    engine = createQueryEngine({ dataFile, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });

    const call = async (path: string, json?: unknown): Promise<string> => {
      const res = await http(`${ingress}${path}`, { method: "POST", ...(json !== undefined ? { json } : {}) });
      assert.ok(res.status < 300 || path.endsWith("/fail"), `${path}: ${res.status} ${res.text}`);
      const id = res.headers.get("x-restate-id") ?? (res.json as { invocationId?: string } | undefined)?.invocationId;
      assert.ok(id, `${path}: no invocation id in ${res.text}`);
      return id;
    };
    const blockedKey = key("blocked");
    const stateKey = key("state");
    const workflowKey = key("wf");
    const completed = await call("/Greeter/greet", { name: "a" });
    const failed = await call("/Greeter/fail", { message: "boom", code: 418 });
    const counterAdd = await call(`/Counter/${stateKey}/add`, 5);
    const caller = await call("/QueryProbe/caller");
    const running = await call("/Greeter/sleep/send", { ms: 600_000 });
    const blocker = await call(`/Counter/${blockedKey}/block/send`, { ms: 600_000 });
    const inboxed = await call(`/Counter/${blockedKey}/add/send`, 1);
    const scheduled = await call("/Greeter/greet/send?delay=10m", { name: "later" });
    const suspended = await call("/QueryProbe/suspend/send");
    const backingOff = await call("/QueryProbe/failSlow/send");
    const paused = await call("/QueryProbe/failPause/send");
    const workflow = await call(`/Signup/${workflowKey}/run/send`, { x: 1 });
    const ids = { completed, failed, counterAdd, caller, running, blocker, inboxed, scheduled, suspended, backingOff, paused, workflow };

    const raw = (sql: string, format: "json" | "arrow") => engine!.query(sql, format);
    const json = async (sql: string) => {
      const reply = await raw(sql, "json");
      assert.equal(reply.status, 200, `${sql}\n-> ${reply.status} ${reply.body.toString()}`);
      assert.equal(reply.contentType, "application/json");
      return (JSON.parse(reply.body.toString()) as { rows: Array<Record<string, unknown>> }).rows;
    };
    const arrow = async (sql: string) => {
      const reply = await raw(sql, "arrow");
      assert.equal(reply.status, 200, `${sql}\n-> ${reply.status} ${reply.body.toString()}`);
      assert.equal(reply.contentType, "application/vnd.apache.arrow.stream");
      return tableFromIPC(reply.body);
    };
    // Wait until every invocation is where the tests expect it.
    const expected: Record<string, string> = {
      [running]: "running",
      [blocker]: "running",
      [inboxed]: "pending",
      [scheduled]: "scheduled",
      [suspended]: "suspended",
      [backingOff]: "backing-off",
      [paused]: "paused",
    };
    await waitFor(async () => {
      const rows = await json(`SELECT id, status FROM sys_invocation WHERE id IN (${Object.keys(expected).map((id) => `'${id}'`).join(", ")})`);
      return rows.length === Object.keys(expected).length && rows.every((r) => expected[r.id as string] === r.status);
    }, 15_000);
    // The workflow waits for its promise once its journal shows the GetPromise command.
    await waitFor(async () => (await json(`SELECT key FROM sys_promise WHERE service_key = '${workflowKey}'`)).length === 1, 10_000);
    return { perdure, engine, dataFile, ingress, admin, deploymentId: reg.body.id, blockedKey, stateKey, workflowKey, ids, json, arrow, raw, close };
  } catch (err) {
    await close();
    throw err;
  }
}
