// A raw HTTP/1.1 client over node:net for the fuzz suite: sends arbitrary bytes (malformed request lines,
// non-ASCII headers, lying content lengths), optionally one byte at a time or cut off early, and parses
// whatever comes back strictly enough to tell a well-formed response from garbage or silence.
import net from "node:net";
import { setTimeout as delay } from "node:timers/promises";

export type RawResponse = {
  /** The final (non-1xx) status line, e.g. "HTTP/1.1 400 Bad Request". */
  readonly statusLine: string;
  readonly status: number;
  /** Header names lower-cased; repeated headers keep every value. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: Buffer;
  header(name: string): string | undefined;
};

export type RawOutcome =
  | { readonly kind: "response"; readonly response: RawResponse }
  /** The server closed the connection without (a complete) response. */
  | { readonly kind: "closed"; readonly partial: Buffer }
  /** Bytes that are not an HTTP response. */
  | { readonly kind: "malformed"; readonly reason: string; readonly partial: Buffer }
  | { readonly kind: "timeout"; readonly partial: Buffer };

export type RawOptions = {
  readonly timeoutMs?: number;
  /** Write one byte at a time, waiting this long between bytes. */
  readonly byteDelayMs?: number;
  /** Destroy the socket this long after the last byte was written (a client that goes away). */
  readonly disconnectAfterMs?: number;
  /** The request is a HEAD request: the response has no body whatever its headers say. */
  readonly head?: boolean;
};

export async function rawExchange(port: number, request: Buffer, opts: RawOptions = {}): Promise<RawOutcome> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  const received: Buffer[] = [];
  let size = 0;
  let settle: (o: RawOutcome) => void = () => {};
  const outcome = new Promise<RawOutcome>((resolve) => (settle = resolve));
  let done = false;
  const finish = (o: RawOutcome) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    settle(o);
  };
  const timer = setTimeout(() => finish({ kind: "timeout", partial: Buffer.concat(received) }), opts.timeoutMs ?? 5000);
  socket.on("data", (chunk: Buffer) => {
    received.push(chunk);
    size += chunk.length;
    const parsed = parseResponse(Buffer.concat(received, size), opts.head ?? false, false);
    if (parsed) finish(parsed);
  });
  socket.on("close", () => {
    const all = Buffer.concat(received, size);
    finish(parseResponse(all, opts.head ?? false, true) ?? { kind: "closed", partial: all });
  });
  await new Promise<void>((resolve) => {
    socket.once("connect", resolve);
    socket.once("error", () => resolve());
    socket.once("close", () => resolve());
  });
  try {
    if (opts.byteDelayMs !== undefined) {
      for (let i = 0; i < request.length && !done && !socket.destroyed; i++) {
        socket.write(request.subarray(i, i + 1));
        await delay(opts.byteDelayMs);
      }
    } else if (!socket.destroyed) {
      socket.write(request);
    }
    if (opts.disconnectAfterMs !== undefined) {
      await delay(opts.disconnectAfterMs);
      if (!done) finish({ kind: "closed", partial: Buffer.concat(received) });
    }
  } catch {
    // the server closed first; the outcome says what came back
  }
  return outcome;
}

/**
 * Parses one response from `buf`; undefined when more bytes are needed. `eof`: the peer closed, so a body
 * without a length ends here.
 */
export function parseResponse(buf: Buffer, head: boolean, eof: boolean): RawOutcome | undefined {
  let offset = 0;
  for (;;) {
    const end = buf.indexOf("\r\n\r\n", offset);
    if (end < 0) {
      if (buf.length - offset > 0 && !/^HTTP\/1\.[01] /.test(buf.subarray(offset, offset + 9).toString("latin1")) && buf.length - offset >= 9) {
        return { kind: "malformed", reason: "does not start with a status line", partial: buf };
      }
      return eof ? { kind: "closed", partial: buf } : undefined;
    }
    const lines = buf.subarray(offset, end).toString("latin1").split("\r\n");
    const statusLine = lines[0]!;
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (!m) return { kind: "malformed", reason: `bad status line ${JSON.stringify(statusLine)}`, partial: buf };
    const status = Number(m[1]);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) return { kind: "malformed", reason: `bad header line ${JSON.stringify(line)}`, partial: buf };
      const name = line.slice(0, colon).trim().toLowerCase();
      const list = headers.get(name) ?? [];
      list.push(line.slice(colon + 1).trim());
      headers.set(name, list);
    }
    const bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      offset = bodyStart;
      continue;
    }
    const response = (body: Buffer): RawOutcome => ({
      kind: "response",
      response: { statusLine, status, headers, body, header: (n) => headers.get(n.toLowerCase())?.[0] },
    });
    if (head || status === 204 || status === 304) return response(Buffer.alloc(0));
    const te = headers.get("transfer-encoding")?.join(",").toLowerCase();
    if (te?.includes("chunked")) {
      const chunks: Buffer[] = [];
      let pos = bodyStart;
      for (;;) {
        const lineEnd = buf.indexOf("\r\n", pos);
        if (lineEnd < 0) return eof ? { kind: "closed", partial: buf } : undefined;
        const n = parseInt(buf.subarray(pos, lineEnd).toString("latin1"), 16);
        if (!Number.isFinite(n)) return { kind: "malformed", reason: "bad chunk size", partial: buf };
        if (n === 0) return response(Buffer.concat(chunks));
        if (buf.length < lineEnd + 2 + n + 2) return eof ? { kind: "closed", partial: buf } : undefined;
        chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + n));
        pos = lineEnd + 2 + n + 2;
      }
    }
    const cl = headers.get("content-length");
    if (cl) {
      const n = Number(cl[0]);
      if (!Number.isInteger(n) || n < 0) return { kind: "malformed", reason: `bad content-length ${cl[0]}`, partial: buf };
      if (buf.length - bodyStart < n) return eof ? { kind: "closed", partial: buf } : undefined;
      return response(buf.subarray(bodyStart, bodyStart + n));
    }
    return eof ? response(buf.subarray(bodyStart)) : undefined;
  }
}

/** Serialises a request: request line, headers (values may be raw bytes), blank line, body. */
export function buildRequest(
  method: string,
  target: string | Buffer,
  headers: ReadonlyArray<readonly [string | Buffer, string | Buffer]>,
  body?: Buffer,
): Buffer {
  const parts: Buffer[] = [Buffer.from(`${method} `, "latin1"), typeof target === "string" ? Buffer.from(target, "utf8") : target, Buffer.from(" HTTP/1.1\r\n")];
  for (const [name, value] of headers) {
    parts.push(typeof name === "string" ? Buffer.from(name, "latin1") : name, Buffer.from(": "), typeof value === "string" ? Buffer.from(value, "utf8") : value, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from("\r\n"));
  if (body) parts.push(body);
  return Buffer.concat(parts);
}
