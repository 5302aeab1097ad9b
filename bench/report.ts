// Rendering and writing the results: the Markdown report (tables per scenario and server, perdure/restate
// ratios, where the CPU goes, disturbed runs, the SDK ceiling, failures) next to the JSON of the results.
import { writeFileSync } from "node:fs";
import { SERVERS } from "./options.ts";
import type { Results } from "./results.ts";

export const fmt = (v: number | undefined, digits = 0): string => (v === undefined || !Number.isFinite(v) ? "n/a" : v.toFixed(digits));
export const fmtMs = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? "n/a" : v < 10 ? v.toFixed(2) : v.toFixed(1));
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? "n/a" : `${(a / b).toFixed(2)}x`;

/**
 * Appends a Markdown table after a blank line, its introduction and another blank line; the first `textColumns`
 * columns are left-aligned, the others (figures) right-aligned.
 */
function pushTable(lines: string[], intro: string, header: readonly string[], textColumns: number, rows: ReadonlyArray<readonly string[]>): void {
  lines.push("", intro, "", `| ${header.join(" | ")} |`, `|${header.map((_, i) => (i < textColumns ? "---" : "--:")).join("|")}|`);
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
}

/** Foreign CPU (cores) above which a run is flagged as disturbed. */
const NOISY_CORES = 0.2;

