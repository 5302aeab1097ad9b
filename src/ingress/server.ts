// The HTTP ingress (:8080): turns requests into partition commands and invocation results into responses.
//
// Invariants:
// - A request is validated completely (path, target, method, query, headers, body) before anything is
//   submitted; a rejected request changes nothing.
// - A call is answered only from a committed result; a send is acknowledged (202) only after the invocation is
//   committed.

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { http } from "../core/node-http.ts";
import type { Registry } from "../deployments/registry.ts";
import type { PartitionProcessor } from "../partition/processor.ts";
import type { ResultWaiters } from "../partition/result-waiters.ts";
import type { GetResultOutcome, InvocationQuery, InvocationResponse, InvokeOutcome, ResultWaiter, AdminOutcome } from "../partition/commands.ts";
import type { Clock } from "../core/environment.ts";
import { InvalidIdError, encodeInvocationId, parseAwakeableId, parseInvocationId } from "../core/ids.ts";
import { DurationParseError, formatRfc3339Nanos, formatRfc3339Offset, parseDuration } from "../core/durations.ts";
import { BodyTooLarge, corsHeaders, readBody, refuseConnect, sendError, sendJson, sendTooLarge } from "./http-io.ts";
import { BAD_HANDLER_PATH, BAD_RESTATE_CALL_PATH, decodeSegment, parseIngressPath } from "./paths.ts";
import { contentTypeMatches } from "./content-type.ts";
import { ErrorCode, PerdureError } from "../core/errors.ts";

export interface IngressDeps {
  readonly registry: Registry;
  readonly processor: PartitionProcessor;
  readonly waiters: ResultWaiters;
  readonly clock: Clock;
  readonly requestSizeLimit: number;
  /** New invocations are refused with 503 while more commands than this wait in the partition. */
  readonly maxBacklog: number;
  /** Started invocations waiting for an attempt slot, and the count beyond which new invocations get 503. */
  readonly waitingAttempts: () => number;
  readonly maxWaitingAttempts: number;
}

const STRIPPED_HEADERS = new Set([
  "connection",
  "host",
  "idempotency-key",
  "idempotency-expires",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
]);

export class IngressServer {
  readonly server: Server;
  private readonly deps: IngressDeps;

