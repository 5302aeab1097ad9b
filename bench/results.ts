// The results of a benchmark: the figures per scenario and server (the quietest round, or medians over the
// rounds), the whole results object written as JSON (options, machine, every run, failures), and its path.
import { existsSync } from "node:fs";
import path from "node:path";
import type { MachineFacts } from "./machine-facts.ts";
import { SCENARIOS, type Options, type ScenarioName, type ServerKind } from "./options.ts";
import type { RunRecord } from "./run-one.ts";
import { SCENARIO_DEFS } from "./scenarios.ts";
import type { CeilingRecord } from "./sdk-process.ts";

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
  diskKbPerReq: number | undefined;
  sdkCpuUsPerReq: number;
  loadCpuUsPerReq: number;
  /** Highest foreign CPU (cores) among the runs aggregated. */
  foreignCores: number;
  /** Runs this figure set was chosen or aggregated from. */
  rounds: number;
  kernelThreadUsPerReq: number;
  drainMs?: number | undefined;
  completedPerS?: number | undefined;
  /** SDK process: GC pause time per second of the window, longest GC pause, event-loop delay p99 and max. */
  sdkGcMsPerS: number | undefined;
  sdkGcMaxMs: number | undefined;
  sdkLoopDelayP99Ms: number | undefined;
  sdkLoopDelayMaxMs: number | undefined;
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
    diskKbPerReq: m((r) => r.diskKbPerReq),
    sdkCpuUsPerReq: m((r) => r.sdkCpuUsPerReq) ?? NaN,
    loadCpuUsPerReq: m((r) => r.loadCpuUsPerReq) ?? NaN,
    foreignCores: Math.max(...runs.map((r) => r.foreignCores)),
    rounds: all.length,
    kernelThreadUsPerReq: m((r) => r.kernelThreadUsPerReq) ?? NaN,
    sdkGcMsPerS: m((r) => (r.sdkPauses ? r.sdkPauses.gcTotalMs / (r.load.elapsedS + (r.drainMs ?? 0) / 1000) : undefined)),
    sdkGcMaxMs: m((r) => r.sdkPauses?.gcMaxMs),
    sdkLoopDelayP99Ms: m((r) => r.sdkPauses?.loopDelayP99Ms),
    sdkLoopDelayMaxMs: m((r) => r.sdkPauses?.loopDelayMaxMs),
  };
  if (runs.some((r) => r.scenario === "send")) {
    figures.drainMs = m((r) => r.drainMs);
    figures.completedPerS = m((r) => r.completedPerS);
  }
  return figures;
}

type Summary = { scenario: ScenarioName; perdure?: Figures; restate?: Figures };

export type Failure = { server: ServerKind; scenario: ScenarioName; round: number; error: string; logsTail: string };

export function buildResults(
  o: Options,
  machine: MachineFacts,
  runs: RunRecord[],
  failures: Failure[],
  sdkCeiling: CeilingRecord | undefined,
  syncMethod: string,
  date = new Date().toISOString(),
  firstStartMs: Partial<Record<ServerKind, number>> = {},
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
    `perdure with fsync on (its default: SQLite WAL with an fdatasync of the WAL after each commit, group-committed, before the batch's effects run: replies, 202s and results handed to the SDK; only a new invocation's first attempt may start while its batch syncs${o.perdureArgs.length ? `; extra args ${o.perdureArgs.join(" ")}` : ""}); ` +
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
    firstStartMs,
  };
}

export function resultsPath(o: Options): string {
  const date = new Date().toISOString().slice(0, 10);
  const set = o.scenarios.length === SCENARIOS.length ? "all" : o.scenarios.join("+");
  const base = `${date}-${set}${o.tag ? `-${o.tag}` : ""}`;
  let name = base;
  for (let i = 2; existsSync(path.join(o.outDir, `${name}.json`)); i++) name = `${base}-${i}`;
  return path.join(o.outDir, name);
}

export type Results = ReturnType<typeof buildResults>;
