// Shared setup for the end-to-end tests: perdure in-process (SQLite in a temp dir, or in memory) on free
// ports, the real SDK test services on a free port (h2c, or HTTP/1.1 registered with use_http_11), and the
// deployment registered. `close()` stops everything and removes the temp dir; it is safe to call more than
// once and after a failed start. perdure's log lines are dropped unless PERDURE_TEST_ECHO_LOGS=1.
// Also: assertions for the ingress error shape, and small request helpers.
import assert from "node:assert/strict";
import { DEFAULTS, type Config } from "../../src/config/config.ts";
import { createLogger } from "../../src/log/logger.ts";
import { startPerdure, type RunningPerdure } from "../../src/perdure.ts";
import { startServices, type ServeOptions, type ServicesServer } from "../services/index.ts";
import { registerDeployment } from "../support/admin-client.ts";
import { http, type HttpResult } from "../support/http.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";

export type E2eEnv = {
  readonly ingress: string;
  readonly admin: string;
  readonly perdure: RunningPerdure;
  readonly services: ServicesServer;
  /** Id of the registered deployment (undefined when `register: false`). */
  readonly deploymentId: string | undefined;
  close(): Promise<void>;
};

export type E2eOptions = {
  /** Register the services' deployment (default true). */
  register?: boolean;
  /** Use the in-memory store instead of SQLite. */
  inMemory?: boolean;
  services?: ServeOptions;
  /** Settings to change from perdure's defaults. */
  config?: Partial<Config>;
};

export async function startE2e(opts: E2eOptions = {}): Promise<E2eEnv> {
  const dataDir = await makeTempDir("perdure-e2e-");
  let perdure: RunningPerdure | undefined;
  let services: ServicesServer | undefined;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      try {
        await perdure?.stop();
      } finally {
        await services?.close();
        await removeTempDir(dataDir);
      }
    })());
  try {
    services = await startServices(0, { quiet: true, ...opts.services });
    perdure = await startPerdure({
      config: { ...DEFAULTS, ingressPort: 0, adminPort: 0, bindAddress: "127.0.0.1", dataDir, logLevel: "warn", ...opts.config },
      logger: createLogger("warn", (line) => {
        // perdure logs every failed attempt at warn; keep test output readable unless asked for.
        if (process.env.PERDURE_TEST_ECHO_LOGS === "1") process.stderr.write(line);
      }),
      ...(opts.inMemory ? { inMemory: true } : {}),
    });
    const admin = `http://127.0.0.1:${perdure.adminPort}`;
    const ingress = `http://127.0.0.1:${perdure.ingressPort}`;
    let deploymentId: string | undefined;
    if (opts.register ?? true) {
      const http1 = opts.services?.transport === "http1";
      const reg = await registerDeployment<{ id: string }>(admin, services.url, http1 ? { use_http_11: true } : {});
      assert.equal(reg.status, 201, JSON.stringify(reg.body));
      deploymentId = reg.body.id;
    }
    return { ingress, admin, perdure, services, deploymentId, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The parsed `/send` acknowledgement. */
export type SendAck = { invocationId: string; status: "Accepted" | "PreviouslyAccepted"; executionTime?: string };

/** Asserts an ingress error: status, JSON body `{code, message, source}`, `x-restate-error-source`. */
export function assertIngressError(res: HttpResult, status: number, message: string | RegExp, source: "ingress" | "invocation" = "ingress"): void {
  const ctx = `${res.status} ${res.text}`;
  assert.equal(res.status, status, ctx);
  assert.equal(res.headers.get("content-type"), "application/json", ctx);
  assert.equal(res.headers.get("x-restate-error-source"), source, ctx);
  const body = res.json as { code: number; message: string; source: string };
  assert.equal(body.source, source, ctx);
  assert.equal(body.code, status, ctx);
  if (typeof message === "string") assert.equal(body.message, message, ctx);
  else assert.match(body.message, message, ctx);
  if (source === "ingress") assert.equal(res.headers.get("x-restate-id"), null, `ingress errors carry no x-restate-id: ${ctx}`);
  else assert.match(res.headers.get("x-restate-id") ?? "", /^inv_1/, `invocation errors carry x-restate-id: ${ctx}`);
}

/** POST with a JSON body (or no body when `json` is undefined). */
export function post(url: string, json?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return http(url, { method: "POST", ...(json !== undefined ? { json } : {}), headers });
}

/** A key unique within this process, for object keys, workflow ids and idempotency keys. */
let counter = 0;
export function uniqueKey(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}-${Date.now().toString(36)}`;
}
