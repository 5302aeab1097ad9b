// A lean HTTP/2 client connection for endpoint requests (the attempt streams that carry the invocation protocol,
// and discovery): cleartext with prior knowledge (h2c) for http URLs, TLS with ALPN "h2" for https URLs. It does
// what those need and no more, at about a third of the per-stream CPU of Node's `http2` client (no Duplex stream
// objects, one socket write per task for all streams of a connection; `bench/h2-client-cost.ts`).
//
// Invariants:
// - Every header block received is decoded, whichever stream it belongs to, so the HPACK decoder stays in step
//   with the peer's encoder; a decoding or framing error is a connection error: every stream fails.
// - Sending respects the peer's flow-control windows (connection and stream) and maximum frame size; data waits
//   in its stream's queue until a WINDOW_UPDATE opens the window. Receiving never blocks the peer: perdure
//   announces windows of 2^31-1 and tops up the connection window as data arrives.
// - At most the peer's SETTINGS_MAX_CONCURRENT_STREAMS streams are open; further opens wait in order.
// - A listener hears onResponse at most once, then onData*, then exactly one of onEnd / onError, unless the
//   stream was aborted (then nothing more).
// - After GOAWAY, a socket error or close, or stream-id exhaustion, the connection takes no new streams
//   (`usable` is false); streams the peer will not process fail at once.

import net from "node:net";
import type tls from "node:tls";
import type { EndpointStream, StreamListener } from "./client.ts";
import { HpackDecoder, HpackError, encodeHeaderBlock } from "./hpack.ts";
import { CANCEL, Flag as F, FrameType as T, H2ProtocolError, MAX_WINDOW, PREFACE, Setting as S, frame, settingsPayload, u32, unpad } from "./h2-frames.ts";

/** Largest frame perdure accepts (announced in SETTINGS_MAX_FRAME_SIZE). */
const MAX_RECEIVE_FRAME = 1 << 16;
/** HPACK dynamic table perdure lets the peer use for response headers. */
const HEADER_TABLE_SIZE = 4096;
const CONNECT_TIMEOUT_MS = 10_000;

interface Stream {
  id: number;
  readonly listener: StreamListener;
  sendWindow: number;
  readonly queue: Buffer[];
  endQueued: boolean;
  localEnded: boolean;
  remoteEnded: boolean;
  responded: boolean;
  /** onEnd, onError or abort happened: the listener hears nothing more. */
  finished: boolean;
}

interface PendingOpen {
  readonly stream: Stream;
  readonly block: Buffer;
}

export class H2Connection {
  private readonly origin: string;
  private readonly secure: boolean;
  private readonly socket: net.Socket;
  private readonly onClosed: (c: H2Connection) => void;
  private readonly decoder = new HpackDecoder(HEADER_TABLE_SIZE);
  private readonly streams = new Map<number, Stream>();
  private readonly waiting: PendingOpen[] = [];
  private nextStreamId = 1;
  private out: Buffer[] = [];
  private flushScheduled = false;
  private inbox: Buffer = Buffer.alloc(0);
  private closed = false;
  private goaway = false;
  private failure: Error | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  // Peer settings and windows.
  private peerMaxStreams = Infinity;
  private peerInitialWindow = 65_535;
  private peerMaxFrame = 16_384;
  private connectionSendWindow = 65_535;
  private receivedSinceUpdate = 0;
  /** The header block being received: HEADERS + CONTINUATION frames of one stream, nothing else between. */
  private block: { readonly streamId: number; readonly parts: Buffer[]; readonly endStream: boolean } | undefined;

