// The admin API (:9070): deployments, services, invocations, health and version.
// Answers under the versioned prefixes the CLI uses (`/v1/…` to `/v4/…`) as well as unversioned.
//
// Invariants:
// - A rejected request (bad JSON, bad field, unknown id) changes nothing.
// - Errors: application errors are JSON `{"message","restate_code"}`; request-extraction errors are plain
//   text (400/415/422); unknown paths are 404 with an empty body, as the reference does.

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { http } from "../core/node-http.ts";
import type { Registry } from "../deployments/registry.ts";
import { RegistrationConflict } from "../deployments/registry.ts";
import { DiscoveryError } from "../deployments/discovery.ts";
import type { PartitionProcessor } from "../partition/processor.ts";
import type { AdminOutcome } from "../partition/commands.ts";
import type { ServiceRecord } from "../storage/api/records.ts";
import type { RetryPolicy } from "../core/types.ts";
import { InvalidIdError, parseDeploymentId, parseInvocationId } from "../core/ids.ts";
import { DurationParseError, parseDuration } from "../core/durations.ts";
import { adminOpenApi, serviceOpenApi } from "./openapi.ts";
import { serveQuery, type QueryEngine } from "../query/index.ts";
import { deploymentDetailJson, deploymentListJson, handlerJson, serviceJson } from "./shapes.ts";
import { listen } from "../ingress/server.ts";
import { refuseConnect } from "../ingress/http-io.ts";

export interface AdminDeps {
  readonly registry: Registry;
  readonly processor: PartitionProcessor;
  readonly version: string;
  readonly ingressUrl: () => string;
  readonly maxProtocolVersion: number;
  readonly query: QueryEngine;
  readonly log: (level: "info" | "warn" | "error", message: string) => void;
}

class HttpError extends Error {
  readonly status: number;
  readonly plain: boolean;
  readonly restateCode: string | null;
  constructor(status: number, message: string, options: { plain?: boolean; restateCode?: string | null } = {}) {
    super(message);
    this.status = status;
    this.plain = options.plain ?? false;
    this.restateCode = options.restateCode ?? null;
  }
}

const MAX_ADMIN_BODY = 10 * 1024 * 1024;

export class AdminServer {
  readonly server: Server;
  private readonly deps: AdminDeps;

