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
// else a separate short strace pass; else n/a), and the stalls of the SDK process itself (GC pauses, event-loop
// delay; both servers wait through them). Results go to bench/results/<date>-<scenarios>.{json,md}.
//
// This file is the orchestration (options, machine facts, the runs in order, the SDK ceiling, the results);
// the parts live beside it: options.ts, scenarios.ts, server-under-test.ts, sdk-process.ts, run-one.ts,
// proc-stats.ts, fsync-count.ts, child-processes.ts, machine-facts.ts, results.ts, report.ts.
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { chooseSyncMode } from "./fsync-count.ts";
import { machineFacts } from "./machine-facts.ts";
import { parseOptions, type Options } from "./options.ts";
import { ROOT } from "./paths.ts";
import { checkClockTicks } from "./proc-stats.ts";
import { fmt, fmtMs, writeReport } from "./report.ts";
import { buildResults, resultsPath, type Failure, type Results } from "./results.ts";
import { RunError, runOne, type RunRecord } from "./run-one.ts";
import { SCENARIO_DEFS } from "./scenarios.ts";
import { sdkCeilingRun, startSdk, type CeilingRecord } from "./sdk-process.ts";
import { disposeServer, startServer } from "./server-under-test.ts";
import type { ServerKind } from "./options.ts";

/** --report: re-aggregates and re-renders an earlier results file (JSON updated in place, Markdown rewritten). */
function rerender(file: string, aggregateMode: Options["aggregate"]): void {
  const saved = JSON.parse(readFileSync(file, "utf8")) as Results;
  const o: Options = { ...saved.options, aggregate: aggregateMode, report: undefined };
  const results = buildResults(o, saved.machine, saved.runs, saved.failures ?? [], saved.sdkCeiling, saved.syncMethod, saved.date, saved.firstStartMs);
  const base = file.replace(/\.json$/, "");
  const md = writeReport(base, results);
  console.log(md);
  console.error(`bench: rewrote ${path.relative(ROOT, base)}.{json,md}`);
}

async function main(): Promise<void> {
  const o = parseOptions();
  if (o.report) {
    rerender(path.resolve(o.report), o.aggregate);
    return;
  }
  checkClockTicks();
  const { syncMode, syncMethod } = chooseSyncMode(o.fsyncCount);

  const machine = machineFacts();
  console.error(
    `bench: ${machine.cores} cores ${machine.cpuModel}; fdatasync p50 ${fmt(machine.fdatasync4kOverwrite.p50Us)} µs, append+fsync p50 ${fmt(machine.fsync4kAppend.p50Us)} µs; scenarios ${o.scenarios.join(",")}; ` +
      `${o.durationS} s + ${o.warmupS} s warm-up; ${o.connections} connections; fsync counting: ${syncMode}`,
  );
  // One throwaway start per server first: its time is the first start after install (perdure's compile cache and
  // the reference's binary still cold); every measured run then starts as a server does on its next start.
  const firstStartMs: Partial<Record<ServerKind, number>> = {};
  for (const kind of o.servers) {
    const s = await startServer(kind, o);
    firstStartMs[kind] = s.startupMs;
    await disposeServer(s);
  }
  console.error(`bench: first start ${o.servers.map((k) => `${k} ${fmt(firstStartMs[k])} ms`).join(", ")}`);
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
              `CPU ${fmt(r.serverCpuUsPerReq)} µs/req, RSS ${fmt(r.peakRssMb)} MB, startup ${fmt(r.startupMs)} ms, fsync/req ${fmt(r.fsyncPerReq, 2)}, disk ${fmt(r.diskKbPerReq, 1)} KiB/req` +
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
  const results = buildResults(o, machine, runs, failures, sdkCeiling, syncMethod, undefined, firstStartMs);
  mkdirSync(o.outDir, { recursive: true });
  const base = resultsPath(o);
  const md = writeReport(base, results);
  console.log(md);
  console.error(`bench: wrote ${path.relative(ROOT, base)}.{json,md}`);
}

await main();
