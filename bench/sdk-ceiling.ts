// The SDK-only ceiling: drives the SDK endpoint directly, with no durable-execution server in between. A
// closed loop of `connections` concurrent HTTP/2 streams over one h2c session (as both servers use), each an
// invocation of BenchSvc/noop: Start + Input frames (service protocol V6) then read frames until End. This is
// the most a server could reach on this box if it cost nothing, since the SDK process and this client still
// share the two cores.
//
//   npx node bench/sdk-ceiling.ts '{"url":"http://127.0.0.1:9080","connections":32,"durationS":10}'
//
// Prints one line of JSON (LoadResult, see load.ts) on stdout.
import http2 from "node:http2";
import { randomBytes } from "node:crypto";
import { encodeCommand } from "../src/protocol/command-encode.ts";
import { FrameDecoder, encodeFrame } from "../src/protocol/frame.ts";
import { MessageType } from "../src/protocol/message-types.ts";
import { encodeStart } from "../src/protocol/start.ts";
import { encodeInvocationId, newInvocationId } from "../src/core/ids.ts";
import { hash64 } from "../src/core/hash.ts";
import { percentile, type LoadResult } from "./load.ts";

export type CeilingSpec = {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  /** Default /invoke/BenchSvc/noop */
  readonly path?: string;
  /** Service protocol version (default 6, what both servers negotiate with SDK 1.17). */
  readonly protocolVersion?: number;
};

const INPUT_FRAME = encodeFrame(
  MessageType.InputCommand,
  encodeCommand({ type: MessageType.InputCommand, headers: [], value: Buffer.alloc(0), name: "" }),
);

/** The request body of one no-op invocation: Start (fresh id) + Input. */
export function startFrames(): Buffer {
  const raw = newInvocationId(randomBytes(8).readBigUInt64BE(0) >> 1n, randomBytes(16));
  const start = encodeStart({
    id: raw,
    debugId: encodeInvocationId(raw),
    knownEntries: 1,
    stateMap: [],
    partialState: true,
    key: "",
    retryCountSinceLastStoredEntry: 0,
    durationSinceLastStoredEntry: 0,
    randomSeed: hash64(raw),
  });
  return Buffer.concat([encodeFrame(MessageType.Start, start), INPUT_FRAME]);
}

/** One invocation: resolves with true when End arrives, false on Error or a broken stream. */
function invokeOnce(session: http2.ClientHttp2Session, path: string, contentType: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = session.request(
      { ":method": "POST", ":path": path, "content-type": contentType, accept: contentType },
      { endStream: false },
    );
    const decoder = new FrameDecoder();
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      resolve(ok);
    };
    req.on("response", (headers) => {
      if (headers[":status"] !== 200) settle(false);
    });
    req.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.type === MessageType.End) {
          // As the servers do: the request body ends after the endpoint's terminal message.
          req.end();
          settle(true);
        } else if (frame.type === MessageType.Error) {
          req.end();
          settle(false);
        }
      }
    });
    req.on("error", () => settle(false));
    req.on("close", () => settle(false));
    req.write(startFrames());
  });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as CeilingSpec;
  const path = spec.path ?? "/invoke/BenchSvc/noop";
  const contentType = `application/vnd.restate.invocation.v${spec.protocolVersion ?? 6}`;
  const session = http2.connect(spec.url);
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  let samples = new Float64Array(1 << 16);
  let n = 0;
  let ok = 0;
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + spec.durationS * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const good = await invokeOnce(session, path, contentType);
      const t1 = performance.now();
      if (t1 > deadline) break; // in flight at the deadline: not counted (as autocannon)
      if (!good) {
        failed++;
        continue;
      }
      ok++;
      if (n === samples.length) {
        const bigger = new Float64Array(samples.length * 2);
        bigger.set(samples);
        samples = bigger;
      }
      samples[n++] = t1 - t0;
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, loop));
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  session.close();
  const sorted = samples.subarray(0, n).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const out: LoadResult = {
    ok,
    non2xx: failed,
    errors: 0,
    timeouts: 0,
    elapsedS,
    rps: ok / spec.durationS,
    latency: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      mean: n > 0 ? sum / n : NaN,
      max: n > 0 ? sorted[n - 1]! : NaN,
    },
    loadCpuMs: (cpu.user + cpu.system) / 1000,
    statusCodes: { "200": ok },
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

if (import.meta.main) await main();