  constructor(deps: IngressDeps) {
    this.deps = deps;
    this.server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (err instanceof PerdureError && err.code === ErrorCode.Storage) {
          sendError(req, res, 503, err.message, "ingress", { headers: { "retry-after": "1" } });
          return;
        }
        sendError(req, res, 500, `internal error: ${(err as Error).message}`);
      });
    });
    refuseConnect(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    if (method === "OPTIONS") {
      res.writeHead(200, {
        ...corsHeaders(req),
        "access-control-allow-methods": String(req.headers["access-control-request-method"] ?? "GET, POST"),
        ...(req.headers["access-control-request-headers"] ? { "access-control-allow-headers": String(req.headers["access-control-request-headers"]) } : {}),
        "content-length": 0,
      });
      res.end();
      return;
    }
    const route = parseIngressPath(url);
    const query = new URLSearchParams(url.includes("?") ? url.slice(url.indexOf("?") + 1) : "");
    switch (route.kind) {
      case "bad-path":
        return sendError(req, res, 400, route.message);
      case "not-found":
        return sendError(req, res, 404, "not found");
      case "bad-invocation-path":
        if (!this.deps.registry.service(route.service)) {
          return sendError(req, res, 404, `service '${route.service}' not found, make sure to register the service before calling it.`);
        }
        return sendError(req, res, 400, route.message);
      case "scope":
        return sendError(req, res, 400, "scoped invocations are not supported");
      case "health":
        return sendJson(req, res, 200, { services: this.deps.registry.listServices().map((s) => s.name) });
      case "handler":
      case "restate-call":
        if (method !== "POST" && method !== "GET") return sendError(req, res, 405, "method not allowed", "ingress", method === "HEAD" ? { headers: { connection: "close" } } : {});
        return this.invoke(req, res, route.kind === "restate-call" ? route.segments : route.segments, route.kind === "restate-call" ? route.send : undefined, query);
      case "awakeable":
        if (method !== "POST") return sendError(req, res, 405, "method not allowed");
        return this.completeAwakeable(req, res, route.id, route.action);
      case "invocation-by-id": {
        if (method !== "GET" && method !== "POST") return sendError(req, res, 405, "method not allowed");
        if (method === "POST" && !url.startsWith("/restate/attach") && !url.startsWith("/restate/output")) return sendError(req, res, 405, "method not allowed");
        try {
          parseInvocationId(route.id);
        } catch (err) {
          if (err instanceof InvalidIdError) return sendError(req, res, 400, `bad invocation id '${route.id}': ${err.message}`);
          throw err;
        }
        return this.getResult(req, res, { kind: "id", invocationId: route.id }, route.action);
      }
      case "invocation-by-key": {
        if (method !== "GET") return sendError(req, res, 405, "method not allowed");
        const svc = this.deps.registry.service(route.service);
        if (!svc) return sendError(req, res, 404, `service '${route.service}' not found, make sure to register the service before calling it.`);
        const keyed = svc.definition.ty !== "service";
        if (keyed && route.key === undefined) return sendError(req, res, 400, BAD_HANDLER_PATH);
        if (!keyed && route.key !== undefined) return sendError(req, res, 404, "not found");
        return this.getResult(req, res, { kind: "idempotency", service: route.service, key: route.key, handler: route.handler, idempotencyKey: route.idempotencyKey }, route.action);
      }
      case "workflow":
        if (method !== "GET") return sendError(req, res, 405, "method not allowed");
        return this.getResult(req, res, { kind: "workflow", service: route.service, key: route.key }, route.action);
    }
  }

  private async invoke(req: IncomingMessage, res: ServerResponse, segments: readonly string[], explicitSend: boolean | undefined, query: URLSearchParams): Promise<void> {
    const { registry } = this.deps;
    const serviceName = segments[0]!;
    const svc = registry.service(serviceName);
    if (!svc) return sendError(req, res, 404, `service '${serviceName}' not found, make sure to register the service before calling it.`);
    const keyed = svc.definition.ty !== "service";
    let rest = segments.slice(1);
    let send = explicitSend ?? false;
    if (explicitSend === undefined && rest[rest.length - 1] === "send" && rest.length === (keyed ? 3 : 2)) {
      send = true;
      rest = rest.slice(0, -1);
    }
    if (rest.length !== (keyed ? 2 : 1)) return sendError(req, res, 400, explicitSend === undefined ? BAD_HANDLER_PATH : BAD_RESTATE_CALL_PATH);
    const key = keyed ? decodeSegment(rest[0]!) : undefined;
    const handlerName = rest[rest.length - 1]!;
    const handler = registry.handler(serviceName, handlerName);
    if (!handler) {
      return sendError(req, res, 404, `the service '${serviceName}' exists, but the handler '${handlerName}' was not found, check that the handler exists in the latest registered service version.`);
    }
    const settings = registry.settings(svc, handler);
    if (!settings.public) return sendError(req, res, 400, "the invoked service is not public");
    let executionTime: number | undefined;
    const delay = query.get("delay");
    if (delay !== null) {
      if (!send) return sendError(req, res, 400, "cannot use the delay query parameter with calls. The delay is supported only with sends");
      try {
        executionTime = this.deps.clock.now() + parseDuration(delay);
      } catch (err) {
        if (err instanceof DurationParseError) return sendError(req, res, 400, `bad delay query parameter, must be a ISO8601 duration: ${err.message}`);
        throw err;
      }
    }
    const idemHeader = req.headers["idempotency-key"];
    const idempotencyKey = Array.isArray(idemHeader) ? idemHeader[0] : idemHeader;
    if (idempotencyKey !== undefined && handler.ty === "workflow") {
      return sendError(req, res, 400, "cannot use the idempotency key with workflow handlers. The handler invocation will already be idempotent by the workflow key itself.");
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.deps.requestSizeLimit);
    } catch (err) {
      if (err instanceof BodyTooLarge) return sendTooLarge(req, res);
      throw err;
    }
    const contentType = req.headers["content-type"];
    if (body.length > 0) {
      if (!contentType) return sendError(req, res, 400, "input validation error: Empty content-type");
      if (handler.input.contentType !== undefined && !contentTypeMatches(handler.input.contentType, contentType)) {
        return sendError(req, res, 400, `input validation error: Content-type '${contentType}' does not match '${handler.input.contentType}'`);
      }
    } else if (handler.input.required) {
      return sendError(req, res, 400, "input validation error: a body is required");
    }
    const headers: Array<readonly [string, string]> = [["x-restate-ingress-path", req.url ?? "/"]];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!.toLowerCase();
      if (!STRIPPED_HEADERS.has(name)) headers.push([name, req.rawHeaders[i + 1]!]);
    }
    if (this.deps.processor.backlog > this.deps.maxBacklog || this.deps.waitingAttempts() > this.deps.maxWaitingAttempts) {
      return sendError(req, res, 503, "perdure is overloaded: too many requests are waiting to be processed, retry later", "ingress", { headers: { "retry-after": "1" } });
    }
    const request = {
      target: { service: svc.name, handler: handler.name, key },
      input: body,
      headers,
      idempotencyKey,
      executionTime,
      source: { kind: "ingress" } as const,
      mode: send ? ("send" as const) : ("call" as const),
    };
    if (send) {
      const outcome = await this.deps.processor.submit<InvokeOutcome>({ kind: "invoke", request });
      return this.writeInvokeOutcome(req, res, outcome);
    }
    const waiter = this.waiterFor(req, res);
    const outcome = await this.deps.processor.submit<InvokeOutcome>({ kind: "invoke", request, waiter });
    if (outcome.kind === "accepted") {
      waiter.bind(outcome.invocationId);
      return;
    }
    return this.writeInvokeOutcome(req, res, outcome);
  }

  private writeInvokeOutcome(req: IncomingMessage, res: ServerResponse, outcome: InvokeOutcome): void {
    switch (outcome.kind) {
      case "rejected":
        return sendError(req, res, outcome.status, outcome.message, outcome.source, outcome.invocationId ? { invocationId: outcome.invocationId } : {});
      case "completed":
        return writeResponse(req, res, outcome.response);
      case "accepted": {
        const doc: Record<string, string> = { invocationId: outcome.invocationId };
        if (outcome.executionTime !== undefined) doc.executionTime = formatRfc3339Nanos(outcome.executionTime);
        doc.status = outcome.previously ? "PreviouslyAccepted" : "Accepted";
        return sendJson(req, res, 202, doc, { "x-restate-id": outcome.invocationId });
      }
    }
  }

  private async getResult(req: IncomingMessage, res: ServerResponse, query: InvocationQuery, action: "attach" | "output"): Promise<void> {
    req.resume();
    const waiter = action === "attach" ? this.waiterFor(req, res) : undefined;
    const outcome = await this.deps.processor.submit<GetResultOutcome>({ kind: "get-result", query, ...(waiter ? { waiter } : {}) });
    switch (outcome.kind) {
      case "completed":
        return writeResponse(req, res, outcome.response);
      case "waiting":
        waiter!.bind(outcome.invocationId);
        return;
      case "not-ready":
        return sendError(req, res, 470, "the invocation exists but has not completed yet");
      case "not-found":
        if (action === "attach") return sendError(req, res, 404, "not found", "invocation", outcome.invocationId ? { invocationId: outcome.invocationId } : {});
        return sendError(req, res, 404, "invocation not found");
    }
  }

  private async completeAwakeable(req: IncomingMessage, res: ServerResponse, id: string, action: "resolve" | "reject"): Promise<void> {
    let parsed;
    try {
      parsed = parseAwakeableId(id);
    } catch (err) {
      if (err instanceof InvalidIdError) return sendError(req, res, 400, `bad awakeable id '${id}': ${err.message}`);
      throw err;
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.deps.requestSizeLimit);
    } catch (err) {
      if (err instanceof BodyTooLarge) return sendTooLarge(req, res);
      throw err;
    }
    // Like the reference, completing an awakeable of an unknown (or completed) invocation is accepted and
    // ignored; legacy `prom_1` ids name journal entries of an older protocol and are ignored the same way.
    if (!parsed.legacy) {
      await this.deps.processor.submit<AdminOutcome>({
        kind: "signal",
        invocationId: encodeInvocationId(parsed.invocationId),
        signal: { signalIndex: parsed.signalIndex },
        result: action === "resolve" ? { kind: "value", value: body } : { kind: "failure", code: 500, message: body.toString("utf8") },
      });
    }
    res.writeHead(202, { ...corsHeaders(req), "content-length": 0 });
    res.end();
  }

  /** A waiter that writes the response when the invocation completes, unless the client left. */
  private waiterFor(req: IncomingMessage, res: ServerResponse): ResultWaiter & { bind(id: string): void } {
    const waiters = this.deps.waiters;
    let boundId: string | undefined;
    const waiter = {
      resolve: (response: InvocationResponse) => {
        res.off("close", onClose);
        if (!res.writableEnded && !res.destroyed) writeResponse(req, res, response);
      },
      bind: (id: string) => {
        boundId = id;
      },
    };
    const onClose = () => {
      if (boundId !== undefined && !res.writableEnded) waiters.remove(boundId, waiter);
    };
    res.on("close", onClose);
    return waiter;
  }

  listen(port: number, host?: string): Promise<void> {
    return listen(this.server, port, host);
  }
}

export function writeResponse(req: IncomingMessage, res: ServerResponse, response: InvocationResponse): void {
  const extra: Record<string, string> = { "x-restate-id": response.invocationId };
  if (response.expiresAt !== undefined) extra["idempotency-expires"] = formatRfc3339Offset(response.expiresAt);
  const result = response.result;
  if (result.kind === "failure") {
    const code = result.failure.code;
    const status = code >= 100 && code <= 999 ? code : 500;
    return sendError(req, res, status, result.failure.message, "invocation", {
      code,
      invocationId: response.invocationId,
      headers: extra,
      ...(result.failure.metadata && result.failure.metadata.length > 0 ? { metadata: Object.fromEntries(result.failure.metadata) } : {}),
      ...(result.failure.stacktrace ? { stacktrace: result.failure.stacktrace } : {}),
    });
  }
  const headers: Record<string, string | number> = { ...corsHeaders(req), ...extra, "content-length": result.value.length };
  if (response.contentType && (result.value.length > 0 || response.setContentTypeIfEmpty)) headers["content-type"] = response.contentType;
  res.writeHead(200, headers);
  res.end(result.value);
}

export function listen(server: Server, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
