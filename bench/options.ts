// Command-line options of the benchmark runner (`npm run bench -- --help`): the scenario and server names,
// the help text, and parsing of the flags (each also settable as env BENCH_<NAME>) into Options.
import path from "node:path";
import { parseArgs } from "node:util";
import { BENCH } from "./paths.ts";

export const SCENARIOS = ["noop", "steps", "counter", "send", "workflow", "sleep", "latency"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
export const SERVERS = ["perdure", "restate"] as const;
export type ServerKind = (typeof SERVERS)[number];

const HELP = `npm run bench -- [options]   (each option also as env BENCH_<NAME>, e.g. BENCH_DURATION=5)
  --duration S        measured seconds per run (default 15)
  --warmup S          warm-up seconds before each measured run (default 3)
  --connections N     closed-loop connections (default 32)
  --scenarios LIST    comma list of ${SCENARIOS.join(",")} (default all)
  --servers LIST      perdure,restate (default both; alternating)
  --rounds N          repetitions of each server per scenario, A,B,A,B... (default 1)
  --aggregate MODE    with rounds > 1: median (median of each figure over the rounds; default) or quietest
                      (figures of the round least disturbed by other processes)
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

export type Options = {
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

export function parseOptions(): Options {
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
  // Median by default: on a quiet machine every round is "quietest", and one round varies by up to 60%.
  const aggregate = get("aggregate") ?? "median";
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
