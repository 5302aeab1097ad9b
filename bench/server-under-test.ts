// The servers under test: starting perdure or the real Restate server fresh (measuring startup time and
// startup CPU), registering the SDK deployment and probing the ingress, and stopping them within a bound.
import { mkdirSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { registerDeployment } from "../test/support/admin-client.ts";
import { startPerdure } from "../test/support/perdure-process.ts";
import { startRestateServer } from "../test/support/restate-server.ts";
import type { Options, ServerKind } from "./options.ts";
import { readCpuMs } from "./proc-stats.ts";

export type ServerHandle = {
  ingressUrl: string;
  adminUrl: string;
  pid: number;
  startupMs: number;
  /** CPU the server process used until it was ready (less sensitive to a busy machine than startupMs). */
  startupCpuMs: number;
  logs(): string;
  dispose(): Promise<void>;
};

export async function startServer(kind: ServerKind, o: Options): Promise<ServerHandle> {
  const t0 = performance.now();
  if (kind === "perdure") {
    const env: Record<string, string> = { ...o.perdureEnv };
    if (o.cpuProfDir) {
      mkdirSync(o.cpuProfDir, { recursive: true });
      env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${o.cpuProfDir}`.trim();
    }
    const p = await startPerdure({ extraArgs: ["--log-level", "warn", ...o.perdureArgs], env, readyTimeoutMs: 30_000 });
    const startupMs = performance.now() - t0;
    const startupCpuMs = readCpuMs(p.pid!);
    return { ingressUrl: p.ingressUrl, adminUrl: p.adminUrl, pid: p.pid!, startupMs, startupCpuMs, logs: () => p.logs(), dispose: () => p.dispose() };
  }
  const r = await startRestateServer({ readyTimeoutMs: 60_000 });
  const startupMs = performance.now() - t0;
  const startupCpuMs = readCpuMs(r.pid!);
  return { ingressUrl: r.ingressUrl, adminUrl: r.adminUrl, pid: r.pid!, startupMs, startupCpuMs, logs: () => r.logs(), dispose: () => r.dispose() };
}

/** dispose(), bounded: a server that does not go away in 20 s is SIGKILLed by pid. */
export async function disposeServer(server: ServerHandle): Promise<void> {
  try {
    await withTimeout(server.dispose(), 20_000, "stopping the server");
  } catch (err) {
    console.error(`bench: ${(err as Error).message}; killing pid ${server.pid}`);
    try {
      process.kill(server.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export async function registerAndProbe(server: ServerHandle, sdkUrl: string): Promise<void> {
  const res = await withTimeout(registerDeployment(server.adminUrl, sdkUrl), 30_000, "registering the deployment");
  if (res.status !== 201 && res.status !== 200) throw new Error(`registering ${sdkUrl} failed: ${res.status} ${JSON.stringify(res.body)}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`${server.ingressUrl}/BenchSvc/noop`, { method: "POST", signal: AbortSignal.timeout(5000) });
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`the ingress does not answer BenchSvc/noop after registration. Logs:\n${server.logs()}`);
    await delay(50);
  }
}

/** Rejects after `ms` with a message naming `what`. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
