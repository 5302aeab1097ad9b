// One measured run: a fresh server, registration, warm-up, the measured load with CPU, RSS and sync-call
// readings (plus a strace pass if that is the counting method), and teardown; its figures as a RunRecord.
import { existsSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { runLoad } from "./child-processes.ts";
import { perfCounter, straceCount, type SyncCounts, type SyncMode } from "./fsync-count.ts";
import type { LoadResult } from "./load.ts";
import type { Options, ScenarioName, ServerKind } from "./options.ts";
import { foreignCpu, readCpuMs, readCpuSnapshot, readStatusKb, readWriteBytes } from "./proc-stats.ts";
import type { Scenario } from "./scenarios.ts";
import { drainSink, sdkPauses, sinkCount, type Sdk, type SdkPauses } from "./sdk-process.ts";
import { disposeServer, registerAndProbe, startServer } from "./server-under-test.ts";

export type RunRecord = {
  server: ServerKind;
  scenario: ScenarioName;
  round: number;
  startupMs: number;
  startupCpuMs: number;
  load: LoadResult;
  /** Requests the per-request figures divide by: 2xx responses (accepted sends for `send`). */
  requests: number;
  serverCpuMs: number;
  sdkCpuMs: number;
  serverCpuUsPerReq: number;
  sdkCpuUsPerReq: number;
  loadCpuUsPerReq: number;
  peakRssMb: number | undefined;
  fsyncPerReq: number | undefined;
  /** KiB the server process caused to be written to storage per request (/proc/PID/io write_bytes). */
  diskKbPerReq?: number | undefined;
  sync: (SyncCounts & { requests: number }) | undefined;
  /**
   * CPU used by userland processes outside the benchmark (other users of the machine) during the measured
   * window, in cores. Above ~0.2 cores the run competed for the 2 cores and its figures are understated.
   */
  foreignCores: number;
  /** CPU of kernel threads (journal commits, writeback, softirq threads) in the window, cores. */
  kernelThreadCores: number;
  kernelThreadUsPerReq: number;
  /** Stalls of the SDK process over the measured window (both servers drive the same SDK process). */
  sdkPauses?: SdkPauses | undefined;
  /** send only: time after the load stopped until every accepted invocation had run. */
  drainMs?: number | undefined;
  /** send only: accepted / (load seconds + drain seconds). */
  completedPerS?: number | undefined;
};

export async function runOne(kind: ServerKind, sc: Scenario, round: number, o: Options, sdk: Sdk, syncMode: SyncMode): Promise<RunRecord> {
  const server = await startServer(kind, o);
  try {
    await registerAndProbe(server, sdk.url);
    const tag = `r${round}${kind[0]}${Date.now().toString(36)}`;
    if (o.warmupS > 0) {
      const w = await runLoad({ ...sc.load(server.ingressUrl, o, `w${tag}`), durationS: o.warmupS });
      if (sc.drain) {
        await drainSink(sdk, w.ok, o.drainTimeoutS);
        await delay(300);
      }
    }
    if (sc.drain) await sinkCount(sdk, true);

    const perf = syncMode === "perf" ? await perfCounter(server.pid) : undefined;
    const cpu0 = readCpuMs(server.pid);
    const written0 = readWriteBytes(server.pid);
    const sdkCpu0 = readCpuMs(sdk.pid);
    await sdkPauses(sdk, true);
    const snap0 = readCpuSnapshot();
    const t0 = performance.now();
    const load = await runLoad(sc.load(server.ingressUrl, o, `m${tag}`));
    let drainMs: number | undefined;
    if (sc.drain) drainMs = (await drainSink(sdk, load.ok, o.drainTimeoutS)).ms;
    const serverCpuMs = readCpuMs(server.pid) - cpu0;
    const written1 = readWriteBytes(server.pid);
    const sdkCpuMs = readCpuMs(sdk.pid) - sdkCpu0;
    const pauses = await sdkPauses(sdk);
    const wallMs = performance.now() - t0;
    const foreign = foreignCpu(snap0, readCpuSnapshot(), serverCpuMs + sdkCpuMs);
    const foreignCores = foreign.userMs / wallMs;
    const kernelThreadCores = foreign.kernelMs / wallMs;
    let sync = perf ? await perf.stop() : undefined;
    const hwmKb = readStatusKb(server.pid, "VmHWM");
    const requests = load.ok;
    let syncRequests = requests;

    if (syncMode === "strace") {
      // A separate short pass: strace stops the process on every syscall, so it must not touch the measured run.
      const passS = Math.min(3, o.durationS);
      if (sc.drain) await sinkCount(sdk, true);
      let passOk = 0;
      sync = await straceCount(server.pid, async () => {
        const r = await runLoad({ ...sc.load(server.ingressUrl, o, `s${tag}`), durationS: passS });
        passOk = r.ok;
        if (sc.drain) await drainSink(sdk, r.ok, o.drainTimeoutS);
      });
      syncRequests = passOk;
    }
    const per = (ms: number) => (requests > 0 ? (ms * 1000) / requests : NaN);
    const record: RunRecord = {
      server: kind,
      scenario: sc.name,
      round,
      startupMs: server.startupMs,
      startupCpuMs: server.startupCpuMs,
      load,
      requests,
      serverCpuMs,
      sdkCpuMs,
      serverCpuUsPerReq: per(serverCpuMs),
      sdkCpuUsPerReq: per(sdkCpuMs),
      loadCpuUsPerReq: per(load.loadCpuMs),
      peakRssMb: hwmKb !== undefined ? hwmKb / 1024 : undefined,
      foreignCores,
      kernelThreadCores,
      kernelThreadUsPerReq: per(foreign.kernelMs),
      diskKbPerReq: written0 !== undefined && written1 !== undefined && requests > 0 ? (written1 - written0) / 1024 / requests : undefined,
      fsyncPerReq: sync && syncRequests > 0 ? (sync.fsync + sync.fdatasync) / syncRequests : undefined,
      sync: sync ? { ...sync, requests: syncRequests } : undefined,
      sdkPauses: pauses,
    };
    if (sc.drain) {
      record.drainMs = drainMs;
      record.completedPerS = drainMs !== undefined ? load.ok / (o.durationS + drainMs / 1000) : undefined;
    }
    return record;
  } catch (err) {
    const alive = existsSync(`/proc/${server.pid}`);
    throw new RunError(`${kind}/${sc.name} round ${round}: ${(err as Error).message}${alive ? "" : " (the server process had exited)"}`, server.logs());
  } finally {
    await disposeServer(server);
  }
}

/** A failed run: the message and the tail of the server's output. */
export class RunError extends Error {
  readonly logsTail: string;
  constructor(message: string, logs: string) {
    super(message);
    this.logsTail = logs.split("\n").slice(-40).join("\n");
  }
}