  /** `tlsOptions`: extra options of the TLS connection for https URLs (tests pass their own CA). */
  constructor(origin: URL, onClosed: (c: H2Connection) => void, tlsOptions: tls.ConnectionOptions = {}) {
    this.origin = origin.origin;
    this.secure = origin.protocol === "https:";
    this.onClosed = onClosed;
    const host = origin.hostname.replace(/^\[|\]$/g, "");
    if (this.secure) {
      // node:tls is loaded on first use: start-up does not pay for it when no endpoint is https.
      const socket = process.getBuiltinModule("node:tls").connect({
        host,
        port: Number(origin.port || 443),
        ALPNProtocols: ["h2"],
        ...(net.isIP(host) === 0 ? { servername: host } : {}),
        ...tlsOptions,
      });
      socket.once("secureConnect", () => {
        if (socket.alpnProtocol !== "h2") this.destroy(new Error(`${this.origin} did not negotiate HTTP/2 over TLS (ALPN: ${socket.alpnProtocol || "none"})`));
      });
      this.socket = socket;
    } else {
      this.socket = net.connect({ host, port: Number(origin.port || 80) });
    }
    this.socket.setNoDelay(true);
    this.socket.unref();
    const settings = settingsPayload([
      [S.HEADER_TABLE_SIZE, HEADER_TABLE_SIZE],
      [S.ENABLE_PUSH, 0],
      [S.INITIAL_WINDOW_SIZE, MAX_WINDOW],
      [S.MAX_FRAME_SIZE, MAX_RECEIVE_FRAME],
    ]);
    this.send(Buffer.concat([PREFACE, frame(T.SETTINGS, 0, 0, settings), frame(T.WINDOW_UPDATE, 0, 0, u32(MAX_WINDOW - 65_535))]));
    this.handshakeTimer = setTimeout(() => this.destroy(new Error(`no HTTP/2 handshake from ${this.origin} within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    this.handshakeTimer.unref();
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (err) => this.destroy(err));
    this.socket.on("close", () => this.destroy(new Error("the endpoint closed the connection")));
  }

  /** Whether new streams may be opened on this connection. */
  get usable(): boolean {
    return !this.closed && !this.goaway && this.nextStreamId < MAX_WINDOW;
  }

  /** Opens a stream: the request headers go out now (or when the peer's stream limit allows). */
  open(method: string, path: string, headers: Record<string, string>, listener: StreamListener): EndpointStream {
    const pairs: Array<[string, string]> = [
      [":method", method],
      [":scheme", this.secure ? "https" : "http"],
      [":authority", this.origin.slice(this.secure ? "https://".length : "http://".length)],
      [":path", path],
    ];
    for (const [name, value] of Object.entries(headers)) pairs.push([name.toLowerCase(), value]);
    const stream: Stream = {
      id: 0,
      listener,
      sendWindow: 0,
      queue: [],
      endQueued: false,
      localEnded: false,
      remoteEnded: false,
      responded: false,
      finished: false,
    };
    const pending: PendingOpen = { stream, block: encodeHeaderBlock(pairs) };
    if (!this.usable) {
      const err = this.failure ?? new Error(`the connection to ${this.origin} takes no new streams`);
      queueMicrotask(() => this.finish(stream, err));
    } else if (this.streams.size >= this.peerMaxStreams) {
      this.waiting.push(pending);
    } else {
      this.start(pending);
    }
    return {
      write: (chunk) => this.write(stream, chunk),
      end: () => this.end(stream),
      abort: () => this.abort(stream),
    };
  }

  /** Drops the connection: every stream not yet finished fails with `err`. */
  destroy(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = err;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.socket.destroy();
    const open = [...this.streams.values(), ...this.waiting.map((p) => p.stream)];
    this.streams.clear();
    this.waiting.length = 0;
    for (const s of open) this.finish(s, err);
    this.onClosed(this);
  }

  private start({ stream, block }: PendingOpen): void {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    stream.id = id;
    stream.sendWindow = this.peerInitialWindow;
    this.streams.set(id, stream);
    this.sendHeaders(id, block);
    this.flushStream(stream);
  }

  private sendHeaders(id: number, block: Buffer): void {
    const max = this.peerMaxFrame;
    if (block.length <= max) {
      this.send(frame(T.HEADERS, F.END_HEADERS, id, block));
      return;
    }
    this.send(frame(T.HEADERS, 0, id, block.subarray(0, max)));
    for (let off = max; off < block.length; off += max) {
      const last = off + max >= block.length;
      this.send(frame(T.CONTINUATION, last ? F.END_HEADERS : 0, id, block.subarray(off, off + max)));
    }
  }

  private write(stream: Stream, chunk: Buffer): void {
    if (stream.finished || stream.endQueued || this.closed || chunk.length === 0) return;
    stream.queue.push(chunk);
    if (stream.id !== 0) this.flushStream(stream);
  }

  private end(stream: Stream): void {
    if (stream.finished || stream.endQueued || this.closed) return;
    stream.endQueued = true;
    if (stream.id !== 0) this.flushStream(stream);
  }

  private abort(stream: Stream): void {
    if (stream.finished) return;
    stream.finished = true;
    if (stream.id === 0) {
      const i = this.waiting.findIndex((p) => p.stream === stream);
      if (i >= 0) this.waiting.splice(i, 1);
      return;
    }
    if (this.streams.get(stream.id) === stream) {
      this.send(frame(T.RST_STREAM, 0, stream.id, u32(CANCEL)));
      this.closeStream(stream);
    }
  }

  /** Sends what the windows allow of the stream's queued data, then END_STREAM once everything went out. */
  private flushStream(stream: Stream): void {
    while (stream.queue.length > 0) {
      const room = Math.min(stream.sendWindow, this.connectionSendWindow, this.peerMaxFrame);
      if (room <= 0) return;
      const head = stream.queue[0]!;
      const n = Math.min(room, head.length);
      const part = n === head.length ? head : head.subarray(0, n);
      if (n === head.length) stream.queue.shift();
      else stream.queue[0] = head.subarray(n);
      stream.sendWindow -= n;
      this.connectionSendWindow -= n;
      const ends = stream.endQueued && stream.queue.length === 0;
      this.send(frame(T.DATA, ends ? F.END_STREAM : 0, stream.id, part));
      if (ends) {
        stream.localEnded = true;
        this.maybeClose(stream);
        return;
      }
    }
    if (stream.endQueued && !stream.localEnded) {
      stream.localEnded = true;
      this.send(frame(T.DATA, F.END_STREAM, stream.id, Buffer.alloc(0)));
      this.maybeClose(stream);
    }
  }

  private send(buf: Buffer): void {
    if (this.closed) return;
    this.out.push(buf);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Everything written during the current task (frames of many streams) goes out in one socket write at its end.
    queueMicrotask(() => {
      this.flushScheduled = false;
      const out = this.out;
      this.out = [];
      if (!this.closed && out.length > 0) this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    });
  }

  private onData(chunk: Buffer): void {
    this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    let off = 0;
    try {
      while (!this.closed && this.inbox.length - off >= 9) {
        const length = this.inbox.readUIntBE(off, 3);
        if (length > MAX_RECEIVE_FRAME) throw new H2ProtocolError(`frame of ${length} bytes exceeds the ${MAX_RECEIVE_FRAME} allowed`);
        if (this.inbox.length - off < 9 + length) break;
        const type = this.inbox[off + 3]!;
        const flags = this.inbox[off + 4]!;
        const streamId = this.inbox.readUInt32BE(off + 5) & MAX_WINDOW;
        const payload = this.inbox.subarray(off + 9, off + 9 + length);
        off += 9 + length;
        this.onFrame(type, flags, streamId, payload);
      }
    } catch (err) {
      const protocol = err instanceof H2ProtocolError || err instanceof HpackError;
      this.destroy(new Error(`${protocol ? "HTTP/2 protocol error from" : "error handling data from"} ${this.origin}: ${(err as Error).message ?? String(err)}`));
      return;
    }
    this.inbox = off === this.inbox.length ? Buffer.alloc(0) : this.inbox.subarray(off);
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.block && (type !== T.CONTINUATION || streamId !== this.block.streamId)) throw new H2ProtocolError("header block interrupted");
    switch (type) {
      case T.DATA:
        return this.onDataFrame(flags, streamId, payload);
      case T.HEADERS: {
        let block = payload;
        if (flags & F.PADDED) block = unpad(block);
        if (flags & F.PRIORITY) block = block.subarray(5);
        this.block = { streamId, parts: [block], endStream: (flags & F.END_STREAM) !== 0 };
        if (flags & F.END_HEADERS) this.onHeaderBlock();
        return;
      }
      case T.CONTINUATION:
        if (!this.block) throw new H2ProtocolError("unexpected CONTINUATION");
        this.block.parts.push(payload);
        if (flags & F.END_HEADERS) this.onHeaderBlock();
        return;
      case T.RST_STREAM: {
        const s = this.streams.get(streamId);
        if (s) {
          this.closeStream(s);
          this.finish(s, new Error(`stream closed before the response ended (code ${payload.length >= 4 ? payload.readUInt32BE(0) : "?"})`));
        }
        return;
      }
      case T.SETTINGS:
        if (flags & F.ACK) return;
        if (streamId !== 0 || payload.length % 6 !== 0) throw new H2ProtocolError("malformed SETTINGS");
        for (let i = 0; i < payload.length; i += 6) this.applySetting(payload.readUInt16BE(i), payload.readUInt32BE(i + 2));
        this.send(frame(T.SETTINGS, F.ACK, 0, Buffer.alloc(0)));
        if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
        this.handshakeTimer = undefined;
        this.startWaiting();
        return;
      case T.PING:
        if (!(flags & F.ACK)) this.send(frame(T.PING, F.ACK, 0, Buffer.from(payload)));
        return;
      case T.GOAWAY:
        return this.onGoaway(payload);
      case T.WINDOW_UPDATE: {
        if (payload.length !== 4) throw new H2ProtocolError("malformed WINDOW_UPDATE");
        const increment = payload.readUInt32BE(0) & MAX_WINDOW;
        if (streamId === 0) {
          this.connectionSendWindow += increment;
          for (const s of this.streams.values()) if (s.queue.length > 0 || (s.endQueued && !s.localEnded)) this.flushStream(s);
        } else {
          const s = this.streams.get(streamId);
          if (s) {
            s.sendWindow += increment;
            this.flushStream(s);
          }
        }
        return;
      }
      case T.PUSH_PROMISE:
        throw new H2ProtocolError("PUSH_PROMISE although push is disabled");
      default:
        return; // PRIORITY and unknown frame types are ignored
    }
  }

  private onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    this.receivedSinceUpdate += payload.length;
    if (this.receivedSinceUpdate >= 1 << 30) {
      this.send(frame(T.WINDOW_UPDATE, 0, 0, u32(this.receivedSinceUpdate)));
      this.receivedSinceUpdate = 0;
    }
    const s = this.streams.get(streamId);
    if (!s) return;
    const data = flags & F.PADDED ? unpad(payload) : payload;
    if (!s.responded) throw new H2ProtocolError(`DATA before HEADERS on stream ${streamId}`);
    if (data.length > 0 && !s.finished) s.listener.onData(data);
    if (flags & F.END_STREAM) this.remoteEnd(s);
  }

  /** A complete header block: decoded whatever its stream (to keep HPACK in step), then the response or trailers. */
  private onHeaderBlock(): void {
    const { streamId, parts, endStream } = this.block!;
    this.block = undefined;
    const headers = this.decoder.decode(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    const s = this.streams.get(streamId);
    if (!s) return;
    if (!s.responded) {
      const status = Number(headers.find(([n]) => n === ":status")?.[1]);
      if (!Number.isInteger(status)) throw new H2ProtocolError(`response without :status on stream ${streamId}`);
      if (status >= 100 && status < 200) return; // informational; the final response follows
      s.responded = true;
      const flat: Record<string, string> = {};
      for (const [name, value] of headers) {
        if (name.startsWith(":")) continue;
        flat[name] = flat[name] === undefined ? value : `${flat[name]}, ${value}`;
      }
      if (!s.finished) s.listener.onResponse(status, flat);
    }
    if (endStream) this.remoteEnd(s);
  }

  private remoteEnd(s: Stream): void {
    if (s.remoteEnded) return;
    s.remoteEnded = true;
    if (!s.finished) {
      s.finished = true;
      s.listener.onEnd();
    }
    this.maybeClose(s);
  }

  /** Both sides ended: the stream is done and its slot free. */
  private maybeClose(s: Stream): void {
    if (s.localEnded && s.remoteEnded) this.closeStream(s);
    else if (s.remoteEnded && s.finished && !s.endQueued) {
      // The response is complete and nobody will send more: close our side too.
      s.endQueued = true;
      this.flushStream(s);
    }
  }

  private closeStream(s: Stream): void {
    if (this.streams.get(s.id) !== s) return;
    this.streams.delete(s.id);
    this.startWaiting();
    // A connection that takes no new streams goes away with its last one.
    if (!this.usable && this.streams.size === 0 && this.waiting.length === 0) this.destroy(new Error("connection retired"));
  }

  private finish(s: Stream, err: Error): void {
    if (s.finished) return;
    s.finished = true;
    s.listener.onError(err);
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.streams.size < this.peerMaxStreams && this.usable) this.start(this.waiting.shift()!);
  }

  private applySetting(id: number, value: number): void {
    switch (id) {
      case S.MAX_CONCURRENT_STREAMS:
        this.peerMaxStreams = value;
        return;
      case S.INITIAL_WINDOW_SIZE: {
        if (value > MAX_WINDOW) throw new H2ProtocolError("initial window size too large");
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) {
          s.sendWindow += delta;
          if (delta > 0) this.flushStream(s);
        }
        return;
      }
      case S.MAX_FRAME_SIZE:
        if (value < 16_384 || value > 16_777_215) throw new H2ProtocolError("invalid max frame size");
        this.peerMaxFrame = value;
        return;
      default:
        return; // the table size only bounds an encoder that indexes; perdure's never does
    }
  }

  private onGoaway(payload: Buffer): void {
    if (payload.length < 8) throw new H2ProtocolError("malformed GOAWAY");
    const last = payload.readUInt32BE(0) & MAX_WINDOW;
    const code = payload.readUInt32BE(4);
    this.goaway = true;
    const err = new Error(`the endpoint is closing the connection (GOAWAY, code ${code})`);
    for (const s of [...this.streams.values()]) {
      if (s.id > last) {
        this.streams.delete(s.id);
        this.finish(s, err);
      }
    }
    for (const p of this.waiting.splice(0)) this.finish(p.stream, err);
    this.onClosed(this);
    if (this.streams.size === 0) this.destroy(err);
  }
}

