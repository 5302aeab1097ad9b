// Benchmark: perdure vs the real Restate server (@restatedev/restate-server) on this machine.
//
//   npm run bench                                    # all scenarios, 15 s per run, 3 s warm-up
//   npm run bench -- --duration 5 --scenarios noop,steps   # quick run (~1 minute)
//   npm run bench -- --help
//
// One SDK process (bench/services.ts, h2c) serves both servers. Each server starts fresh per scenario
// with a fresh data dir; the two alternate (perdure, restate, perdure, restate, ...). Load is a closed loop of
// HTTP/1.1 keep-alive connections from autocannon in its own process (bench/load.ts). Per scenario and server
// the runner records requests/s, non-2xx, p50/p90/p99 latency, server CPU per request (/proc/<pid>/stat
// utime+stime), peak RSS (VmHWM), startup time (spawn until admin and ingress health answer 200; polled
// every 20 ms), and fsync+fdatasync calls per request (perf syscall tracepoints during the measured window;
// else a separate short strace pass; else n/a). Results go to bench/results/<date>-<scenarios>.{json,md}.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { registerDeployment } from "../test/support/admin-client.ts";
import { spawnManaged, type ManagedChild } from "../test/support/child-process.ts";
import { freePorts } from "../test/support/free-port.ts";
import { startPerdure } from "../test/support/perdure-process.ts";
import { startRestateServer } from "../test/support/restate-server.ts";
import type { LoadResult, LoadSpec, PathSpec } from "./load.ts";
import type { CeilingSpec } from "./sdk-ceiling.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BENCH = path.join(ROOT, "bench");
const CLK_TCK = 100; // USER_HZ; checked against getconf at start

// ---------------------------------------------------------------------------------------------------------
// Options

const SCENARIOS = ["noop", "steps", "counter", "send", "workflow", "sleep", "latency"] as const;
type ScenarioName = (typeof SCENARIOS)[number];
const SERVERS = ["perdure", "restate"] as const;
type ServerKind = (typeof SERVERS)[number];

const HELP = `npm run bench -- [options]   (each option also as env BENCH_<NAME>, e.g. BENCH_DURATION=5)
  --duration S        measured seconds per run (default 15)
  --warmup S          warm-up seconds before each measured run (default 3)
  --connections N     closed-loop connections (default 32)
  --scenarios LIST    comma list of ${SCENARIOS.join(",")} (default all)
  --servers LIST      perdure,restate (default both; alternating)
  --rounds N          repetitions of each server per scenario, A,B,A,B... (default 1)
  --aggregate MODE    with rounds > 1: quietest (figures of the round least disturbed by other processes;
                      default) or median (median of each figure over the rounds)
  --report FILE.json  re-render the Markdown of an earlier results file (e.g. with another --aggregate)
  --sleep-ms MS       ctx.sleep duration of the sleep scenario (default 10)
  --drain-timeout S   max wait for /send invocations to complete (default 120)
  --fsync-count MODE  auto|perf|strace|off (default auto: perf if usable, else strace pass, else n/a)
  --sdk-ceiling B     true|false: also drive the SDK endpoint directly (default true)
  --perdure-args STR  extra perdure CLI args (recorded in the results); write it with '=' since the value
                      starts with a dash: --perdure-args="--fsync false"
  --perdure-env STR   extra perdure environment, ';'-separated K=V, e.g. "NODE_OPTIONS=--max-old-space-size=64;NODE_COMPILE_CACHE=/tmp/cc"
  --cpu-prof DIR      run perdure with --cpu-prof into DIR (slows perdure; results are labelled)
  --out DIR           results directory (default bench/results)
  --tag STR           extra suffix for the results file name`;

