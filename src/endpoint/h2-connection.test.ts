// Tests of perdure's HTTP/2 connection against Node's own HTTP/2 server (nghttp2): response headers as a real
// encoder writes them (Huffman, dynamic table), flow control both ways with bodies far beyond the default
// windows, the peer's stream limit, header blocks split into CONTINUATION frames, RST_STREAM, GOAWAY, abort and
// connection errors, the client pool opening a new connection after GOAWAY, and https endpoints (TLS with ALPN,
// certificate verification, an endpoint without HTTP/2).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import https from "node:https";
import type tls from "node:tls";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import type { AddressInfo } from "node:net";
import { H2Connection } from "./h2-connection.ts";
import { EndpointClient, type StreamListener } from "./client.ts";

async function server(t: TestContext, handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void, settings: http2.Settings = {}) {
  const sessions = new Set<http2.ServerHttp2Session>();
  let created = 0;
  const srv = http2.createServer({ settings, maxSessionMemory: 256, maxHeaderListPairs: 4096, maxSendHeaderBlockLength: 1 << 20 }, handler);
  srv.on("session", (s) => {
    created++;
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  t.after(() => {
    for (const s of sessions) s.destroy();
    srv.close();
  });
  return { url: new URL(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`), sessions, connections: () => created };
}

type Outcome = { status?: number; headers?: Record<string, string | string[] | undefined>; body: Buffer; error?: Error; ended: boolean };

/** A listener that collects everything, and a promise of the outcome once the stream ended or failed. */
function collect(): { listener: StreamListener; done: Promise<Outcome> } {
  const o: Outcome = { body: Buffer.alloc(0), ended: false };
  const chunks: Buffer[] = [];
  let resolve!: (o: Outcome) => void;
  const done = new Promise<Outcome>((r) => (resolve = r));
  return {
    done,
    listener: {
      onResponse: (status, headers) => {
        o.status = status;
        o.headers = headers;
      },
      onData: (c) => chunks.push(Buffer.from(c)),
      onEnd: () => {
        o.ended = true;
        o.body = Buffer.concat(chunks);
        resolve(o);
      },
      onError: (err) => {
        o.error = err;
        o.body = Buffer.concat(chunks);
        resolve(o);
      },
    },
  };
}

function connection(t: TestContext, url: URL): H2Connection {
  const c = new H2Connection(url, () => {});
  t.after(() => c.destroy(new Error("test over")));
  return c;
}

test("response headers written by nghttp2 (Huffman, indexed, long, repeated) arrive as set", async (t) => {
  const printable = (n: number) => Array.from(randomBytes(n), (b) => String.fromCharCode(0x20 + (b % 95))).join("");
  const sets = Array.from({ length: 20 }, (_, i) => ({ "x-a": printable(i * 13), "x-b": printable(300 + i), "content-type": "application/vnd.restate.invocation.v5" }));
  let n = 0;
  const { url } = await server(t, (_req, res) => {
    res.writeHead(200, sets[n++]!);
    res.end("ok");
  });
  const c = connection(t, url);
  for (const expected of sets) {
    const { listener, done } = collect();
    c.open("GET", "/", {}, listener).end();
    const o = await done;
    assert.equal(o.status, 200);
    assert.equal(o.body.toString(), "ok");
    for (const [k, v] of Object.entries(expected)) assert.equal(o.headers![k], v, k);
  }
});

test("bodies far beyond the flow-control windows go through in both directions", async (t) => {
  const { url } = await server(t, (req, res) => {
    res.writeHead(200);
    req.pipe(res);
  });
  const c = connection(t, url);
  const body = randomBytes(3 * 1024 * 1024 + 17);
  const { listener, done } = collect();
  const s = c.open("POST", "/echo", { "content-type": "application/octet-stream" }, listener);
  for (let off = 0; off < body.length; off += 100_000) s.write(body.subarray(off, off + 100_000));
  s.end();
  const o = await done;
  assert.equal(o.error, undefined);
  assert.equal(o.status, 200);
  assert.ok(o.body.equals(body), "the echo is byte for byte the request body");
});

test("no more streams are open at once than the peer allows; the others wait and complete", async (t) => {
  let open = 0;
  let most = 0;
  const { url } = await server(
    t,
    (_req, res) => {
      open++;
      most = Math.max(most, open);
      setTimeout(() => {
        open--;
        res.end("done");
      }, 20);
    },
    { maxConcurrentStreams: 2 },
  );
  const c = connection(t, url);
  // let the peer's SETTINGS arrive first, as they do before any real attempt
  await new Promise((r) => setTimeout(r, 50));
  const runs = Array.from({ length: 10 }, () => {
    const { listener, done } = collect();
    c.open("GET", "/", {}, listener).end();
    return done;
  });
  const outcomes = await Promise.all(runs);
  assert.ok(outcomes.every((o) => o.status === 200 && o.body.toString() === "done"));
  assert.ok(most <= 2, `at most 2 streams at once, saw ${most}`);
});

test("a request header block larger than a frame is sent as HEADERS + CONTINUATION", async (t) => {
  const { url } = await server(t, (req, res) => {
    res.end(String(req.headers["x-big"]?.length ?? 0));
  });
  const c = connection(t, url);
  const { listener, done } = collect();
  c.open("GET", "/", { "x-big": "z".repeat(40_000) }, listener).end();
  const o = await done;
  assert.equal(o.body.toString(), "40000");
});

test("RST_STREAM from the peer fails the stream; other streams on the connection go on", async (t) => {
  const { url } = await server(t, (req, res) => {
    if (req.url === "/reset") req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    else res.end("fine");
  });
  const c = connection(t, url);
  const reset = collect();
  c.open("GET", "/reset", {}, reset.listener).end();
  const o = await reset.done;
  assert.match(o.error?.message ?? "", /stream closed before the response ended \(code 2\)/);
  const ok = collect();
  c.open("GET", "/", {}, ok.listener).end();
  assert.equal((await ok.done).body.toString(), "fine");
});

test("abort: the peer sees the stream cancelled and the listener hears nothing more", async (t) => {
  let aborted!: () => void;
  const serverSawAbort = new Promise<void>((r) => (aborted = r));
  const { url } = await server(t, (req, res) => {
    res.writeHead(200);
    res.write("partial");
    req.stream.on("aborted", () => aborted());
    req.stream.on("close", () => aborted());
  });
  const c = connection(t, url);
  let heard = 0;
  let s!: ReturnType<H2Connection["open"]>;
  const gotData = new Promise<void>((r) => {
    s = c.open("POST", "/", {}, {
      onResponse: () => heard++,
      onData: () => r(),
      onEnd: () => heard++,
      onError: () => heard++,
    });
  });
  await gotData;
  s.abort();
  await serverSawAbort;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(heard, 1, "only the response, nothing after the abort");
});

test("GOAWAY: the connection takes no new streams and the client pool opens a fresh one", async (t) => {
  const { url, sessions, connections } = await server(t, (_req, res) => res.end("hello"));
  const client = new EndpointClient();
  t.after(() => client.close());
  const ask = async () => {
    const { listener, done } = collect();
    client.open(url, { method: "GET", headers: {}, http11: false }, listener).end();
    return done;
  };
  assert.equal((await ask()).body.toString(), "hello");
  assert.equal((await ask()).body.toString(), "hello");
  assert.equal(connections(), 1, "requests share one connection");
  const [first] = [...sessions];
  first!.goaway(http2.constants.NGHTTP2_NO_ERROR);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await ask()).body.toString(), "hello");
  assert.equal(connections(), 2, "after GOAWAY a second connection served the request");
});

test("the peer dropping the connection fails open streams; a refused connection fails at once", async (t) => {
  const { url, sessions } = await server(t, () => {
    for (const s of sessions) s.destroy();
  });
  const c = connection(t, url);
  const dropped = collect();
  c.open("GET", "/", {}, dropped.listener).end();
  assert.ok((await dropped.done).error, "the stream failed");
  assert.equal(c.usable, false);

  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const refused = collect();
  connection(t, new URL(`http://127.0.0.1:${port}`)).open("GET", "/", {}, refused.listener).end();
  assert.match((await refused.done).error?.message ?? "", /ECONNREFUSED/);
});

/** A self-signed certificate for localhost and 127.0.0.1 (openssl), valid for a day. */
function selfSigned(t: TestContext): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), "perdure-tls-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, `openssl failed: ${r.stderr}`);
  return { key: readFileSync(path.join(dir, "key.pem")), cert: readFileSync(path.join(dir, "cert.pem")) };
}

async function listenTls(t: TestContext, srv: tls.Server): Promise<number> {
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  t.after(() => srv.close());
  return (srv.address() as AddressInfo).port;
}

test("https endpoints: HTTP/2 over TLS with ALPN, the certificate verified", async (t) => {
  const { key, cert } = selfSigned(t);
  const srv = http2.createSecureServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => res.end(`${req.method} ${req.url} ${req.scheme} ${Buffer.concat(chunks).length}`));
  });
  srv.on("session", (s) => t.after(() => s.destroy()));
  const port = await listenTls(t, srv);
  const client = new EndpointClient(undefined, { ca: cert });
  t.after(() => client.close());
  for (const host of ["127.0.0.1", "localhost"]) {
    const { listener, done } = collect();
    const s = client.open(new URL(`https://${host}:${port}/discover?x=1`), { method: "POST", headers: {}, http11: false }, listener);
    s.write(Buffer.alloc(100_000));
    s.end();
    const o = await done;
    assert.equal(o.error, undefined, host);
    assert.equal(o.status, 200);
    assert.equal(o.body.toString(), "POST /discover?x=1 https 100000");
  }

  const untrusting = new EndpointClient();
  t.after(() => untrusting.close());
  const refused = collect();
  untrusting.open(new URL(`https://127.0.0.1:${port}/`), { method: "GET", headers: {}, http11: false }, refused.listener).end();
  assert.match((await refused.done).error?.message ?? "", /self-signed certificate/);
});

test("an https endpoint that does not speak HTTP/2 fails the stream with a clear error", async (t) => {
  const { key, cert } = selfSigned(t);
  const srv = https.createServer({ key, cert }, (_req, res) => res.end("h1"));
  const port = await listenTls(t, srv);
  const client = new EndpointClient(undefined, { ca: cert });
  t.after(() => client.close());
  const { listener, done } = collect();
  client.open(new URL(`https://127.0.0.1:${port}/`), { method: "GET", headers: {}, http11: false }, listener).end();
  assert.match((await done).error?.message ?? "", /HTTP\/2|ALPN|application protocol/i);
});
