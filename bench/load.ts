// Load generator, run as its own process so its CPU is separate from the runner's: a closed loop of
// `connections` HTTP/1.1 keep-alive connections (autocannon), one request in flight per connection, for
// `durationS` seconds. Latency is recorded per 2xx response with sub-millisecond resolution (autocannon's own
// histogram has 1 ms buckets, too coarse for a loopback no-op call).
//
//   npx node bench/load.ts '<LoadSpec as JSON>'
//
// Prints one line of JSON (LoadResult) on stdout.
import autocannon from "autocannon";

export type PathSpec =
  | { readonly kind: "fixed"; readonly path: string }
  /** `${prefix}${i % keys}${suffix}`, i counting up per request: spreads calls over `keys` object keys. */
  | { readonly kind: "keys"; readonly prefix: string; readonly suffix: string; readonly keys: number }
  /** `${prefix}${tag}-${i}${suffix}`: a fresh key per request (workflow ids). */
  | { readonly kind: "unique"; readonly prefix: string; readonly suffix: string; readonly tag: string };

export type LoadSpec = {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly path: PathSpec;
  readonly body?: string;
  readonly contentType?: string;
  /** Per-request timeout in seconds (default 30). */
  readonly timeoutS?: number;
};

export type LoadResult = {
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly elapsedS: number;
  /** 2xx responses per second. */
  readonly rps: number;
  /** Milliseconds, over 2xx responses. */
  readonly latency: { readonly p50: number; readonly p90: number; readonly p99: number; readonly mean: number; readonly max: number };
  /** CPU time of this load-generator process during the run, ms. */
  readonly loadCpuMs: number;
  readonly statusCodes: Record<string, number>;
};

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
  let samples = new Float64Array(1 << 16);
  let n = 0;
  let i = 0;
  const p = spec.path;
  const nextPath = (): string => {
    const k = i++;
    switch (p.kind) {
      case "fixed":
        return p.path;
      case "keys":
        return `${p.prefix}${k % p.keys}${p.suffix}`;
      case "unique":
        return `${p.prefix}${p.tag}-${k}${p.suffix}`;
    }
  };
  const headers: Record<string, string> = {};
  if (spec.contentType) headers["content-type"] = spec.contentType;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        pipelining: 1,
        duration: spec.durationS,
        timeout: spec.timeoutS ?? 30,
        method: "POST",
        headers,
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        requests: p.kind === "fixed" ? [{ path: p.path }] : [{ setupRequest: (req) => ({ ...req, path: nextPath() }) }],
      },
      (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)),
    );
  });
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    if (statusCode < 200 || statusCode > 299) return;
    if (n === samples.length) {
      const bigger = new Float64Array(samples.length * 2);
      bigger.set(samples);
      samples = bigger;
    }
    samples[n++] = responseTime;
  });
  const result = await done;
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sorted = samples.subarray(0, n).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (v as { count: number }).count;
  const out: LoadResult = {
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    elapsedS,
    rps: result["2xx"] / (result.duration > 0 ? result.duration : spec.durationS),
    latency: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      mean: n > 0 ? sum / n : NaN,
      max: n > 0 ? sorted[n - 1]! : NaN,
    },
    loadCpuMs: (cpu.user + cpu.system) / 1000,
    statusCodes,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

if (import.meta.main) await main();
