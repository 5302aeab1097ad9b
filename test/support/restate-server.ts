// Starts the real reference server (restate-server from @restatedev/restate-server) as a child
// process with a fresh base dir and free ports for all three TCP listeners (ingress, admin,
// node-to-node), TCP only (no unix sockets), so several instances and perdure can run side by side.
// Same lifecycle shape as PerdureProcess; used by the differential tests.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { spawnManaged, waitUntilHealthy, type ExitStatus, type ManagedChild } from "./child-process.ts";
import { freePorts } from "./free-port.ts";
import { REPO_ROOT } from "./perdure-process.ts";
import { makeTempDir, removeTempDir } from "./temp-dir.ts";

export type RestateServerOptions = {
  /** Extra RESTATE_* (or other) environment; applied last, so it overrides the harness settings. */
  env?: Record<string, string>;
  /** Sets experimental-enable-protocol-v7 (the server speaks V6 by default). */
  protocolV7?: boolean;
  /** worker.invoker.inactivity-timeout, e.g. "5s" (default "1m"). */
  inactivityTimeout?: string;
  /** Extra command-line arguments. */
  extraArgs?: string[];
  /** How long to wait for readiness; default 15 s. */
  readyTimeoutMs?: number;
};

export type RestateServerProcess = {
  readonly ingressUrl: string;
  readonly adminUrl: string;
  readonly ingressPort: number;
  readonly adminPort: number;
  /** Port of the node-to-node (message fabric) listener, 5122 by default. */
  readonly nodePort: number;
  /** Base dir (the server keeps its data in `<baseDir>/<node name>/`). */
  readonly baseDir: string;
  readonly pid: number | undefined;
  logs(): string;
  /** Sends `signal` (default SIGKILL) and resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** SIGTERM, waits for exit (SIGKILL after 10 s), returns the exit code (null if killed by a signal). */
  stop(): Promise<number | null>;
  /** Starts it again on the same base dir and ports. */
  restart(): Promise<void>;
  /** Stops it if running and removes the base dir. */
  dispose(): Promise<void>;
};

/** Path of the native restate-server binary of this platform's package. */
export function restateServerBinary(): string {
  const require = createRequire(import.meta.url);
  try {
    return require.resolve(`@restatedev/restate-server-${os.platform()}-${os.arch()}/bin/restate-server`);
  } catch {
    // The launcher script of @restatedev/restate-server finds the same binary and forwards signals.
    const launcher = path.join(REPO_ROOT, "node_modules", ".bin", "restate-server");
    if (existsSync(launcher)) return launcher;
    throw new Error(`no restate-server binary for ${os.platform()}-${os.arch()} in node_modules`);
  }
}

export async function startRestateServer(opts: RestateServerOptions = {}): Promise<RestateServerProcess> {
  const baseDir = await makeTempDir("restate-ref-");
  const [ingressPort, adminPort, nodePort] = (await freePorts(3)) as [number, number, number];
  const ingressUrl = `http://127.0.0.1:${ingressPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;

  // Start from this process's environment minus any RESTATE_* settings of the developer's shell.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("RESTATE_")) env[key] = value;
  }
  Object.assign(env, {
    RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingressPort}`,
    RESTATE_INGRESS__ADVERTISED_INGRESS_ENDPOINT: `${ingressUrl}/`,
    RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${adminPort}`,
    RESTATE_ADMIN__ADVERTISED_ADMIN_ENDPOINT: `${adminUrl}/`,
    RESTATE_BIND_ADDRESS: `127.0.0.1:${nodePort}`,
    RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${nodePort}/`,
    RESTATE_LISTEN_MODE: "tcp",
    RESTATE_DISABLE_TELEMETRY: "true",
    RESTATE_LOG_FORMAT: "compact",
    RESTATE_LOG_DISABLE_ANSI_CODES: "true",
    ...(opts.protocolV7 ? { RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7: "true" } : {}),
    ...(opts.inactivityTimeout ? { RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT: opts.inactivityTimeout } : {}),
    ...opts.env,
  });
  const binary = restateServerBinary();
  const args = ["--base-dir", baseDir, "--no-logo", ...(opts.extraArgs ?? [])];

  const earlierLogs: string[] = [];
  let runs = 0;
  let child: ManagedChild;
  const launch = async () => {
    runs++;
    child = spawnManaged(`restate-server#${runs}`, binary, args, { cwd: baseDir, env });
    await waitUntilHealthy(child, [`${adminUrl}/health`, `${ingressUrl}/restate/health`], opts.readyTimeoutMs);
  };
  try {
    await launch();
  } catch (err) {
    await removeTempDir(baseDir);
    throw err;
  }

  return {
    ingressUrl,
    adminUrl,
    ingressPort,
    adminPort,
    nodePort,
    baseDir,
    get pid() {
      return child.pid;
    },
    logs: () => [...earlierLogs, child.logs()].join("\n"),
    kill: (signal) => child.kill(signal),
    async stop() {
      return (await child.stop()).code;
    },
    async restart() {
      await child.stop();
      earlierLogs.push(child.logs(), `----- ${child.name} exited, restarting -----`);
      await launch();
    },
    async dispose() {
      await child.stop();
      await removeTempDir(baseDir);
    },
  };
}