  constructor(deps: AdminDeps) {
    this.deps = deps;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (err instanceof HttpError) return writeError(res, err);
        deps.log("error", `admin request ${req.method} ${req.url} failed: ${(err as Error).stack ?? String(err)}`);
        writeError(res, new HttpError(500, `internal error: ${(err as Error).message}`));
      });
    });
    refuseConnect(this.server);
  }

  listen(port: number, host?: string): Promise<void> {
    return listen(this.server, port, host);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (/\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) gzipAccepted.add(res);
    // The request target is parsed by hand: `new URL` would read `//host/...` as a host name.
    const target = req.url ?? "/";
    const queryAt = target.indexOf("?");
    const url = { searchParams: new URLSearchParams(queryAt >= 0 ? target.slice(queryAt + 1) : "") };
    const path = (queryAt >= 0 ? target.slice(0, queryAt) : target).replace(/^\/v[1-9]\d*(?=\/)/, "").replace(/\/+$/, "") || "/";
    let parts: string[];
    try {
      parts = path.split("/").slice(1).map(decodeURIComponent);
    } catch {
      throw new HttpError(400, `Invalid URL: the path '${path}' has a malformed percent-escape`, { plain: true });
    }
    const method = req.method ?? "GET";
    const { registry } = this.deps;

    if (path === "/query") return serveQuery(this.deps.query, req, res);
    if (path === "/health" && method === "GET") return empty(res, 200);
    if (path === "/version" && method === "GET") {
      return json(res, 200, {
        version: this.deps.version,
        min_admin_api_version: 2,
        max_admin_api_version: 4,
        ingress_endpoint: this.deps.ingressUrl(),
        features: {
          preflight_invocation_termination_retention: false,
          vqueues_async_refill: false,
          invoker_yield: false,
          vqueue_obsolete_cleanup: false,
          scoped_promise_table_migration: false,
          unique_random_seeds: false,
          vqueues: false,
          vqueues_migration_skip_completed: false,
          kafka_scope: false,
          scoped_state_table_migration: false,
          scoped_virtual_objects: false,
          protocol_v7: this.deps.maxProtocolVersion >= 7,
        },
      });
    }
    if (path === "/openapi" && method === "GET") return json(res, 200, adminOpenApi(this.deps.version));
    if (path === "/cluster-health" && method === "GET") {
      return json(res, 200, { cluster_name: "localcluster", metadata_cluster_health: { members: [1] } });
    }
    if (parts[0] === "deployments") {
      if (parts.length === 1 && method === "GET") return json(res, 200, { deployments: registry.listDeployments().map((d) => deploymentListJson(registry, d)) });
      if (parts.length === 1 && method === "POST") return this.register(req, res);
      if (parts.length === 2) {
        const id = parts[1]!;
        try {
          parseDeploymentId(id);
        } catch (err) {
          if (err instanceof InvalidIdError) throw new HttpError(400, `Invalid URL: Cannot parse \`deployment\` with value \`${id}\`: ${err.message}`, { plain: true });
          throw err;
        }
        const d = registry.deployment(id);
        if (method === "GET") {
          if (!d) throw new HttpError(404, `The requested deployment '${id}' does not exist`);
          return json(res, 200, deploymentDetailJson(registry, d));
        }
        if (method === "DELETE") {
          if (url.searchParams.get("force") !== "true") return empty(res, 501);
          if (!(await registry.removeDeployment(id))) throw new HttpError(404, `not found in the schema registry: deployment with id '${id}'`);
          this.deps.log("info", `deployment ${id} removed`);
          return empty(res, 202);
        }
      }
    }
    if (parts[0] === "services") {
      if (parts.length === 1 && method === "GET") return json(res, 200, { services: registry.listServices().map((s) => serviceJson(registry, s)) });
      const name = parts[1];
      if (name !== undefined) {
        const svc = registry.service(name);
        if (parts.length === 2 && method === "GET") return json(res, 200, serviceJson(registry, this.requireService(svc, name)));
        if (parts.length === 2 && method === "PATCH") return this.patchService(req, res, name);
        if (parts.length === 3 && parts[2] === "state" && method === "POST") return this.replaceState(req, res, name);
        if (parts.length === 3 && parts[2] === "openapi" && method === "GET") return json(res, 200, serviceOpenApi(this.requireService(svc, name), this.deps.ingressUrl()));
        if (parts.length === 3 && parts[2] === "handlers" && method === "GET") {
          const s = this.requireService(svc, name);
          return json(res, 200, { handlers: s.definition.handlers.map((h) => handlerJson(registry, s, h)) });
        }
        if (parts.length === 4 && parts[2] === "handlers" && method === "GET") {
          const s = this.requireService(svc, name);
          const h = s.definition.handlers.find((x) => x.name === parts[3]);
          if (!h) throw new HttpError(404, `The requested handler '${parts[3]}' on service '${name}' does not exist`);
          return json(res, 200, handlerJson(registry, s, h));
        }
      }
    }
    if (parts[0] === "invocations" && parts.length >= 2) {
      const id = parts[1]!;
      let op: "cancel" | "kill" | "purge" | "pause" | "resume" | "restart-as-new" | undefined;
      if (parts.length === 3 && method === "PATCH") {
        const action = parts[2];
        if (action === "cancel" || action === "kill" || action === "purge" || action === "pause" || action === "resume" || action === "restart-as-new") op = action;
      } else if (parts.length === 2 && method === "DELETE") {
        const mode = (url.searchParams.get("mode") ?? "cancel").toLowerCase();
        if (mode === "cancel" || mode === "kill" || mode === "purge") op = mode;
        else throw new HttpError(400, `unknown mode '${mode}'`, { plain: true });
      }
      if (op) {
        try {
          parseInvocationId(id);
        } catch (err) {
          if (err instanceof InvalidIdError) throw new HttpError(400, `The request field 'invocation_id' is invalid. Reason: ${err.message}`);
          throw err;
        }
        const outcome = await this.deps.processor.submit<AdminOutcome>({ kind: op, invocationId: id });
        if (outcome.kind === "not-found") throw new HttpError(404, `The requested invocation '${id}' does not exist`);
        if (outcome.kind === "conflict") throw new HttpError(409, outcome.message);
        if (outcome.newInvocationId !== undefined) return json(res, 200, { new_invocation_id: outcome.newInvocationId });
        return empty(res, method === "DELETE" ? 202 : outcome.status);
      }
    }
    return empty(res, 404);
  }

  private requireService(svc: ServiceRecord | undefined, name: string): ServiceRecord {
    if (!svc) throw new HttpError(404, `The requested service '${name}' does not exist`);
    return svc;
  }

  private async register(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const uriText = body.uri ?? body.url;
    let uri: URL | undefined;
    try {
      uri = typeof body.uri === "string" ? new URL(body.uri) : undefined;
    } catch {
      uri = undefined;
    }
    if (!uri || (uri.protocol !== "http:" && uri.protocol !== "https:") || typeof uriText !== "string") {
      throw new HttpError(422, "Failed to deserialize the JSON body into the target type: expected an object with 'uri' set to an http:// or https:// URL", { plain: true });
    }
    const headers = body.additional_headers ?? {};
    if (typeof headers !== "object" || headers === null || Object.values(headers).some((v) => typeof v !== "string")) {
      throw new HttpError(422, "Failed to deserialize the JSON body into the target type: 'additional_headers' must map names to strings", { plain: true });
    }
    const { registry } = this.deps;
    try {
      const result = await registry.register({
        uri,
        additionalHeaders: headers as Record<string, string>,
        useHttp11: body.use_http_11 === true,
        force: body.force === true,
        dryRun: body.dry_run === true,
      });
      const d = result.deployment;
      if (result.created && body.dry_run !== true) {
        this.deps.log("info", `deployment ${d.id} registered at ${d.uri}: ${result.services.map((s) => `${s.name} (rev ${s.revision})`).join(", ")}`);
      }
      const doc: Record<string, unknown> = {
        id: d.id,
        services: result.services.map((s) => serviceJson(registry, s)),
        min_protocol_version: d.minProtocolVersion,
        max_protocol_version: d.maxProtocolVersion,
      };
      if (d.sdkVersion) doc.sdk_version = d.sdkVersion;
      return json(res, result.created ? 201 : 200, doc, { location: `deployments/${d.id}` });
    } catch (err) {
      if (err instanceof DiscoveryError) {
        this.deps.log("warn", `registration of ${uri.href} failed: ${err.message}`);
        throw new HttpError(500, `[META0003] ${err.message}`, { restateCode: "META0003" });
      }
      if (err instanceof RegistrationConflict) throw new HttpError(409, err.message, { restateCode: "META0006" });
      throw err;
    }
  }

  /** `POST /services/{name}/state`: `{object_key, version?, new_state: {key: [bytes]}}` replaces a key's state. */
  private async replaceState(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const body = await readJson(req);
    const svc = this.deps.registry.service(name);
    if (!svc) throw new HttpError(404, `The requested service '${name}' does not exist`);
    if (svc.definition.ty === "service") throw new HttpError(400, `service '${name}' has no state: only virtual objects and workflows have state`);
    const bad = (why: string) => new HttpError(422, `Failed to deserialize the JSON body into the target type: ${why}`, { plain: true });
    if (typeof body.object_key !== "string") throw bad("missing field `object_key`");
    if (body.version !== undefined && body.version !== null && typeof body.version !== "string") throw bad("version: expected a string");
    const newState = body.new_state;
    if (typeof newState !== "object" || newState === null || Array.isArray(newState)) throw bad("missing field `new_state`");
    const entries: Array<readonly [Buffer, Buffer]> = [];
    for (const [k, v] of Object.entries(newState)) {
      if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw bad(`new_state.${k}: expected an array of bytes`);
      entries.push([Buffer.from(k, "utf8"), Buffer.from(v as number[])]);
    }
    const outcome = await this.deps.processor.submit<AdminOutcome>({
      kind: "replace-state",
      service: name,
      key: body.object_key,
      expectedVersion: typeof body.version === "string" ? body.version : undefined,
      state: entries,
    });
    if (outcome.kind === "conflict") throw new HttpError(409, outcome.message);
    return empty(res, 202);
  }

  private async patchService(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const body = await readJson(req);
    const { registry } = this.deps;
    const svc = registry.service(name);
    if (!svc) throw new HttpError(404, `not found in the schema registry: service with name '${name}'`);
    const overrides: { -readonly [K in keyof ServiceRecord["overrides"]]: ServiceRecord["overrides"][K] } = { ...svc.overrides };
    const durations: Array<[string, "idempotencyRetentionMs" | "journalRetentionMs" | "workflowCompletionRetentionMs" | "inactivityTimeoutMs" | "abortTimeoutMs"]> = [
      ["idempotency_retention", "idempotencyRetentionMs"],
      ["journal_retention", "journalRetentionMs"],
      ["workflow_completion_retention", "workflowCompletionRetentionMs"],
      ["inactivity_timeout", "inactivityTimeoutMs"],
      ["abort_timeout", "abortTimeoutMs"],
    ];
    for (const [field, prop] of durations) {
      const v = body[field];
      if (v === undefined || v === null) continue;
      if (typeof v !== "string") throw new HttpError(422, `Failed to deserialize the JSON body into the target type: ${field}: invalid type: expected a human-friendly duration string`, { plain: true });
      try {
        overrides[prop] = parseDuration(v);
      } catch (err) {
        if (err instanceof DurationParseError) throw new HttpError(422, `Failed to deserialize the JSON body into the target type: ${field}: ${err.message}`, { plain: true });
        throw err;
      }
    }
    if (body.workflow_completion_retention !== undefined && body.workflow_completion_retention !== null && svc.definition.ty !== "workflow") {
      throw new HttpError(400, `modifying retention time for service type ${svc.definition.ty === "service" ? "Service" : "VirtualObject"} is unsupported`);
    }
    if (body.retry_policy !== undefined && body.retry_policy !== null) overrides.retryPolicy = parseRetryPolicy(body.retry_policy);
    if (body.public !== undefined && body.public !== null) {
      if (typeof body.public !== "boolean") throw new HttpError(422, "Failed to deserialize the JSON body into the target type: public: expected a boolean", { plain: true });
      overrides.public = body.public;
    }
    const updated = await registry.updateService(name, overrides);
    this.deps.log("info", `service ${name} settings changed: ${JSON.stringify(body)}`);
    return json(res, 200, serviceJson(registry, updated!));
  }
}

