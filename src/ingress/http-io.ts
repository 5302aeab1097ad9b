// Small HTTP helpers of the ingress: the JSON error shape, CORS headers, and bounded body reading.
// Invariant: every error the ingress writes is `{"code","message","source"}` with `x-restate-error-source`,
// except 413 which is plain text, as clients of the reference expect.

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

export type ErrorSource = "ingress" | "invocation";

export class BodyTooLarge extends Error {}

export function corsHeaders(req: IncomingMessage): Record<string, string> {
  const h: Record<string, string> = {
    vary: "origin, access-control-request-method, access-control-request-headers",
    "access-control-allow-credentials": "true",
  };
  const origin = req.headers.origin;
  if (origin) h["access-control-allow-origin"] = origin;
  return h;
}

export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
  source: ErrorSource = "ingress",
  extra: { invocationId?: string; metadata?: Record<string, string>; stacktrace?: string; code?: number; headers?: Record<string, string> } = {},
): void {
  const doc: Record<string, unknown> = { code: extra.code ?? status, message };
  if (extra.metadata) doc.metadata = extra.metadata;
  if (extra.stacktrace) doc.stacktrace = extra.stacktrace;
  doc.source = source;
  const body = Buffer.from(JSON.stringify(doc));
  const headers: Record<string, string | number> = {
    ...corsHeaders(req),
    "content-type": "application/json",
    "content-length": body.length,
    "x-restate-error-source": source,
    ...extra.headers,
  };
  if (extra.invocationId) headers["x-restate-id"] = extra.invocationId;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}

export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, doc: unknown, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(doc));
  res.writeHead(status, { ...corsHeaders(req), "content-type": "application/json", "content-length": body.length, ...headers });
  res.end(body);
}

/** Reads the whole body, failing with BodyTooLarge beyond `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function sendTooLarge(req: IncomingMessage, res: ServerResponse): void {
  const body = "length limit exceeded";
  res.writeHead(413, { ...corsHeaders(req), "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body), connection: "close" });
  res.end(body);
}

/** CONNECT requests never reach the request handler; answer them with 405 instead of dropping the socket. */
export function refuseConnect(server: Server): void {
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => {
    const body = JSON.stringify({ code: 405, message: "method not allowed", source: "ingress" });
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
}