type Options = {
  durationS: number;
  warmupS: number;
  connections: number;
  scenarios: ScenarioName[];
  servers: ServerKind[];
  rounds: number;
  aggregate: "quietest" | "median";
  report: string | undefined;
  sleepMs: number;
  drainTimeoutS: number;
  fsyncCount: "auto" | "perf" | "strace" | "off";
  sdkCeiling: boolean;
  perdureArgs: string[];
  perdureEnv: Record<string, string>;
  cpuProfDir: string | undefined;
  outDir: string;
  tag: string | undefined;
};

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      scenarios: { type: "string" },
      servers: { type: "string" },
      rounds: { type: "string" },
      aggregate: { type: "string" },
      report: { type: "string" },
      "sleep-ms": { type: "string" },
      "drain-timeout": { type: "string" },
      "fsync-count": { type: "string" },
      "sdk-ceiling": { type: "string" },
      "perdure-args": { type: "string" },
      "perdure-env": { type: "string" },
      "cpu-prof": { type: "string" },
      out: { type: "string" },
      tag: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const get = (name: keyof typeof values & string): string | undefined => {
    const v = values[name];
    if (typeof v === "string") return v;
    return process.env[`BENCH_${name.toUpperCase().replaceAll("-", "_")}`];
  };
  const num = (name: keyof typeof values & string, def: number, min: number): number => {
    const raw = get(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: '${raw}' is not a number >= ${min}`);
    return n;
  };
  const list = <T extends string>(name: keyof typeof values & string, all: readonly T[]): T[] => {
    const raw = get(name);
    if (raw === undefined || raw === "" || raw === "all") return [...all];
    const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
    for (const s of items) if (!all.includes(s as T)) throw new Error(`--${name}: unknown '${s}' (known: ${all.join(", ")})`);
    return all.filter((a) => items.includes(a));
  };
  const aggregate = get("aggregate") ?? "quietest";
  if (aggregate !== "quietest" && aggregate !== "median") throw new Error(`--aggregate: '${aggregate}' is not quietest|median`);
  const fsyncCount = get("fsync-count") ?? "auto";
  if (!["auto", "perf", "strace", "off"].includes(fsyncCount)) throw new Error(`--fsync-count: '${fsyncCount}' is not auto|perf|strace|off`);
  const perdureArgs = (get("perdure-args") ?? "").split(/\s+/).filter(Boolean);
  const cpuProf = get("cpu-prof");
  const perdureEnv: Record<string, string> = {};
  for (const kv of (get("perdure-env") ?? "").split(";").map((x) => x.trim()).filter(Boolean)) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new Error(`--perdure-env: '${kv}' is not K=V`);
    perdureEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    durationS: num("duration", 15, 1),
    warmupS: num("warmup", 3, 0),
    connections: Math.round(num("connections", 32, 1)),
    scenarios: list("scenarios", SCENARIOS),
    servers: list("servers", SERVERS),
    rounds: Math.round(num("rounds", 1, 1)),
    aggregate,
    report: get("report"),
    sleepMs: num("sleep-ms", 10, 0),
    drainTimeoutS: num("drain-timeout", 120, 1),
    fsyncCount: fsyncCount as Options["fsyncCount"],
    sdkCeiling: (get("sdk-ceiling") ?? "true") !== "false",
    perdureArgs,
    perdureEnv,
    cpuProfDir: cpuProf ? path.resolve(cpuProf) : undefined,
    outDir: path.resolve(get("out") ?? path.join(BENCH, "results")),
    tag: get("tag"),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios

type Scenario = {
  readonly name: ScenarioName;
  readonly description: string;
  /** Load shape; `tag` makes keys unique per phase where the scenario needs fresh keys. */
  load(url: string, o: Options, tag: string): LoadSpec;
  /** /send: wait until every accepted invocation has run. */
  readonly drain?: boolean;
};

function spec(url: string, o: Options, p: PathSpec, extra: Partial<LoadSpec> = {}): LoadSpec {
  return { url, connections: o.connections, durationS: o.durationS, path: p, ...extra };
}

const SCENARIO_DEFS: Record<ScenarioName, Scenario> = {
  noop: {
    name: "noop",
    description: "POST /BenchSvc/noop: a service handler that returns at once",
    load: (url, o) => spec(url, o, { kind: "fixed", path: "/BenchSvc/noop" }),
  },
  steps: {
    name: "steps",
    description: "POST /BenchSvc/threeSteps: three ctx.run steps",
    load: (url, o) => spec(url, o, { kind: "fixed", path: "/BenchSvc/threeSteps" }),
  },
  counter: {
    name: "counter",
    description: "POST /BenchCounter/k{0..63}/add: virtual-object get+set, keys round-robin over 64",
    load: (url, o) => spec(url, o, { kind: "keys", prefix: "/BenchCounter/k", suffix: "/add", keys: 64 }, { body: "1", contentType: "application/json" }),
  },
  send: {
    name: "send",
    description: "POST /BenchSvc/sink/send (202 once accepted); then the time until every accepted invocation ran",
    load: (url, o) => spec(url, o, { kind: "fixed", path: "/BenchSvc/sink/send" }),
    drain: true,
  },
  workflow: {
    name: "workflow",
    description: "POST /BenchWf/<unique id>/run: one workflow run per fresh id, returning at once",
    load: (url, o, tag) => spec(url, o, { kind: "unique", prefix: "/BenchWf/", suffix: "/run", tag }),
  },
  sleep: {
    name: "sleep",
    description: "POST /BenchSvc/sleep {ms}: one durable ctx.sleep (10 ms by default)",
    load: (url, o) => spec(url, o, { kind: "fixed", path: "/BenchSvc/sleep" }, { body: JSON.stringify({ ms: o.sleepMs }), contentType: "application/json" }),
  },
  latency: {
    name: "latency",
    description: "POST /BenchSvc/noop over one connection, sequential: unloaded latency",
    load: (url, o) => spec(url, o, { kind: "fixed", path: "/BenchSvc/noop" }, { connections: 1 }),
  },
};

// ---------------------------------------------------------------------------------------------------------
// /proc readings

function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/**
 * CPU accounting of the measured window, to tell whether other users of the machine competed for the cores.
 * foreign = machine-wide user+nice+system (/proc/stat; interrupts and softirq excluded, as our own loopback
 * traffic causes them) minus our processes (server, SDK, and this runner including its reaped children: the
 * load generator and perf) minus kernel threads (jbd2, kworkers: mostly journal commits and writeback the
 * servers cause themselves, reported separately).
 */
type CpuSnapshot = { machineMs: number; runnerMs: number; kernelThreads: Map<number, number> };

function readTicks(pid: number | "self", withChildren: boolean): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
}

function readCpuSnapshot(): CpuSnapshot {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const [user = 0, nice = 0, system = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const kernelThreads = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(f[1]);
    if (pid === 2 || ppid === 2 || (Number(f[6]) & 0x00200000) !== 0 /* PF_KTHREAD */) {
      kernelThreads.set(pid, ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK);
    }
  }
  return {
    machineMs: ((user + nice + system) * 1000) / CLK_TCK,
    runnerMs: ((readTicks("self", true) ?? 0) * 1000) / CLK_TCK,
    kernelThreads,
  };
}

function foreignCpu(a: CpuSnapshot, b: CpuSnapshot, serverAndSdkMs: number): { userMs: number; kernelMs: number } {
  let kernelMs = 0;
  for (const [pid, ms] of b.kernelThreads) kernelMs += Math.max(0, ms - (a.kernelThreads.get(pid) ?? 0));
  const ours = serverAndSdkMs + (b.runnerMs - a.runnerMs);
  return { userMs: Math.max(0, b.machineMs - a.machineMs - ours - kernelMs), kernelMs };
}

function readStatusKb(pid: number, key: string): number | undefined {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Child processes of the runner (load generators, tracers): killed if the runner exits early.

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => process.exit(130));

function runJsonChild<T>(script: string, arg: unknown, timeoutS: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(BENCH, script), JSON.stringify(arg)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    const killer = setTimeout(() => child.kill("SIGKILL"), timeoutS * 1000);
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(killer);
      children.delete(child);
      const line = out.trim().split("\n").pop() ?? "";
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(line) as T);
      } catch (e) {
        reject(new Error(`${script} failed (${(e as Error).message}): ${err || out}`));
      }
    });
  });
}

const runLoad = (s: LoadSpec) => runJsonChild<LoadResult>("load.ts", s, s.durationS + 60);

/** Rejects after `ms` with a message naming `what`. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------------------
// fsync counting

type SyncCounts = { fsync: number; fdatasync: number; syncFileRange: number; method: "perf" | "strace" };

function perfUsable(): boolean {
  const r = spawnSync("perf", ["stat", "-x,", "-e", "syscalls:sys_enter_fsync", "--", "true"], { encoding: "utf8" });
  return r.status === 0 && /sys_enter_fsync/.test(r.stderr) && !/not supported|<not counted>/.test(r.stderr);
}

function straceUsable(): boolean {
  return spawnSync("strace", ["-V"], { encoding: "utf8" }).status === 0;
}

const SYNC_EVENTS = ["fsync", "fdatasync", "sync_file_range"];

/** Counts the sync syscalls of every thread of `pid` (present and future) until stop(). */
async function perfCounter(pid: number): Promise<{ stop(): Promise<SyncCounts | undefined> }> {
  const child = spawn("perf", ["stat", "-x,", "-e", SYNC_EVENTS.map((e) => `syscalls:sys_enter_${e}`).join(","), "-p", String(pid)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.add(child);
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  await delay(150); // let perf attach
  return {
    async stop() {
      child.kill("SIGINT");
      await Promise.race([closed, delay(5000)]);
      children.delete(child);
      const count = (e: string) => {
        const m = new RegExp(`^(\\d+),[^\\n]*syscalls:sys_enter_${e}\\b`, "m").exec(err);
        return m ? Number(m[1]) : undefined;
      };
      const fsync = count("fsync");
      const fdatasync = count("fdatasync");
      if (fsync === undefined || fdatasync === undefined) return undefined;
      return { fsync, fdatasync, syncFileRange: count("sync_file_range") ?? 0, method: "perf" };
    },
  };
}

/** strace -c over every thread of `pid` while `during` runs. Slows the traced process a lot. */
async function straceCount(pid: number, during: () => Promise<void>): Promise<SyncCounts | undefined> {
  const tids = readdirSync(`/proc/${pid}/task`);
  const outFile = path.join(os.tmpdir(), `bench-strace-${pid}-${Date.now()}.txt`);
  const args = ["-c", "-f", "-e", `trace=${SYNC_EVENTS.join(",")}`, "-o", outFile, ...tids.flatMap((t) => ["-p", t])];
  const child = spawn("strace", args, { stdio: ["ignore", "ignore", "pipe"] });
  children.add(child);
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  const deadline = Date.now() + 3000;
  while ((err.match(/attached/g) ?? []).length < tids.length && Date.now() < deadline) await delay(20);
  try {
    await during();
  } finally {
    child.kill("SIGINT");
    await Promise.race([closed, delay(10_000)]);
    children.delete(child);
  }
  if (!existsSync(outFile)) return undefined;
  const text = readFileSync(outFile, "utf8");
  rmSync(outFile, { force: true });
  const calls = (name: string): number => {
    const m = new RegExp(`^\\s*[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+(\\d+)\\s+(?:\\d+\\s+)?${name}\\s*$`, "m").exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { fsync: calls("fsync"), fdatasync: calls("fdatasync"), syncFileRange: calls("sync_file_range"), method: "strace" };
}

// ---------------------------------------------------------------------------------------------------------
// Servers

type ServerHandle = {
  ingressUrl: string;
  adminUrl: string;
  pid: number;
  startupMs: number;
  /** CPU the server process used until it was ready (less sensitive to a busy machine than startupMs). */
  startupCpuMs: number;
  logs(): string;
  dispose(): Promise<void>;
};

async function startServer(kind: ServerKind, o: Options): Promise<ServerHandle> {
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
async function disposeServer(server: ServerHandle): Promise<void> {
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

async function registerAndProbe(server: ServerHandle, sdkUrl: string): Promise<void> {
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

// ---------------------------------------------------------------------------------------------------------
// The SDK process

type Sdk = { url: string; statsUrl: string; pid: number; child: ManagedChild };

async function startSdk(): Promise<Sdk> {
  const [port, statsPort] = (await freePorts(2)) as [number, number];
  const child = spawnManaged("sdk", process.execPath, [path.join(BENCH, "services.ts"), "--port", String(port), "--stats-port", String(statsPort)], { cwd: ROOT });
  const deadline = Date.now() + 15_000;
  while (!/listening on/.test(child.logs())) {
    if (child.exitStatus() || Date.now() > deadline) throw new Error(`SDK services did not start:\n${child.logs()}`);
    await delay(20);
  }
  return { url: `http://127.0.0.1:${port}`, statsUrl: `http://127.0.0.1:${statsPort}`, pid: child.pid!, child };
}

async function sinkCount(sdk: Sdk, reset = false): Promise<number> {
  const r = await fetch(`${sdk.statsUrl}/${reset ? "reset" : "count"}`, { method: reset ? "POST" : "GET" });
  return ((await r.json()) as { completed: number }).completed;
}

/** Waits until the sink has seen `target` invocations; returns ms waited, or undefined on timeout. */
async function drainSink(sdk: Sdk, target: number, timeoutS: number): Promise<{ ms: number | undefined; completed: number }> {
  const t0 = performance.now();
  for (;;) {
    const completed = await sinkCount(sdk);
    if (completed >= target) return { ms: performance.now() - t0, completed };
    if (performance.now() - t0 > timeoutS * 1000) return { ms: undefined, completed };
    await delay(20);
  }
}

// ---------------------------------------------------------------------------------------------------------
// One run: fresh server, warm-up, measured load, readings, teardown.

type RunRecord = {
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
  sync: (SyncCounts & { requests: number }) | undefined;
  /**
   * CPU used by userland processes outside the benchmark (other users of the machine) during the measured
   * window, in cores. Above ~0.2 cores the run competed for the 2 cores and its figures are understated.
   */
  foreignCores: number;
  /** CPU of kernel threads (journal commits, writeback, softirq threads) in the window, cores. */
  kernelThreadCores: number;
  kernelThreadUsPerReq: number;
  /** send only: time after the load stopped until every accepted invocation had run. */
  drainMs?: number | undefined;
  /** send only: accepted / (load seconds + drain seconds). */
  completedPerS?: number | undefined;
};

async function runOne(kind: ServerKind, sc: Scenario, round: number, o: Options, sdk: Sdk, syncMode: "perf" | "strace" | "off"): Promise<RunRecord> {
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
    const sdkCpu0 = readCpuMs(sdk.pid);
    const snap0 = readCpuSnapshot();
    const t0 = performance.now();
    const load = await runLoad(sc.load(server.ingressUrl, o, `m${tag}`));
    let drainMs: number | undefined;
    if (sc.drain) drainMs = (await drainSink(sdk, load.ok, o.drainTimeoutS)).ms;
    const serverCpuMs = readCpuMs(server.pid) - cpu0;
    const sdkCpuMs = readCpuMs(sdk.pid) - sdkCpu0;
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
      fsyncPerReq: sync && syncRequests > 0 ? (sync.fsync + sync.fdatasync) / syncRequests : undefined,
      sync: sync ? { ...sync, requests: syncRequests } : undefined,
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
class RunError extends Error {
  readonly logsTail: string;
  constructor(message: string, logs: string) {
    super(message);
    this.logsTail = logs.split("\n").slice(-40).join("\n");
  }
}

// ---------------------------------------------------------------------------------------------------------
// Machine facts

/**
 * Latency of 4 KiB write + sync on the data-dir disk. "overwrite" rewrites the same 64 blocks (no metadata
 * change); "append" grows the file each time (what a WAL or log does until it is recycled: the file system
 * must also commit the size change).
 */
function measureSyncLatency(dir: string, mode: "overwrite" | "append", sync: (fd: number) => void, n = 200): { p50Us: number; p99Us: number; meanUs: number } {
  const file = path.join(dir, `bench-fsync-${process.pid}.dat`);
  const fd = openSync(file, "w");
  const block = Buffer.alloc(4096, 7);
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      writeSync(fd, block, 0, block.length, (mode === "append" ? i : i % 64) * 4096);
      const t0 = performance.now();
      sync(fd);
      times.push((performance.now() - t0) * 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  return { p50Us: times[Math.floor(n * 0.5)]!, p99Us: times[Math.floor(n * 0.99)]!, meanUs: times.reduce((a, b) => a + b, 0) / n };
}

function machineFacts() {
  const cpus = os.cpus();
  const dir = os.tmpdir();
  const fsDesc = spawnSync("df", ["-T", dir], { encoding: "utf8" }).stdout.trim().split("\n").pop()?.split(/\s+/) ?? [];
  const version = (pkg: string) => {
    try {
      return (JSON.parse(readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      return "?";
    }
  };
  const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  // The working tree may carry uncommitted src changes: identify them by a hash of the diff.
  const diff = spawnSync("git", ["diff", "HEAD", "--", "src"], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20 }).stdout;
  const untracked = spawnSync("git", ["ls-files", "--others", "--exclude-standard", "src"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  const dirty = diff !== "" || untracked !== "" ? ` + uncommitted src changes (diff sha256 ${createHash("sha256").update(diff + untracked).digest("hex").slice(0, 12)})` : "";
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? "?",
    memoryGb: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    restateServer: version("@restatedev/restate-server"),
    restateSdk: version("@restatedev/restate-sdk"),
    autocannon: version("autocannon"),
    perdureCommit: `${git.stdout.trim() || "?"}${dirty}`,
    dataDir: { path: dir, device: fsDesc[0] ?? "?", fsType: fsDesc[1] ?? "?" },
    fdatasync4kOverwrite: measureSyncLatency(dir, "overwrite", fdatasyncSync),
    fsync4kAppend: measureSyncLatency(dir, "append", fsyncSync),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Aggregation and output

type Figures = {
  rps: number;
  non2xx: number;
  p50: number;
  p90: number;
  p99: number;
  cpuUsPerReq: number;
  peakRssMb: number | undefined;
  startupMs: number;
  startupCpuMs: number;
  fsyncPerReq: number | undefined;
  sdkCpuUsPerReq: number;
  loadCpuUsPerReq: number;
  /** Highest foreign CPU (cores) among the runs aggregated. */
  foreignCores: number;
  /** Runs this figure set was chosen or aggregated from. */
  rounds: number;
  kernelThreadUsPerReq: number;
  drainMs?: number | undefined;
  completedPerS?: number | undefined;
};

function median(xs: Array<number | undefined>): number | undefined {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1]! + v[m]!) / 2;
}

function aggregate(all: RunRecord[], mode: Options["aggregate"]): Figures {
  // quietest: the figures of the one round that other processes disturbed least.
  const runs = mode === "median" ? all : [all.reduce((a, b) => (b.foreignCores < a.foreignCores ? b : a))];
  const m = (f: (r: RunRecord) => number | undefined) => median(runs.map(f));
  const figures: Figures = {
    rps: m((r) => r.load.rps) ?? NaN,
    non2xx: all.reduce((a, r) => a + r.load.non2xx + r.load.errors, 0),
    p50: m((r) => r.load.latency.p50) ?? NaN,
    p90: m((r) => r.load.latency.p90) ?? NaN,
    p99: m((r) => r.load.latency.p99) ?? NaN,
    cpuUsPerReq: m((r) => r.serverCpuUsPerReq) ?? NaN,
    peakRssMb: m((r) => r.peakRssMb),
    startupMs: m((r) => r.startupMs) ?? NaN,
    startupCpuMs: m((r) => r.startupCpuMs) ?? NaN,
    fsyncPerReq: m((r) => r.fsyncPerReq),
    sdkCpuUsPerReq: m((r) => r.sdkCpuUsPerReq) ?? NaN,
    loadCpuUsPerReq: m((r) => r.loadCpuUsPerReq) ?? NaN,
    foreignCores: Math.max(...runs.map((r) => r.foreignCores)),
    rounds: all.length,
    kernelThreadUsPerReq: m((r) => r.kernelThreadUsPerReq) ?? NaN,
  };
  if (runs.some((r) => r.scenario === "send")) {
    figures.drainMs = m((r) => r.drainMs);
    figures.completedPerS = m((r) => r.completedPerS);
  }
  return figures;
}

const fmt = (v: number | undefined, digits = 0): string => (v === undefined || !Number.isFinite(v) ? "n/a" : v.toFixed(digits));
const fmtMs = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? "n/a" : v < 10 ? v.toFixed(2) : v.toFixed(1));
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? "n/a" : `${(a / b).toFixed(2)}x`;

/** Foreign CPU (cores) above which a run is flagged as disturbed. */
const NOISY_CORES = 0.2;

type Summary = { scenario: ScenarioName; perdure?: Figures; restate?: Figures };

function markdown(results: ReturnType<typeof buildResults>): string {
  const { machine, options, summary, sdkCeiling, durability } = results;
  const lines: string[] = [];
  lines.push(`# perdure vs Restate ${machine.restateServer} — ${results.date}`, "");
  lines.push(
    `Machine: ${machine.cores} cores, ${machine.cpuModel}, ${machine.memoryGb} GB, ${machine.kernel}; Node ${machine.node}.`,
    `Disk of the data dirs (${machine.dataDir.path}, ${machine.dataDir.fsType} on ${machine.dataDir.device}): 4 KiB overwrite + fdatasync p50 ${fmt(machine.fdatasync4kOverwrite.p50Us)} µs, p99 ${fmt(machine.fdatasync4kOverwrite.p99Us)} µs; 4 KiB append + fsync p50 ${fmt(machine.fsync4kAppend.p50Us)} µs, p99 ${fmt(machine.fsync4kAppend.p99Us)} µs.`,
    `Load: autocannon (own process), closed loop, ${options.connections} connections, ${options.durationS} s measured after ${options.warmupS} s warm-up, ${options.rounds} round(s) per server, servers alternating${options.rounds > 1 ? (options.aggregate === "median" ? " (figures: medians over the rounds; non-2xx: total)" : " (figures: the round least disturbed by other processes on the machine; non-2xx: total over all rounds)") : ""}; fresh server and data dir per run. SDK ${machine.restateSdk} over h2c, one process for both servers.`,
    `Durability: ${durability}`,
    `perdure ${machine.perdureCommit}${options.perdureArgs.length ? `, extra args: \`${options.perdureArgs.join(" ")}\`` : ""}${Object.keys(options.perdureEnv).length ? `, extra env: \`${Object.entries(options.perdureEnv).map(([k, v]) => `${k}=${v}`).join("; ")}\`` : ""}${options.cpuProfDir ? ", **running under --cpu-prof**" : ""}.`,
    "",
  );
  lines.push(
    "| scenario | server | req/s | non-2xx | p50 ms | p90 ms | p99 ms | server CPU µs/req | peak RSS MB | startup ms | fsync/req |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const s of summary) {
    for (const kind of SERVERS) {
      const f = s[kind];
      if (!f) continue;
      lines.push(
        `| ${s.scenario} | ${kind} | ${fmt(f.rps)} | ${f.non2xx} | ${fmtMs(f.p50)} | ${fmtMs(f.p90)} | ${fmtMs(f.p99)} | ${fmt(f.cpuUsPerReq)} | ${fmt(f.peakRssMb)} | ${fmt(f.startupMs)} | ${fmt(f.fsyncPerReq, 2)} |`,
      );
    }
    const a = s.perdure;
    const b = s.restate;
    if (a && b) {
      lines.push(
        `| ${s.scenario} | **perdure/restate** | ${ratio(a.rps, b.rps)} | | ${ratio(a.p50, b.p50)} | ${ratio(a.p90, b.p90)} | ${ratio(a.p99, b.p99)} | ${ratio(a.cpuUsPerReq, b.cpuUsPerReq)} | ${ratio(a.peakRssMb, b.peakRssMb)} | ${ratio(a.startupMs, b.startupMs)} | ${ratio(a.fsyncPerReq, b.fsyncPerReq)} |`,
      );
    }
  }
  const sends = summary.filter((s) => s.scenario === "send");
  if (sends.length > 0) {
    lines.push("", "`send`: req/s and latencies are of the 202 acknowledgements; completion after the load stopped:", "");
    lines.push("| server | accepted/s | drain after load s | end-to-end completed/s |", "|---|--:|--:|--:|");
    for (const s of sends) {
      for (const kind of SERVERS) {
        const f = s[kind];
        if (f) lines.push(`| ${kind} | ${fmt(f.rps)} | ${f.drainMs === undefined ? "timeout" : (f.drainMs / 1000).toFixed(2)} | ${fmt(f.completedPerS)} |`);
      }
    }
  }
  lines.push("", "Where the box's CPU goes (µs of CPU per request; 2 cores shared by server, SDK process and load generator):", "");
  lines.push(
    "| scenario | server | server | SDK | load gen | kernel threads | total | server startup CPU ms | other users' processes (cores) |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const s of summary) {
    for (const kind of SERVERS) {
      const f = s[kind];
      if (f) {
        const total = f.cpuUsPerReq + f.sdkCpuUsPerReq + f.loadCpuUsPerReq + f.kernelThreadUsPerReq;
        lines.push(
          `| ${s.scenario} | ${kind} | ${fmt(f.cpuUsPerReq)} | ${fmt(f.sdkCpuUsPerReq)} | ${fmt(f.loadCpuUsPerReq)} | ${fmt(f.kernelThreadUsPerReq)} | ${fmt(total)} | ${fmt(f.startupCpuMs)} | ${f.foreignCores.toFixed(2)}${f.foreignCores > NOISY_CORES ? " ⚠" : ""} |`,
        );
      }
    }
  }
  const disturbed = summary.flatMap((s) => SERVERS.filter((k) => (s[k]?.foreignCores ?? 0) > NOISY_CORES).map((k) => `${s.scenario}/${k} ${s[k]!.foreignCores.toFixed(2)}`));
  if (disturbed.length > 0) {
    lines.push(
      "",
      `⚠ ${disturbed.length} figure set(s) come from runs that shared the machine with other processes using more than ${NOISY_CORES} cores (${disturbed.join(", ")}): ` +
        "those figures are understated (throughput, latency) and the ratios uncertain; rerun on a quiet machine or with more --rounds.",
    );
  }
  if (sdkCeiling) {
    const c = sdkCeiling;
    lines.push(
      "",
      `SDK-only ceiling (bench/sdk-ceiling.ts: Start+Input straight to the SDK endpoint over one h2c session, ${options.connections} concurrent streams, no server): ` +
        `${fmt(c.load.rps)} invocations/s, p50 ${fmtMs(c.load.latency.p50)} ms, p99 ${fmtMs(c.load.latency.p99)} ms; SDK CPU ${fmt(c.sdkCpuUsPerReq)} µs/inv, client CPU ${fmt((c.load.loadCpuMs * 1000) / Math.max(1, c.load.ok))} µs/inv.`,
    );
  }
  if (results.failures.length > 0) {
    lines.push("", `**${results.failures.length} run(s) failed** (details and server output in the JSON):`, "");
    for (const f of results.failures) lines.push(`- ${f.error}`);
  }
  lines.push(
    "",
    "Notes: latency percentiles are over 2xx responses (µs resolution). CPU = utime+stime of the server process (all threads) over the measured window. " +
      "Peak RSS = VmHWM at the end of the run (includes warm-up). Startup = spawn until admin and ingress health answer 200, polled every 20 ms. " +
      `fsync/req = (fsync + fdatasync calls) / requests, counted with ${results.syncMethod}.`,
  );
  return lines.join("\n") + "\n";
}

type Failure = { server: ServerKind; scenario: ScenarioName; round: number; error: string; logsTail: string };

function buildResults(
  o: Options,
  machine: ReturnType<typeof machineFacts>,
  runs: RunRecord[],
  failures: Failure[],
  sdkCeiling: CeilingRecord | undefined,
  syncMethod: string,
  date = new Date().toISOString(),
) {
  const summary: Summary[] = o.scenarios.map((name) => {
    const s: Summary = { scenario: name };
    for (const kind of o.servers) {
      const rs = runs.filter((r) => r.scenario === name && r.server === kind);
      if (rs.length > 0) s[kind] = aggregate(rs, o.aggregate);
    }
    return s;
  });
  const durability =
    `perdure with fsync on (its default: SQLite WAL, synchronous=FULL, every commit fsynced before effects run${o.perdureArgs.length ? `; extra args ${o.perdureArgs.join(" ")}` : ""}); ` +
    "Restate with its defaults (no durability settings changed: its Bifrost log writes RocksDB write batches with sync=true, " +
    "rocksdb-disable-wal-fsync=false, before acknowledging; the partition store relies on the log). Both fsync before a result or 202 is returned.";
  return {
    date,
    options: { ...o },
    machine,
    durability,
    syncMethod,
    scenarios: o.scenarios.map((n) => ({ name: n, description: SCENARIO_DEFS[n].description })),
    summary,
    runs,
    failures,
    sdkCeiling,
  };
}

type CeilingRecord = { load: LoadResult; sdkCpuMs: number; sdkCpuUsPerReq: number };

async function sdkCeilingRun(o: Options, sdk: Sdk): Promise<CeilingRecord> {
  const spec: CeilingSpec = { url: sdk.url, connections: o.connections, durationS: o.durationS };
  if (o.warmupS > 0) await runJsonChild<LoadResult>("sdk-ceiling.ts", { ...spec, durationS: o.warmupS }, o.warmupS + 60);
  const cpu0 = readCpuMs(sdk.pid);
  const load = await runJsonChild<LoadResult>("sdk-ceiling.ts", spec, o.durationS + 60);
  const sdkCpuMs = readCpuMs(sdk.pid) - cpu0;
  return { load, sdkCpuMs, sdkCpuUsPerReq: load.ok > 0 ? (sdkCpuMs * 1000) / load.ok : NaN };
}

function resultsPath(o: Options): string {
  const date = new Date().toISOString().slice(0, 10);
  const set = o.scenarios.length === SCENARIOS.length ? "all" : o.scenarios.join("+");
  const base = `${date}-${set}${o.tag ? `-${o.tag}` : ""}`;
  let name = base;
  for (let i = 2; existsSync(path.join(o.outDir, `${name}.json`)); i++) name = `${base}-${i}`;
  return path.join(o.outDir, name);
}

// ---------------------------------------------------------------------------------------------------------

/** --report: re-aggregates and re-renders an earlier results file (JSON updated in place, Markdown rewritten). */
function rerender(file: string, aggregateMode: Options["aggregate"]): void {
  type Saved = ReturnType<typeof buildResults>;
  const saved = JSON.parse(readFileSync(file, "utf8")) as Saved;
  const o: Options = { ...saved.options, aggregate: aggregateMode, report: undefined };
  const results = buildResults(o, saved.machine, saved.runs, saved.failures ?? [], saved.sdkCeiling, saved.syncMethod, saved.date);
  const base = file.replace(/\.json$/, "");
  const md = markdown(results);
  writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(`${base}.md`, md);
  console.log(md);
  console.error(`bench: rewrote ${path.relative(ROOT, base)}.{json,md}`);
}

async function main(): Promise<void> {
  const o = parseOptions();
  if (o.report) {
    rerender(path.resolve(o.report), o.aggregate);
    return;
  }
  const tck = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim();
  if (tck && Number(tck) !== CLK_TCK) throw new Error(`CLK_TCK is ${tck}, the CPU readings assume ${CLK_TCK}`);

  let syncMode: "perf" | "strace" | "off" = "off";
  if (o.fsyncCount === "perf" || o.fsyncCount === "auto") syncMode = perfUsable() ? "perf" : "off";
  if (syncMode === "off" && (o.fsyncCount === "strace" || o.fsyncCount === "auto")) syncMode = straceUsable() ? "strace" : "off";
  if (o.fsyncCount !== "auto" && o.fsyncCount !== "off" && syncMode !== o.fsyncCount) throw new Error(`--fsync-count ${o.fsyncCount}: not usable on this machine`);
  const syncMethod =
    syncMode === "perf"
      ? "perf stat syscall tracepoints over the measured window (no slowdown)"
      : syncMode === "strace"
        ? "strace -c in a separate 3 s pass (strace slows the server, so batching differs)"
        : "nothing (neither perf nor strace usable): n/a";

  const machine = machineFacts();
  console.error(
    `bench: ${machine.cores} cores ${machine.cpuModel}; fdatasync p50 ${fmt(machine.fdatasync4kOverwrite.p50Us)} µs, append+fsync p50 ${fmt(machine.fsync4kAppend.p50Us)} µs; scenarios ${o.scenarios.join(",")}; ` +
      `${o.durationS} s + ${o.warmupS} s warm-up; ${o.connections} connections; fsync counting: ${syncMode}`,
  );
  const sdk = await startSdk();
  const runs: RunRecord[] = [];
  const failures: Failure[] = [];
  let sdkCeiling: CeilingRecord | undefined;
  try {
    for (const name of o.scenarios) {
      const sc = SCENARIO_DEFS[name];
      for (let round = 1; round <= o.rounds; round++) {
        for (const kind of o.servers) {
          process.stderr.write(`bench: ${name} / ${kind} (round ${round}) ... `);
          let r: RunRecord;
          try {
            r = await runOne(kind, sc, round, o, sdk, syncMode);
          } catch (err) {
            const logsTail = err instanceof RunError ? err.logsTail : "";
            failures.push({ server: kind, scenario: name, round, error: (err as Error).message, logsTail });
            console.error(`FAILED: ${(err as Error).message}${logsTail ? `\n--- server output (tail) ---\n${logsTail}\n---` : ""}`);
            continue;
          }
          runs.push(r);
          console.error(
            `${fmt(r.load.rps)} req/s, p50 ${fmtMs(r.load.latency.p50)} p99 ${fmtMs(r.load.latency.p99)} ms, non-2xx ${r.load.non2xx + r.load.errors}, ` +
              `CPU ${fmt(r.serverCpuUsPerReq)} µs/req, RSS ${fmt(r.peakRssMb)} MB, startup ${fmt(r.startupMs)} ms, fsync/req ${fmt(r.fsyncPerReq, 2)}` +
              (r.drainMs !== undefined ? `, drain ${(r.drainMs / 1000).toFixed(2)} s` : "") +
              `, other procs ${r.foreignCores.toFixed(2)} cores, kernel threads ${r.kernelThreadCores.toFixed(2)} cores`,
          );
        }
      }
    }
    if (o.sdkCeiling) {
      process.stderr.write("bench: SDK-only ceiling ... ");
      try {
        sdkCeiling = await sdkCeilingRun(o, sdk);
        console.error(`${fmt(sdkCeiling.load.rps)} inv/s, SDK CPU ${fmt(sdkCeiling.sdkCpuUsPerReq)} µs/inv`);
      } catch (err) {
        console.error(`FAILED: ${(err as Error).message}`);
      }
    }
  } finally {
    await sdk.child.stop();
  }
  const results = buildResults(o, machine, runs, failures, sdkCeiling, syncMethod);
  mkdirSync(o.outDir, { recursive: true });
  const base = resultsPath(o);
  const md = markdown(results);
  writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(`${base}.md`, md);
  console.log(md);
  console.error(`bench: wrote ${path.relative(ROOT, base)}.{json,md}`);
}

await main();
