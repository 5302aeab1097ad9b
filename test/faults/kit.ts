// Shared pieces of the fault suite: perdure in-process on free ports with an SQLite data dir, read-only
// access to the invocation records it stores, a TCP proxy that can reset connections, and a fake h2c
// endpoint that serves the real SDK handler but answers chosen /invoke requests with faults.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { DatabaseSync } from "node:sqlite";
import { DEFAULTS } from "../../src/config/config.ts";
import { createLogger } from "../../src/log/logger.ts";
import { startPerdure, type RunningPerdure } from "../../src/perdure.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";

export type InProcessPerdure = {
  readonly perdure: RunningPerdure;
  readonly ingress: string;
  readonly admin: string;
  readonly dataDir: string;
  /** perdure's log lines so far. */
  readonly logs: string[];
  close(): Promise<void>;
};

/** perdure in this process on free ports, SQLite in a fresh temp dir (removed by close()). */
export async function startInProcess(opts: { requestSizeLimit?: number } = {}): Promise<InProcessPerdure> {
  const dataDir = await makeTempDir("perdure-faults-");
  const logs: string[] = [];
  const perdure = await startPerdure({
    config: {
      ...DEFAULTS,
      ingressPort: 0,
      adminPort: 0,
      bindAddress: "127.0.0.1",
      dataDir,
      logLevel: "debug",
      fsync: false,
      ...(opts.requestSizeLimit !== undefined ? { requestSizeLimit: opts.requestSizeLimit } : {}),
    },
    logger: createLogger("debug", (line) => {
      logs.push(line);
      if (logs.length > 5000) logs.splice(0, 1000);
      if (process.env.PERDURE_TEST_ECHO_LOGS === "1") process.stderr.write(line);
    }),
  });
  let closing: Promise<void> | undefined;
  return {
    perdure,
    ingress: `http://127.0.0.1:${perdure.ingressPort}`,
    admin: `http://127.0.0.1:${perdure.adminPort}`,
    dataDir,
    logs,
    close: () =>
      (closing ??= (async () => {
        try {
          await perdure.stop();
        } finally {
          await removeTempDir(dataDir);
        }
      })()),
  };
}

export type StoredInvocation = {
  id: string;
  status: string;
  service: string;
  handler: string;
  deploymentId?: string;
  failedAttempts: number;
  retryCount: number;
  nextRetryAt?: number;
  modifiedAt: number;
  epoch: number;
  lastFailure?: { code: number; message: string; errorCode: string; relatedEntry?: string };
};

/**
 * Read-only view of perdure's SQLite file (what `POST /query` will show once it exists). One connection
 * per call: WAL readers see every committed transaction.
 */
export function openReader(dataDir: string): {
  invocation(id: string): StoredInvocation | undefined;
  count(table: string): number;
  invocationIds(): string[];
  /** A journal entry's payload as latin1 text (for diagnostics). */
  journalText(id: string, index: number): string | undefined;
  /** The deployments and services tables, serialised (to compare before/after). */
  registryTables(): string;
  close(): void;
} {
  const db = new DatabaseSync(path.join(dataDir, "perdure.sqlite"), { readOnly: true });
  const byId = db.prepare("SELECT record FROM invocations WHERE id = ?");
  return {
    invocation(id) {
      const row = byId.get(id) as { record: string } | undefined;
      return row ? (JSON.parse(row.record) as StoredInvocation) : undefined;
    },
    count(table) {
      if (!/^[a-z_]+$/.test(table)) throw new Error(`bad table ${table}`);
      const row = db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number | bigint };
      return Number(row.n);
    },
    journalText: (id, index) => {
      const row = db.prepare("SELECT payload FROM journal WHERE invocation_id = ? AND idx = ?").get(id, index) as { payload: Uint8Array } | undefined;
      return row ? Buffer.from(row.payload).toString("latin1").replace(/[^\x20-\x7e]+/g, " ").slice(0, 1500) : undefined;
    },
    invocationIds: () => (db.prepare("SELECT id FROM invocations").all() as Array<{ id: string }>).map((r) => r.id),
    registryTables: () =>
      JSON.stringify([db.prepare("SELECT id, record FROM deployments ORDER BY id").all(), db.prepare("SELECT name, record FROM services ORDER BY name").all()]),
    close: () => db.close(),
  };
}

// ---------------------------------------------------------------------------------------------------
// TCP proxy

export type TcpProxy = {
  readonly port: number;
  readonly url: string;
  /** The next `n` accepted connections are reset (RST) as soon as they send their first bytes. */
  resetNext(n: number): void;
  /** The next `n` accepted connections are held open and never forwarded (a hung peer). */
  blackholeNext(n: number): void;
  /** Resets (RST) every open connection, both sides. */
  resetAll(): number;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
};

