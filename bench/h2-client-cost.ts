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
import { Flag, FrameType as H2, MAX_WINDOW, PREFACE, Setting, frame as h2frame, settingsPayload, u32 } from "../src/endpoint/h2-frames.ts";
import { encodeHeaderBlock } from "../src/endpoint/hpack.ts";
import { MessageType } from "../src/protocol/message-types.ts";

const spec = JSON.parse(process.argv[2] ?? "{}") as { port: number; connections: number; durationS: number };
const host = "127.0.0.1";
const contentType = "application/vnd.restate.invocation.v6";
const requestHeaders = encodeHeaderBlock([
  [":method", "POST"],
  [":scheme", "http"],
  [":path", "/invoke/BenchSvc/noop"],
  [":authority", `${host}:${spec.port}`],
  ["content-type", contentType],
  ["accept", contentType],
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
const settings = settingsPayload([
  [Setting.HEADER_TABLE_SIZE, 0],
  [Setting.INITIAL_WINDOW_SIZE, MAX_WINDOW],
]);
socket.write(Buffer.concat([PREFACE, h2frame(H2.SETTINGS, 0, 0, settings), h2frame(H2.WINDOW_UPDATE, 0, 0, u32(MAX_WINDOW - 65535))]));

const streams = new Map<number, { decoder: FrameDecoder; done: () => void }>();
let nextStreamId = 1;
let receivedSinceUpdate = 0;
let inbox: Buffer = Buffer.alloc(0);

function onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
  if (type === H2.SETTINGS && !(flags & Flag.ACK)) send(h2frame(H2.SETTINGS, Flag.ACK, 0, Buffer.alloc(0)));
  else if (type === H2.PING && !(flags & Flag.ACK)) send(h2frame(H2.PING, Flag.ACK, 0, Buffer.from(payload)));
  else if (type === H2.DATA) {
    receivedSinceUpdate += payload.length;
    if (receivedSinceUpdate > 1 << 30) {
      send(h2frame(H2.WINDOW_UPDATE, 0, 0, u32(receivedSinceUpdate)));
      receivedSinceUpdate = 0;
    }
    const stream = streams.get(streamId);
    if (stream) {
      for (const message of stream.decoder.push(Buffer.from(payload))) {
        if (message.type === MessageType.End) {
          send(h2frame(H2.DATA, Flag.END_STREAM, streamId, Buffer.alloc(0)));
          stream.done();
        }
      }
    }
    if (flags & Flag.END_STREAM) streams.delete(streamId);
  } else if (type === H2.HEADERS && flags & Flag.END_STREAM) streams.delete(streamId);
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
    send(Buffer.concat([h2frame(H2.HEADERS, Flag.END_HEADERS, streamId, requestHeaders), h2frame(H2.DATA, 0, streamId, startFrames())]));
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
