// The SDK services the benchmark drives, served with the real SDK (@restatedev/restate-sdk) over h2c
// (BIDI_STREAM, the mode both servers use for http:// deployments). One process serves both servers, in turn.
//
//   npx node bench/services.ts --port P --stats-port S
//
// Services:
//   BenchSvc      noop, threeSteps (three ctx.run), sleep ({ms}: one ctx.sleep), sink (counts completions)
//   BenchCounter  virtual object: add (get + set of "count"), get (shared)
//   BenchWf       workflow whose run returns at once
// The stats port (HTTP/1.1, 127.0.0.1) answers GET /count with {"completed": n}, the number of distinct
// invocation ids `sink` has run for since the last POST /reset. The benchmark uses it to tell when every
// invocation accepted through /send has really executed, without putting any polling load on the server
// under test.
// It also answers GET /pauses with this process's own stalls since the last POST /pauses/reset: garbage
// collection pauses and event-loop delay. Every in-flight invocation waits through them, whichever server
// drives the SDK, so the benchmark reports them next to the servers' latencies.
// Prints "listening on <port> stats <port>" once ready; exits on SIGTERM/SIGINT.
import http from "node:http";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import * as restate from "@restatedev/restate-sdk";

const sinkSeen = new Set<string>();

/** GC pauses and event-loop delay of this process since the last reset. */
const gcPauses = { count: 0, totalMs: 0, maxMs: 0 };
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcPauses.count++;
    gcPauses.totalMs += e.duration;
    gcPauses.maxMs = Math.max(gcPauses.maxMs, e.duration);
  }
}).observe({ entryTypes: ["gc"] });

function pauses(): Record<string, number> {
  return {
    gcCount: gcPauses.count,
    gcTotalMs: gcPauses.totalMs,
    gcMaxMs: gcPauses.maxMs,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
  };
}

function resetPauses(): void {
  Object.assign(gcPauses, { count: 0, totalMs: 0, maxMs: 0 });
  loopDelay.reset();
}

export const benchSvc = restate.service({
  name: "BenchSvc",
  handlers: {
    noop: async (_ctx: restate.Context): Promise<void> => {},

    threeSteps: async (ctx: restate.Context) => {
      const a = await ctx.run("one", () => 1);
      const b = await ctx.run("two", () => 2);
      const c = await ctx.run("three", () => 3);
      return a + b + c;
    },

    sleep: async (ctx: restate.Context, input?: { ms?: number }) => {
      await ctx.sleep(input?.ms ?? 10);
      return "slept";
    },

    sink: async (ctx: restate.Context): Promise<void> => {
      sinkSeen.add(ctx.request().id);
    },
  },
});

export const benchCounter = restate.object({
  name: "BenchCounter",
  handlers: {
    add: async (ctx: restate.ObjectContext<{ count: number }>, n?: number) => {
      const next = ((await ctx.get("count")) ?? 0) + (n ?? 1);
      ctx.set("count", next);
      return next;
    },
    get: restate.handlers.object.shared(
      async (ctx: restate.ObjectSharedContext<{ count: number }>) => (await ctx.get("count")) ?? 0,
    ),
  },
});

export const benchWf = restate.workflow({
  name: "BenchWf",
  handlers: {
    run: async (_ctx: restate.WorkflowContext, input?: unknown) => ({ ok: true, input }),
  },
});

export const benchServices = [benchSvc, benchCounter, benchWf];

function listen(server: http.Server | http2.Http2Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      "stats-port": { type: "string", default: "0" },
    },
  });
  const handler = restate.createEndpointHandler({ services: benchServices, logger: () => {} });
  const h2 = http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  const stats = http.createServer((req, res) => {
    if (req.method === "POST" && req.url === "/reset") sinkSeen.clear();
    if (req.method === "POST" && req.url === "/pauses/reset") resetPauses();
    const body = JSON.stringify(req.url?.startsWith("/pauses") ? pauses() : { completed: sinkSeen.size });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  const port = await listen(h2, Number(values.port));
  const statsPort = await listen(stats, Number(values["stats-port"]));
  console.log(`listening on ${port} stats ${statsPort}`);
  const shutdown = () => {
    stats.close();
    h2.close(() => process.exit(0));
    for (const s of sessions) s.destroy();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

if (import.meta.main) await main();
