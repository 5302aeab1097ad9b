// HTTP client towards deployment endpoints: HTTP/2 over perdure's own connections (`h2-connection.ts`; h2c with
// prior knowledge for http URLs, TLS with ALPN for https) by default, HTTP/1.1 when a deployment asks for it.
//
// Invariants:
// - One HTTP/2 connection per origin, reused by every request; a connection that errors, closes or receives
//   GOAWAY is dropped from the pool so the next request opens a fresh one.
// - Every stream reports exactly one of `end` or `error` to its listener.

import { http } from "../core/node-http.ts";
import type https from "node:https";
import type tls from "node:tls";
import type { RequestSigner } from "./request-identity.ts";
import { H2Connection } from "./h2-connection.ts";

export interface StreamListener {
  onResponse(status: number, headers: Record<string, string | string[] | undefined>): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
  onError(err: Error): void;
}

export interface EndpointStream {
  write(chunk: Buffer): void;
  end(): void;
  /** Abandons the stream (RST on HTTP/2, socket destroy on HTTP/1.1). No further listener calls. */
  abort(): void;
}

export interface OpenOptions {
  readonly method: "GET" | "POST";
  readonly headers: Record<string, string>;
  readonly http11: boolean;
  /** Path suffix the request is signed for when request identity is on (`/discover`, `/invoke/S/h`). */
  readonly audience?: string;
  /** Object key or workflow id, signed as the token's subject. */
  readonly subject?: string;
}

export interface SimpleResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

export class EndpointClient {
  private readonly signer: RequestSigner | undefined;
  private readonly connections = new Map<string, H2Connection>();
  private readonly agent = new http.Agent({ keepAlive: true });
  /** For https endpoints over HTTP/1.1; made (and node:https loaded) on first use, so start-up does not pay for TLS. */
  private tlsAgent: https.Agent | undefined;

  /** Extra TLS options for https endpoints over HTTP/2 (tests pass their own CA); none in production. */
  private readonly tlsOptions: tls.ConnectionOptions;

  constructor(signer?: RequestSigner, tlsOptions: tls.ConnectionOptions = {}) {
    this.signer = signer;
    this.tlsOptions = tlsOptions;
  }

  open(url: URL, options: OpenOptions, listener: StreamListener): EndpointStream {
    if (this.signer && options.audience !== undefined) {
      options = { ...options, headers: { ...options.headers, ...this.signer.headers(options.audience, options.subject) } };
    }
    return options.http11 ? this.openHttp11(url, options, listener) : this.openHttp2(url, options, listener);
  }

  /** One request with a buffered response, for discovery. */
  request(url: URL, options: OpenOptions & { readonly timeoutMs: number }): Promise<SimpleResponse> {
    return new Promise((resolve, reject) => {
      let status = 0;
      let headers: Record<string, string | string[] | undefined> = {};
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        fn();
      };
      const stream = this.open(url, options, {
        onResponse: (s, h) => {
          status = s;
          headers = h;
        },
        onData: (c) => chunks.push(c),
        onEnd: () => finish(() => resolve({ status, headers, body: Buffer.concat(chunks) })),
        onError: (err) => finish(() => reject(err)),
      });
      const timer = setTimeout(() => {
        stream.abort();
        finish(() => reject(new Error(`no response within ${options.timeoutMs} ms`)));
      }, options.timeoutMs);
      stream.end();
    });
  }

  private openHttp2(url: URL, options: OpenOptions, listener: StreamListener): EndpointStream {
    return this.connection(url).open(options.method, url.pathname + url.search, options.headers, listener);
  }

  private openHttp11(url: URL, options: OpenOptions, listener: StreamListener): EndpointStream {
    let finished = false;
    const fail = (err: Error) => {
      if (finished) return;
      finished = true;
      listener.onError(err);
    };
    const mod = url.protocol === "https:" ? process.getBuiltinModule("node:https") : http;
    const req = mod.request(url, {
      method: options.method,
      headers: options.method === "POST" ? { ...options.headers, "transfer-encoding": "chunked" } : options.headers,
      agent: url.protocol === "https:" ? (this.tlsAgent ??= new (process.getBuiltinModule("node:https").Agent)({ keepAlive: true })) : this.agent,
    });
    req.on("response", (res) => {
      listener.onResponse(res.statusCode ?? 0, res.headers);
      res.on("data", (chunk: Buffer) => {
        if (!finished) listener.onData(chunk);
      });
      res.on("end", () => {
        if (finished) return;
        finished = true;
        listener.onEnd();
      });
      res.on("error", fail);
      res.on("close", () => {
        if (!finished) fail(new Error("connection closed before the response ended"));
      });
    });
    req.on("error", fail);
    return {
      write: (chunk) => {
        if (!req.destroyed) req.write(chunk);
      },
      end: () => {
        if (!req.destroyed) req.end();
      },
      abort: () => {
        finished = true;
        req.destroy();
      },
    };
  }

  private connection(url: URL): H2Connection {
    const existing = this.connections.get(url.origin);
    if (existing?.usable) return existing;
    const c = new H2Connection(
      url,
      (closed) => {
        if (this.connections.get(url.origin) === closed) this.connections.delete(url.origin);
      },
      this.tlsOptions,
    );
    this.connections.set(url.origin, c);
    return c;
  }

  /** Drops the pooled connection to an origin (after a timeout, it may be dead without knowing it). */
  resetConnection(url: URL): void {
    const c = this.connections.get(url.origin);
    if (!c) return;
    this.connections.delete(url.origin);
    c.destroy(new Error("connection reset by perdure after a timeout"));
  }

  close(): void {
    for (const c of [...this.connections.values()]) c.destroy(new Error("perdure is shutting down"));
    this.connections.clear();
    this.agent.destroy();
    this.tlsAgent?.destroy();
  }
}
