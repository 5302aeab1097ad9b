// `POST /query` of the admin API, as the reference answers it: body `{"query": "<SQL>"}`; with
// `accept: application/json` a JSON reply, otherwise an Arrow IPC stream; other methods 405 with `allow: POST`.
// Request-extraction errors are plain text (415 without a JSON content type, 400 for bad JSON, 422 without a
// `query` string), as the rest of the admin API.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { QueryEngine } from "./engine.ts";
import type { QueryFormat } from "./reply.ts";

const MAX_BODY = 1024 * 1024;

function plain(res: ServerResponse, status: number, message: string): void {
  const body = Buffer.from(message);
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": body.length });
  res.end(body);
}

/** JSON when the client accepts `application/json` (the `restate` CLI sends exactly that), else Arrow. */
export function replyFormat(accept: string | undefined): QueryFormat {
  if (!accept) return "arrow";
  const ranges = accept.split(",").map((r) => r.split(";")[0]!.trim().toLowerCase());
  return ranges.includes("application/json") ? "json" : "arrow";
}

/** Handles a request to `/query` (any method) completely. */
export async function serveQuery(engine: QueryEngine, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "POST") {
    req.resume();
    res.writeHead(405, { allow: "POST", "content-length": 0 });
    res.end();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return plain(res, 413, "request body too large");
    chunks.push(chunk as Buffer);
  }
  const contentType = String(req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (!contentType.endsWith("json")) return plain(res, 415, "Expected request with `Content-Type: application/json`");
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    return plain(res, 400, `Failed to parse the request body as JSON: ${(err as Error).message}`);
  }
  const query = typeof doc === "object" && doc !== null && !Array.isArray(doc) ? (doc as { query?: unknown }).query : undefined;
  if (typeof query !== "string") {
    const what = query === undefined ? "missing field `query`" : "`query`: invalid type, expected a string";
    return plain(res, 422, `Failed to deserialize the JSON body into the target type: ${what}`);
  }
  const reply = await engine.query(query, replyFormat(req.headers.accept));
  res.writeHead(reply.status, { "content-type": reply.contentType, "content-length": reply.body.length });
  res.end(reply.body);
}