function markdown(results: Results): string {
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
    "| scenario | server | req/s | non-2xx | p50 ms | p90 ms | p99 ms | server CPU µs/req | peak RSS MB | startup ms | fsync/req | disk KiB/req |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const s of summary) {
    for (const kind of SERVERS) {
      const f = s[kind];
      if (!f) continue;
      lines.push(
        `| ${s.scenario} | ${kind} | ${fmt(f.rps)} | ${f.non2xx} | ${fmtMs(f.p50)} | ${fmtMs(f.p90)} | ${fmtMs(f.p99)} | ${fmt(f.cpuUsPerReq)} | ${fmt(f.peakRssMb)} | ${fmt(f.startupMs)} | ${fmt(f.fsyncPerReq, 2)} | ${fmt(f.diskKbPerReq, 1)} |`,
      );
    }
    const a = s.perdure;
    const b = s.restate;
    if (a && b) {
      lines.push(
        `| ${s.scenario} | **perdure/restate** | ${ratio(a.rps, b.rps)} | | ${ratio(a.p50, b.p50)} | ${ratio(a.p90, b.p90)} | ${ratio(a.p99, b.p99)} | ${ratio(a.cpuUsPerReq, b.cpuUsPerReq)} | ${ratio(a.peakRssMb, b.peakRssMb)} | ${ratio(a.startupMs, b.startupMs)} | ${ratio(a.fsyncPerReq, b.fsyncPerReq)} | ${ratio(a.diskKbPerReq, b.diskKbPerReq)} |`,
      );
    }
  }
  const spread = roundSpread(results);
  if (spread.length > 0) {
    pushTable(
      lines,
      "Spread behind the medians: perdure/restate of each alternating pair of runs (round 1, 2, ...; the machine drifts, so the pairs differ):",
      ["scenario", "req/s ratio per round", "p99 ratio per round"],
      3,
      spread.map((row) => [row.scenario, row.rps.join(", "), row.p99.join(", ")]),
    );
  }
  const sends = summary.filter((s) => s.scenario === "send");
  /** Every scenario's figures per server, in report order. */
  const runs = summary.flatMap((s) => SERVERS.flatMap((kind) => (s[kind] ? [{ scenario: s.scenario, kind, f: s[kind] }] : [])));
  if (sends.length > 0) {
    pushTable(
      lines,
      "`send`: req/s and latencies are of the 202 acknowledgements; completion after the load stopped:",
      ["server", "accepted/s", "drain after load s", "end-to-end completed/s"],
      1,
      runs
        .filter((r) => r.scenario === "send")
        .map(({ kind, f }) => [kind, fmt(f.rps), f.drainMs === undefined ? "timeout" : (f.drainMs / 1000).toFixed(2), fmt(f.completedPerS)]),
    );
  }
  pushTable(
    lines,
    "Where the box's CPU goes (µs of CPU per request; 2 cores shared by server, SDK process and load generator):",
    ["scenario", "server", "server", "SDK", "load gen", "kernel threads", "total", "server startup CPU ms", "other users' processes (cores)"],
    2,
    runs.map(({ scenario, kind, f }) => [
      scenario,
      kind,
      fmt(f.cpuUsPerReq),
      fmt(f.sdkCpuUsPerReq),
      fmt(f.loadCpuUsPerReq),
      fmt(f.kernelThreadUsPerReq),
      fmt(f.cpuUsPerReq + f.sdkCpuUsPerReq + f.loadCpuUsPerReq + f.kernelThreadUsPerReq),
      fmt(f.startupCpuMs),
      `${f.foreignCores.toFixed(2)}${f.foreignCores > NOISY_CORES ? " ⚠" : ""}`,
    ]),
  );
  const bounded = summary.filter((s) => s.scenario !== "send" && s.scenario !== "latency" && s.perdure && s.restate && s.perdure.sdkCpuUsPerReq > 0);
  if (bounded.length > 0) {
    pushTable(
      lines,
      "What the SDK process alone allows: it runs every invocation on one thread, so at the SDK CPU per request of perdure's runs one full core bounds any server's rate at 10^6 / (SDK µs per request). As a multiple of the reference's rate, that bound is the most any server could reach against the reference with this SDK process on this box (`send` is left out: its 202s do not wait for the SDK, nor `latency`: one request at a time):",
      ["scenario", "SDK µs/req", "SDK one-core bound req/s", "bound / reference req/s", "perdure req/s", "perdure / bound"],
      1,
      bounded.map((s) => {
        const bound = 1e6 / s.perdure!.sdkCpuUsPerReq;
        return [s.scenario, fmt(s.perdure!.sdkCpuUsPerReq), fmt(bound), ratio(bound, s.restate!.rps), fmt(s.perdure!.rps), `${fmt((100 * s.perdure!.rps) / bound)}%`];
      }),
    );
  }
  const stalls = runs.filter((r) => r.f.sdkGcMaxMs !== undefined);
  if (stalls.length > 0) {
    pushTable(
      lines,
      "Stalls of the SDK process in the measured window (the same process serves both servers; every invocation in flight in it waits through them, so they bound the tail latency either server can reach):",
      ["scenario", "server", "SDK GC ms per s", "longest SDK GC pause ms", "SDK event-loop delay p99 ms", "max ms"],
      2,
      stalls.map(({ scenario, kind, f }) => [scenario, kind, fmt(f.sdkGcMsPerS, 1), fmtMs(f.sdkGcMaxMs), fmtMs(f.sdkLoopDelayP99Ms), fmtMs(f.sdkLoopDelayMaxMs)]),
    );
  }
  const disturbed = summary.flatMap((s) => SERVERS.filter((k) => (s[k]?.foreignCores ?? 0) > NOISY_CORES).map((k) => `${s.scenario}/${k} ${s[k]!.foreignCores.toFixed(2)}`));
  if (disturbed.length > 0) {
    lines.push(
      "",
      `⚠ ${disturbed.length} figure set(s) come from runs that shared the machine with other processes using more than ${NOISY_CORES} cores (${disturbed.join(", ")}): ` +
        "those figures are understated (throughput, latency) and the ratios uncertain; rerun on a quiet machine or with more --rounds.",
    );
  }
  const first = results.firstStartMs ?? {};
  if (Object.keys(first).length > 0) {
    lines.push(
      "",
      `First start after install (before the measured runs; perdure's compile cache and the reference binary's pages still cold): ${Object.entries(first)
        .map(([k, v]) => `${k} ${fmt(v)} ms`)
        .join(", ")}. The startup column is of the later starts, one per run.`,
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
      `fsync/req = (fsync + fdatasync calls) / requests, counted with ${results.syncMethod}. Disk KiB/req = write_bytes of /proc/PID/io of the server process over the measured window / requests.`,
  );
  return lines.join("\n") + "\n";
}

/** Per scenario with more than one round of both servers: the ratio of each round's pair of runs. */
function roundSpread(results: Results): Array<{ scenario: string; rps: string[]; p99: string[] }> {
  const rows: Array<{ scenario: string; rps: string[]; p99: string[] }> = [];
  for (const s of results.summary) {
    const of = (kind: (typeof SERVERS)[number]) => results.runs.filter((r) => r.scenario === s.scenario && r.server === kind).sort((a, b) => a.round - b.round);
    const a = of("perdure");
    const b = of("restate");
    if (a.length < 2 || b.length < 2) continue;
    const pairs = a.flatMap((ra) => b.filter((rb) => rb.round === ra.round).map((rb) => [ra, rb] as const));
    rows.push({
      scenario: s.scenario,
      rps: pairs.map(([ra, rb]) => ratio(ra.load.rps, rb.load.rps)),
      p99: pairs.map(([ra, rb]) => ratio(ra.load.latency.p99, rb.load.latency.p99)),
    });
  }
  return rows;
}

/** Writes `<base>.json` and `<base>.md`; returns the Markdown. */
export function writeReport(base: string, results: Results): string {
  const md = markdown(results);
  writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(`${base}.md`, md);
  return md;
}
