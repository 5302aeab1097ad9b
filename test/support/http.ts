// A fetch wrapper for ingress/admin calls in tests: sends JSON (or raw) bodies and returns status,
// headers and the body both as text and, when it parses, as JSON.
export type HttpResult = {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body; undefined when the body is empty or not JSON. */
  json: unknown;
};

export type HttpOptions = {
  method?: string;
  /** Serialised with JSON.stringify and sent with content-type application/json. */
  json?: unknown;
  /** Raw body (no content-type added). */
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  signal?: AbortSignal;
};

export async function http(url: string, opts: HttpOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | Uint8Array | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(url, {
    method: opts.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}
