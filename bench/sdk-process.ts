// The SDK process (bench/services.ts) that serves both servers: starting it, reading and resetting its sink
// count to wait for /send invocations to complete, reading its stalls (GC, event-loop delay), and the SDK-only
// ceiling run against its endpoint.
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { spawnManaged, type ManagedChild } from "../test/support/child-process.ts";
import { freePorts } from "../test/support/free-port.ts";
import { runJsonChild } from "./child-processes.ts";
import type { LoadResult } from "./load.ts";
import type { Options } from "./options.ts";
import { BENCH, ROOT } from "./paths.ts";
import { readCpuMs } from "./proc-stats.ts";
import type { CeilingSpec } from "./sdk-ceiling.ts";

export type Sdk = { url: string; statsUrl: string; pid: number; child: ManagedChild };

export async function startSdk(): Promise<Sdk> {
  const [port, statsPort] = (await freePorts(2)) as [number, number];
  const child = spawnManaged("sdk", process.execPath, [path.join(BENCH, "services.ts"), "--port", String(port), "--stats-port", String(statsPort)], { cwd: ROOT });
  const deadline = Date.now() + 15_000;
  while (!/listening on/.test(child.logs())) {
    if (child.exitStatus() || Date.now() > deadline) throw new Error(`SDK services did not start:\n${child.logs()}`);
    await delay(20);
  }
  return { url: `http://127.0.0.1:${port}`, statsUrl: `http://127.0.0.1:${statsPort}`, pid: child.pid!, child };
}

export async function sinkCount(sdk: Sdk, reset = false): Promise<number> {
  const r = await fetch(`${sdk.statsUrl}/${reset ? "reset" : "count"}`, { method: reset ? "POST" : "GET" });
  return ((await r.json()) as { completed: number }).completed;
}

/** Stalls of the SDK process (GC pauses, event-loop delay) in a window: every in-flight invocation waits them out. */
export type SdkPauses = { gcCount: number; gcTotalMs: number; gcMaxMs: number; loopDelayP99Ms: number; loopDelayMaxMs: number };

/** Reads the SDK process's stalls since the last reset, or (reset) starts a new window. */
export async function sdkPauses(sdk: Sdk, reset = false): Promise<SdkPauses> {
  const r = await fetch(`${sdk.statsUrl}/pauses${reset ? "/reset" : ""}`, { method: reset ? "POST" : "GET" });
  return (await r.json()) as SdkPauses;
}

/** Waits until the sink has seen `target` invocations; returns ms waited, or undefined on timeout. */
export async function drainSink(sdk: Sdk, target: number, timeoutS: number): Promise<{ ms: number | undefined; completed: number }> {
  const t0 = performance.now();
  for (;;) {
    const completed = await sinkCount(sdk);
    if (completed >= target) return { ms: performance.now() - t0, completed };
    if (performance.now() - t0 > timeoutS * 1000) return { ms: undefined, completed };
    await delay(20);
  }
}

export type CeilingRecord = { load: LoadResult; sdkCpuMs: number; sdkCpuUsPerReq: number };

export async function sdkCeilingRun(o: Options, sdk: Sdk): Promise<CeilingRecord> {
  const spec: CeilingSpec = { url: sdk.url, connections: o.connections, durationS: o.durationS };
  if (o.warmupS > 0) await runJsonChild<LoadResult>("sdk-ceiling.ts", { ...spec, durationS: o.warmupS }, o.warmupS + 60);
  const cpu0 = readCpuMs(sdk.pid);
  const load = await runJsonChild<LoadResult>("sdk-ceiling.ts", spec, o.durationS + 60);
  const sdkCpuMs = readCpuMs(sdk.pid) - cpu0;
  return { load, sdkCpuMs, sdkCpuUsPerReq: load.ok > 0 ? (sdkCpuMs * 1000) / load.ok : NaN };
}
