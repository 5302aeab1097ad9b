// HTTP client towards deployment endpoints: HTTP/2 without TLS (h2c, prior knowledge) by default, HTTP/1.1
// when a deployment asks for it; https lets ALPN decide. h2c goes over perdure's own lean connection
// (`h2c.ts`); https over Node's `http2` client.
//
// Invariants:
// - One HTTP/2 connection per origin, reused by every request; a connection that errors, closes or receives
//   GOAWAY is dropped from the pool so the next request opens a fresh one.
// - Every stream reports exactly one of `end` or `error` to its listener.

import http2 from "node:http2";
import { http } from "../core/node-http.ts";
import https from "node:https";
import type { RequestSigner } from "./request-identity.ts";
import { H2cConnection } from "./h2c.ts";

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

const CONNECT_TIMEOUT_MS = 10_000;

export class EndpointClient {
  private readonly signer: RequestSigner | undefined;
  private readonly sessions = new Map<string, http2.ClientHttp2Session>();
  private readonly h2c = new Map<string, H2cConnection>();
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly tlsAgent = new https.Agent({ keepAlive: true });

  constructor(signer?: RequestSigner) {
    this.signer = signer;
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

  private session(origin: string): http2.ClientHttp2Session {
    const existing = this.sessions.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    // Messages may be as large as the 32 MiB request limit; the default session memory (10 MB) is too small.
    const session = http2.connect(origin, { maxSessionMemory: 256 });
    session.setMaxListeners(0);
    const drop = () => {
      if (this.sessions.get(origin) === session) this.sessions.delete(origin);
    };
    session.on("error", drop);
    session.on("close", drop);
    session.on("goaway", drop);
    // A peer that accepts the connection but never speaks HTTP/2 must not hold the pool forever.
    const connectTimer = setTimeout(() => session.destroy(new Error(`no HTTP/2 handshake from ${origin} within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    connectTimer.unref();
    session.once("connect", () => clearTimeout(connectTimer));
    session.once("close", () => clearTimeout(connectTimer));
    session.unref();
    this.sessions.set(origin, session);
    return session;
  }

  private openHttp2(url: URL, options: OpenOptions, listener: StreamListener): EndpointStream {
    if (url.protocol === "http:") return this.connection(url).open(options.method, url.pathname + url.search, options.headers, listener);
    let finished = false;
    const fail = (err: Error) => {
      if (finished) return;
      finished = true;
      listener.onError(err);
    };
    let req: http2.ClientHttp2Stream;
    try {
      const session = this.session(url.origin);
      req = session.request(
        { ":method": options.method, ":path": url.pathname + url.search, ...options.headers },
        { endStream: false },
      );
    } catch (err) {
      queueMicrotask(() => fail(err as Error));
      return { write: () => {}, end: () => {}, abort: () => {} };
    }
    req.on("response", (headers) => {
      const status = Number(headers[":status"]);
      const flat: Record<string, string | string[] | undefined> = {};
      for (const [k, v] of Object.entries(headers)) if (!k.startsWith(":")) flat[k] = v as string | string[] | undefined;
      listener.onResponse(status, flat);
    });
    req.on("data", (chunk: Buffer) => {
      if (!finished) listener.onData(chunk);
    });
    req.on("end", () => {
      if (finished) return;
      finished = true;
      listener.onEnd();
    });
    req.on("error", (err) => fail(err));
    req.on("close", () => {
      if (!finished) fail(new Error(`stream closed before the response ended (code ${req.rstCode ?? "?"})`));
    });
    return {
      write: (chunk) => {
        if (!req.closed && !req.destroyed && req.writable) req.write(chunk);
      },
      end: () => {
        if (!req.closed && !req.destroyed && req.writable) req.end();
      },
      abort: () => {
        finished = true;
        if (!req.destroyed) req.close(http2.constants.NGHTTP2_CANCEL);
      },
    };
  }

  private openHttp11(url: URL, options: OpenOptions, listener: StreamListener): EndpointStream {
    let finished = false;
    const fail = (err: Error) => {
      if (finished) return;
      finished = true;
      listener.onError(err);
    };
    const mod = url.protocol === "https:" ? https : http;
    const req = mod.request(url, {
      method: options.method,
      headers: options.method === "POST" ? { ...options.headers, "transfer-encoding": "chunked" } : options.headers,
      agent: url.protocol === "https:" ? this.tlsAgent : this.agent,
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

  private connection(url: URL): H2cConnection {
    const existing = this.h2c.get(url.origin);
    if (existing?.usable) return existing;
    const c = new H2cConnection(url, (closed) => {
      if (this.h2c.get(url.origin) === closed) this.h2c.delete(url.origin);
    });
    this.h2c.set(url.origin, c);
    return c;
  }

  /** Drops the pooled connection to an origin (after a timeout, it may be dead without knowing it). */
  resetConnection(url: URL): void {
    const c = this.h2c.get(url.origin);
    if (c) {
      this.h2c.delete(url.origin);
      c.destroy(new Error("connection reset by perdure after a timeout"));
    }
    const session = this.sessions.get(url.origin);
    if (!session) return;
    this.sessions.delete(url.origin);
    session.destroy();
  }

  close(): void {
    for (const c of [...this.h2c.values()]) c.destroy(new Error("perdure is shutting down"));
    this.h2c.clear();
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
    this.agent.destroy();
    this.tlsAgent.destroy();
  }
}
