// Starts perdure (src/main.js) as a child process on free ports with its own data dir, waits until
// its admin /health and ingress /restate/health answer, and lets a test stop, kill and restart it
// on the same data dir and ports (crash/recovery tests).
import { fileURLToPath } from "node:url";
import { spawnManaged, waitUntilHealthy, type ExitStatus, type ManagedChild } from "./child-process.ts";
import { freePorts } from "./free-port.ts";
import { makeTempDir, removeTempDir } from "./temp-dir.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Node flags perdure is started with by `npm start` and the `perdure` bin (see package.json). */
export const PERDURE_NODE_FLAGS = ["--max-semi-space-size=8", "--max-old-space-size=256"];

export type PerdureOptions = {
  /** Data dir to use; default a fresh temp dir (removed by dispose()). */
  dataDir?: string;
  /** Extra environment, on top of this process's environment. */
  env?: Record<string, string>;
  /** Extra command-line arguments after the standard ones. */
  extraArgs?: string[];
  /** Fixed ports; default free ports. */
  ingressPort?: number;
  adminPort?: number;
  /** How long to wait for readiness; default 15 s. */
  readyTimeoutMs?: number;
  /** Script to run, relative to the repo root (or absolute); default src/main.js. */
  entry?: string;
};

export type PerdureProcess = {
  readonly ingressUrl: string;
  readonly adminUrl: string;
  readonly ingressPort: number;
  readonly adminPort: number;
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** Output of the current run (and of earlier runs, separated by a marker line). */
  logs(): string;
  /** Sends `signal` (default SIGKILL) and resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** SIGTERM, waits for exit (SIGKILL after 10 s), returns the exit code (null if killed by a signal). */
  stop(): Promise<number | null>;
  /** Starts a new process on the same data dir and ports (stops the current one first if running). */
  restart(): Promise<void>;
  /** Stops the process if running and removes the data dir if the harness created it. */
  dispose(): Promise<void>;
};

export async function startPerdure(opts: PerdureOptions = {}): Promise<PerdureProcess> {
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await makeTempDir("perdure-data-"));
  let ingressPort = opts.ingressPort;
  let adminPort = opts.adminPort;
  if (ingressPort === undefined || adminPort === undefined) {
    const [a, b] = await freePorts(2);
    ingressPort ??= a as number;
    adminPort ??= b as number;
  }
  const ingressUrl = `http://127.0.0.1:${ingressPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const args = [
    // The same V8 settings `npm start` and the `perdure` command use (young generation, heap cap), then any
    // extra Node flags for experiments (env PERDURE_EXTRA_NODE_FLAGS, space-separated; later flags win).
    ...PERDURE_NODE_FLAGS,
    ...(process.env.PERDURE_EXTRA_NODE_FLAGS ?? "").split(" ").filter((f) => f !== ""),
    opts.entry ?? "src/main.js",
    "--ingress-port",
    String(ingressPort),
    "--admin-port",
    String(adminPort),
    "--data-dir",
    dataDir,
    ...(opts.extraArgs ?? []),
  ];
  const env = { ...process.env, ...opts.env };

  const earlierLogs: string[] = [];
  let runs = 0;
  let child: ManagedChild;

  const launch = async () => {
    runs++;
    child = spawnManaged(`perdure#${runs}`, process.execPath, args, { cwd: REPO_ROOT, env });
    try {
      await waitUntilHealthy(child, [`${adminUrl}/health`, `${ingressUrl}/restate/health`], opts.readyTimeoutMs);
    } catch (err) {
      if (ownsDataDir && runs === 1) await removeTempDir(dataDir);
      throw err;
    }
  };
  await launch();

  return {
    ingressUrl,
    adminUrl,
    ingressPort,
    adminPort,
    dataDir,
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
      if (ownsDataDir) await removeTempDir(dataDir);
    },
  };
}
