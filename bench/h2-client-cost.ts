// What an HTTP/2 client costs per invocation: drives the SDK endpoint like bench/sdk-ceiling.ts (BenchSvc/noop,
// Start + Input, 32 streams in flight over one connection), but speaks h2c by hand over a plain socket: literal
// request headers, one write per event-loop turn, large flow-control windows, response headers not decoded. Its
// client CPU per invocation, next to sdk-ceiling.ts's (Node's http2 client), bounds what a leaner endpoint client
// could save perdure on every attempt. A measurement tool only: it skips HPACK decoding, flow control on sending
// and error handling, which a client for perdure must have.
//
//   npx node bench/services.ts --port 19080 --stats-port 19081 &
//   npx node bench/h2-client-cost.ts '{"port":19080,"connections":32,"durationS":6}'
//   npx node bench/sdk-ceiling.ts '{"url":"http://127.0.0.1:19080","connections":32,"durationS":6}'
import net from "node:net";
import { FrameDecoder } from "../src/protocol/frame.ts";
import { startFrames } from "./sdk-ceiling.ts";
import { MessageType } from "../src/protocol/message-types.ts";

const H2 = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, WINDOW_UPDATE: 8 } as const;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;

/** HPACK literal header field without indexing, new name, no Huffman (short names and values only). */
function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  if (n.length > 126 || v.length > 126) throw new Error("header too long for this tool");
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}

function h2frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
}

const spec = JSON.parse(process.argv[2] ?? "{}") as { port: number; connections: number; durationS: number };
const host = "127.0.0.1";
const contentType = "application/vnd.restate.invocation.v6";
const requestHeaders = Buffer.concat([
  Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static table 3 and 6)
  literal(":path", "/invoke/BenchSvc/noop"),
  literal(":authority", `${host}:${spec.port}`),
  literal("content-type", contentType),
  literal("accept", contentType),
]);

const socket = net.connect(spec.port, host);
socket.setNoDelay(true);

// Writes are gathered and sent once per event-loop turn.
let pending: Buffer[] = [];
function send(chunk: Buffer): void {
  pending.push(chunk);
  if (pending.length > 1) return;
  setImmediate(() => {
    const out = pending;
    pending = [];
    socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  });
}

// Preface; no dynamic HPACK table; stream and connection windows near 2^31 so DATA never waits for updates.
const settings = Buffer.alloc(12);
settings.writeUInt16BE(0x1, 0); // SETTINGS_HEADER_TABLE_SIZE
settings.writeUInt32BE(0, 2);
settings.writeUInt16BE(0x4, 6); // SETTINGS_INITIAL_WINDOW_SIZE
settings.writeUInt32BE(0x7fffffff, 8);
const connectionWindow = Buffer.alloc(4);
connectionWindow.writeUInt32BE(0x7fffffff - 65535, 0);
socket.write(
  Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), h2frame(H2.SETTINGS, 0, 0, settings), h2frame(H2.WINDOW_UPDATE, 0, 0, connectionWindow)]),
);

const streams = new Map<number, { decoder: FrameDecoder; done: () => void }>();
let nextStreamId = 1;
let receivedSinceUpdate = 0;
let inbox: Buffer = Buffer.alloc(0);

function onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
  if (type === H2.SETTINGS && !(flags & ACK)) send(h2frame(H2.SETTINGS, ACK, 0, Buffer.alloc(0)));
  else if (type === H2.PING && !(flags & ACK)) send(h2frame(H2.PING, ACK, 0, Buffer.from(payload)));
  else if (type === H2.DATA) {
    receivedSinceUpdate += payload.length;
    if (receivedSinceUpdate > 1 << 30) {
      const increment = Buffer.alloc(4);
      increment.writeUInt32BE(receivedSinceUpdate, 0);
      send(h2frame(H2.WINDOW_UPDATE, 0, 0, increment));
      receivedSinceUpdate = 0;
    }
    const stream = streams.get(streamId);
    if (stream) {
      for (const message of stream.decoder.push(Buffer.from(payload))) {
        if (message.type === MessageType.End) {
          send(h2frame(H2.DATA, END_STREAM, streamId, Buffer.alloc(0)));
          stream.done();
        }
      }
    }
    if (flags & END_STREAM) streams.delete(streamId);
  } else if (type === H2.HEADERS && flags & END_STREAM) streams.delete(streamId);
  else if (type === H2.RST_STREAM) {
    const stream = streams.get(streamId);
    streams.delete(streamId);
    stream?.done();
  }
}

socket.on("data", (chunk: Buffer) => {
  inbox = inbox.length ? Buffer.concat([inbox, chunk]) : chunk;
  let offset = 0;
  while (inbox.length - offset >= 9) {
    const length = inbox.readUIntBE(offset, 3);
    if (inbox.length - offset < 9 + length) break;
    onFrame(inbox[offset + 3]!, inbox[offset + 4]!, inbox.readUInt32BE(offset + 5) & 0x7fffffff, inbox.subarray(offset + 9, offset + 9 + length));
    offset += 9 + length;
  }
  inbox = offset === inbox.length ? Buffer.alloc(0) : inbox.subarray(offset);
});

function invokeOnce(): Promise<void> {
  return new Promise((resolve) => {
    const streamId = nextStreamId;
    nextStreamId += 2;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      resolve();
    };
    streams.set(streamId, { decoder: new FrameDecoder(), done });
    send(Buffer.concat([h2frame(H2.HEADERS, END_HEADERS, streamId, requestHeaders), h2frame(H2.DATA, 0, streamId, startFrames())]));
  });
}

socket.once("connect", async () => {
  await new Promise((r) => setTimeout(r, 50));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + spec.durationS * 1000;
  let ok = 0;
  const loop = async () => {
    while (performance.now() < deadline) {
      await invokeOnce();
      ok++;
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, loop));
  const cpu = process.cpuUsage(cpu0);
  const elapsedS = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ rps: Math.round(ok / elapsedS), ok, clientCpuUsPerInv: Math.round((cpu.user + cpu.system) / ok) }));
  process.exit(0);
});