/** `retry_policy` of PATCH /services: humantime intervals, a factor, max attempts, and Pause or Kill. */
function parseRetryPolicy(v: unknown): Partial<RetryPolicy> {
  const bad = (why: string) => new HttpError(422, `Failed to deserialize the JSON body into the target type: retry_policy: ${why}`, { plain: true });
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad("expected an object");
  const o = v as Record<string, unknown>;
  const out: { -readonly [K in keyof RetryPolicy]?: RetryPolicy[K] } = {};
  const duration = (field: string): number | undefined => {
    const d = o[field];
    if (d === undefined || d === null) return undefined;
    if (typeof d !== "string") throw bad(`${field}: expected a human-friendly duration string`);
    try {
      return parseDuration(d);
    } catch (err) {
      throw bad(`${field}: ${(err as Error).message}`);
    }
  };
  const initial = duration("initial_interval");
  if (initial !== undefined) out.initialIntervalMs = initial;
  const max = duration("max_interval");
  if (max !== undefined) out.maxIntervalMs = max;
  if (o.exponentiation_factor !== undefined && o.exponentiation_factor !== null) {
    if (typeof o.exponentiation_factor !== "number" || !(o.exponentiation_factor >= 1)) throw bad("exponentiation_factor: expected a number >= 1");
    out.exponentiationFactor = o.exponentiation_factor;
  }
  if (o.max_attempts !== undefined) {
    if (o.max_attempts !== null && (typeof o.max_attempts !== "number" || !Number.isInteger(o.max_attempts) || o.max_attempts < 1)) {
      throw bad("max_attempts: expected a positive integer or null");
    }
    out.maxAttempts = o.max_attempts as number | null;
  }
  if (o.on_max_attempts !== undefined && o.on_max_attempts !== null) {
    const m = String(o.on_max_attempts).toLowerCase();
    if (m !== "pause" && m !== "kill") throw bad("on_max_attempts: expected Pause or Kill");
    out.onMaxAttempts = m;
  }
  return out;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const ct = String(req.headers["content-type"] ?? "");
  if (Number(req.headers["content-length"]) > MAX_ADMIN_BODY) {
    req.resume();
    throw new HttpError(413, "request body too large", { plain: true });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_ADMIN_BODY) throw new HttpError(413, "request body too large", { plain: true });
    chunks.push(c as Buffer);
  }
  if (!ct.split(";")[0]!.trim().toLowerCase().endsWith("json")) {
    throw new HttpError(415, "Expected request with `Content-Type: application/json`", { plain: true });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    throw new HttpError(400, `Failed to parse the request body as JSON: ${(err as Error).message}`, { plain: true });
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new HttpError(422, "Failed to deserialize the JSON body into the target type: expected an object", { plain: true });
  }
  return doc as Record<string, unknown>;
}

const gzipAccepted = new WeakSet<ServerResponse>();

/** Writes JSON, gzip-compressed when the client accepts it (as the reference's admin API does). */
function json(res: ServerResponse, status: number, doc: unknown, headers: Record<string, string> = {}): void {
  let body = Buffer.from(JSON.stringify(doc));
  const out: Record<string, string | number> = { "content-type": "application/json", vary: "accept-encoding", ...headers };
  if (gzipAccepted.has(res)) {
    body = process.getBuiltinModule("node:zlib").gzipSync(body); // loaded on first use, not at start-up
    out["content-encoding"] = "gzip";
  }
  out["content-length"] = body.length;
  res.writeHead(status, out);
  res.end(body);
}

function empty(res: ServerResponse, status: number): void {
  res.writeHead(status, { "content-length": 0 });
  res.end();
}

function writeError(res: ServerResponse, err: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err.plain) {
    const body = Buffer.from(err.message);
    res.writeHead(err.status, { "content-type": "text/plain; charset=utf-8", "content-length": body.length });
    res.end(body);
    return;
  }
  json(res, err.status, { message: err.message, restate_code: err.restateCode });
}