/** A TCP proxy on 127.0.0.1 in front of `targetPort` that can reset connections on demand. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let toReset = 0;
  let toBlackhole = 0;
  const held = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    client.on("error", () => {});
    if (toReset > 0) {
      toReset--;
      client.once("data", () => client.resetAndDestroy());
      return;
    }
    if (toBlackhole > 0) {
      toBlackhole--;
      held.add(client);
      client.on("data", () => {});
      client.on("close", () => held.delete(client));
      return;
    }
    const upstream = net.connect(targetPort, "127.0.0.1");
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => pairs.delete(pair);
    client.on("close", () => {
      drop();
      upstream.destroy();
    });
    upstream.on("close", () => {
      drop();
      client.destroy();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    resetNext(n) {
      toReset = n;
    },
    blackholeNext(n) {
      toBlackhole = n;
    },
    resetAll() {
      const n = pairs.size;
      for (const p of pairs) {
        if (!p.client.destroyed) p.client.resetAndDestroy();
        if (!p.upstream.destroyed) p.upstream.resetAndDestroy();
      }
      pairs.clear();
      for (const c of held) c.resetAndDestroy();
      held.clear();
      return n;
    },
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of pairs) {
          p.client.destroy();
          p.upstream.destroy();
        }
        for (const c of held) c.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Fake h2c endpoint

type Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

export type FakeEndpoint = {
  readonly port: number;
  readonly url: string;
  /** The next `times` requests to `/invoke/<service>/<handler>` get `fault` instead of the SDK. */
  plan(service: string, handler: string, fault: Handler, times: number): void;
  /** Arrival times (ms) of every /invoke request per "service/handler". */
  arrivals(service: string, handler: string): number[];
  /** Replaces the manifest the SDK gives on /discover (JSON in, JSON out). */
  patchManifest(fn: ((doc: Record<string, unknown>) => Record<string, unknown>) | undefined): void;
  close(): Promise<void>;
};

/**
 * An h2c server that gives every request to `sdk` (the real SDK's endpoint handler), except the /invoke
 * requests a test planned a fault for, and /discover when a manifest patch is set.
 */
export async function startFakeEndpoint(sdk: Handler, opts: { http1?: boolean } = {}): Promise<FakeEndpoint> {
  const plans = new Map<string, { fault: Handler; times: number }>();
  const arrivals = new Map<string, number[]>();
  let patch: ((doc: Record<string, unknown>) => Record<string, unknown>) | undefined;
  const sessions = new Set<http2.ServerHttp2Session>();
  const onRequest = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    const url = req.url ?? "/";
    if (url.startsWith("/discover") && patch) return discoverPatched(sdk, req, res, patch);
    const m = /^\/invoke\/([^/]+)\/([^/?]+)/.exec(url);
    if (m) {
      const key = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      let list = arrivals.get(key);
      if (!list) arrivals.set(key, (list = []));
      list.push(Date.now());
      const plan = plans.get(key);
      if (plan && plan.times > 0) {
        plan.times--;
        (req.stream ?? req.socket).on("error", () => {});
        return plan.fault(req, res);
      }
    }
    return sdk(req, res);
  };
  // HTTP/1.1: the compat request/response of node:http2 and node:http share what the faults use.
  const h1 = opts.http1 ? http.createServer(onRequest as unknown as http.RequestListener) : undefined;
  const server = h1 ?? http2.createServer(onRequest);
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on("error", () => {});
    s.once("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    plan(service, handler, fault, times) {
      plans.set(`${service}/${handler}`, { fault, times });
    },
    arrivals: (service, handler) => [...(arrivals.get(`${service}/${handler}`) ?? [])],
    patchManifest(fn) {
      patch = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.destroy();
        h1?.closeAllConnections();
      }),
  };
}

/** Asks the SDK for its manifest through a captured response, patches the JSON and answers it. */
function discoverPatched(
  sdk: Handler,
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
  patch: (doc: Record<string, unknown>) => Record<string, unknown>,
): void {
  const chunks: Buffer[] = [];
  let status = 200;
  let headers: Record<string, string> = {};
  // A stand-in response object: the SDK's discovery answer is small and written with writeHead/end.
  const capture = {
    writeHead(s: number, h?: Record<string, string>) {
      status = s;
      headers = { ...(h ?? {}) };
      return capture;
    },
    setHeader(name: string, value: string) {
      headers[name.toLowerCase()] = value;
    },
    write(c: Uint8Array | string, cb?: (err?: Error | null) => void) {
      chunks.push(Buffer.from(c));
      cb?.();
      return true;
    },
    end(...args: unknown[]) {
      const cb = args.find((a) => typeof a === "function") as (() => void) | undefined;
      const c = args.find((a) => typeof a === "string" || a instanceof Uint8Array) as Uint8Array | string | undefined;
      if (c !== undefined) chunks.push(Buffer.from(c));
      const body = Buffer.concat(chunks);
      let out = body;
      if (status === 200) out = Buffer.from(JSON.stringify(patch(JSON.parse(body.toString("utf8")) as Record<string, unknown>)));
      const h: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== "content-length") h[k.toLowerCase()] = v;
      res.writeHead(status, { ...h, "content-length": out.length });
      res.end(out, cb);
      return capture;
    },
    on: () => capture,
    once: () => capture,
    emit: () => false,
    headersSent: false,
    writableEnded: false,
  };
  sdk(req, capture as unknown as http2.Http2ServerResponse);
}

/** A deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
