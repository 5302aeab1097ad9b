// Configuration: defaults <- PERDURE_* environment <- command-line flags, validated and frozen once.
// Only this module reads the environment. Invalid values are reported with the flag or variable that held them.

import { FAULT_POINT_NAMES, parseFaultPoint } from "../faults/fault-points.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Config {
  readonly ingressPort: number;
  readonly adminPort: number;
  readonly bindAddress: string;
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** fsync every commit (on by default; off only for labelled benchmarks). */
  readonly fsync: boolean;
  readonly requestSizeLimit: number;
  /** Highest invocation protocol version negotiated with endpoints (5 to 7). */
  readonly maxProtocolVersion: number;
  /** PEM file with an Ed25519 private key; when set, requests to endpoints are signed. */
  readonly requestIdentityKeyFile: string | undefined;
  /** New invocations get 503 while more partition commands than this are waiting. */
  readonly maxBacklog: number;
  /** Attempts running at once against endpoints; more wait for a free slot. */
  readonly maxConcurrentAttempts: number;
  /** Of those, attempts launched within the last 250 ms running at once; bounds bursts of new invocations. */
  readonly maxFreshAttempts: number;
  /** New invocations get 503 while more started invocations than this wait for an attempt slot (bounds memory). */
  readonly maxWaitingAttempts: number;
  /** Timers due less than this many ms after the last fire wait and fire together (one commit); 0: each on time. */
  readonly timerCoalescingMs: number;
  /** Test setting: crash at a named fault point (`name@n`). Never set in production. */
  readonly testFaultPoint: string | undefined;
}

export const DEFAULTS: Config = Object.freeze({
  ingressPort: 8080,
  adminPort: 9070,
  bindAddress: "0.0.0.0",
  dataDir: "./perdure-data",
  logLevel: "info",
  fsync: true,
  requestSizeLimit: 32 * 1024 * 1024,
  maxProtocolVersion: 7,
  requestIdentityKeyFile: undefined,
  testFaultPoint: undefined,
  maxBacklog: 20_000,
  maxConcurrentAttempts: 1_000, // as the reference invoker's concurrent-invocations limit
  maxFreshAttempts: 128,
  maxWaitingAttempts: 200_000,
  timerCoalescingMs: 2,
});

export class ConfigError extends Error {}

interface Option {
  readonly flag: string;
  readonly env: string;
  readonly key: keyof Config;
  readonly kind: "port" | "string" | "level" | "bool" | "size" | "millis" | "protocol" | "fault";
  readonly help: string;
}

export const OPTIONS: readonly Option[] = [
  { flag: "--ingress-port", env: "PERDURE_INGRESS_PORT", key: "ingressPort", kind: "port", help: "port of the HTTP ingress (default 8080)" },
  { flag: "--admin-port", env: "PERDURE_ADMIN_PORT", key: "adminPort", kind: "port", help: "port of the admin API (default 9070)" },
  { flag: "--bind-address", env: "PERDURE_BIND_ADDRESS", key: "bindAddress", kind: "string", help: "address both servers listen on (default 0.0.0.0)" },
  { flag: "--data-dir", env: "PERDURE_DATA_DIR", key: "dataDir", kind: "string", help: "directory of the embedded SQLite data (default ./perdure-data)" },
  { flag: "--log-level", env: "PERDURE_LOG_LEVEL", key: "logLevel", kind: "level", help: "debug, info, warn or error (default info)" },
  { flag: "--fsync", env: "PERDURE_FSYNC", key: "fsync", kind: "bool", help: "sync every commit to disk: true or false (default true)" },
  { flag: "--max-protocol-version", env: "PERDURE_MAX_PROTOCOL_VERSION", key: "maxProtocolVersion", kind: "protocol", help: "highest invocation protocol version to use, 5 to 7 (default 7)" },
  { flag: "--request-identity-key-file", env: "PERDURE_REQUEST_IDENTITY_KEY_FILE", key: "requestIdentityKeyFile", kind: "string", help: "Ed25519 private key (PEM) to sign requests to endpoints" },
  { flag: "--test-fault-point", env: "PERDURE_TEST_FAULT_POINT", key: "testFaultPoint", kind: "fault", help: "tests only: crash at batch-applied@N or batch-committed@N" },
  { flag: "--max-backlog", env: "PERDURE_MAX_BACKLOG", key: "maxBacklog", kind: "size", help: "waiting commands beyond which new invocations get 503 (default 20000)" },
  { flag: "--max-concurrent-attempts", env: "PERDURE_MAX_CONCURRENT_ATTEMPTS", key: "maxConcurrentAttempts", kind: "size", help: "attempts running at once; more wait (default 1000)" },
  { flag: "--max-waiting-attempts", env: "PERDURE_MAX_WAITING_ATTEMPTS", key: "maxWaitingAttempts", kind: "size", help: "invocations waiting for an attempt slot beyond which new invocations get 503 (default 200000)" },
  { flag: "--max-fresh-attempts", env: "PERDURE_MAX_FRESH_ATTEMPTS", key: "maxFreshAttempts", kind: "size", help: "attempts started within the last 250 ms running at once; bounds bursts (default 128)" },
  { flag: "--timer-coalescing-ms", env: "PERDURE_TIMER_COALESCING_MS", key: "timerCoalescingMs", kind: "millis", help: "timers falling due within this many ms of the last fire wait and fire together, at most this late; 0 fires each on time (default 2)" },
  { flag: "--request-size-limit", env: "PERDURE_REQUEST_SIZE_LIMIT", key: "requestSizeLimit", kind: "size", help: "largest request body in bytes (default 33554432)" },
];

function convert(opt: Option, raw: string, from: string): unknown {
  switch (opt.kind) {
    case "port": {
      const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${from}: '${raw}' is not a port number (0-65535)`);
      return n;
    }
    case "size": {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${from}: '${raw}' is not a positive number of bytes`);
      return n;
    }
    case "millis": {
      const n = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n > 1000) throw new ConfigError(`${from}: '${raw}' is not a number of milliseconds from 0 to 1000`);
      return n;
    }
    case "protocol": {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 5 || n > 7) throw new ConfigError(`${from}: '${raw}' is not a supported protocol version (5, 6 or 7)`);
      return n;
    }
    case "fault":
      if (!parseFaultPoint(raw)) throw new ConfigError(`${from}: '${raw}' is not a fault point (${FAULT_POINT_NAMES.join(", ")}, optionally @N)`);
      return raw;
    case "level":
      if (!["debug", "info", "warn", "error"].includes(raw)) throw new ConfigError(`${from}: '${raw}' is not one of debug, info, warn, error`);
      return raw;
    case "bool":
      if (raw !== "true" && raw !== "false") throw new ConfigError(`${from}: '${raw}' must be true or false`);
      return raw === "true";
    case "string":
      if (raw === "") throw new ConfigError(`${from}: must not be empty`);
      return raw;
  }
}

export type ParsedArgs = { readonly kind: "run"; readonly config: Config } | { readonly kind: "help" } | { readonly kind: "version" };

export function resolveConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  if (argv.includes("--help") || argv.includes("-h")) return { kind: "help" };
  if (argv.includes("--version")) return { kind: "version" };
  const values: Record<string, unknown> = { ...DEFAULTS };
  for (const opt of OPTIONS) {
    const raw = env[opt.env];
    if (raw !== undefined) values[opt.key] = convert(opt, raw, opt.env);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return { kind: "help" };
    if (arg === "--version") return { kind: "version" };
    if (arg === "serve") continue;
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const opt = OPTIONS.find((o) => o.flag === name);
    if (!opt) throw new ConfigError(`unknown option '${arg}' (see --help)`);
    let raw: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (opt.kind === "bool" && eq < 0 && (raw === undefined || raw.startsWith("--"))) {
      i--;
      raw = "true";
    }
    if (raw === undefined) throw new ConfigError(`${name} needs a value`);
    values[opt.key] = convert(opt, raw, name);
  }
  return { kind: "run", config: Object.freeze(values as unknown as Config) };
}

export function helpText(): string {
  const lines = [
    "perdure: a durable-execution server that speaks Restate's protocols.",
    "",
    "Usage: perdure [serve] [options]",
    "",
    "Options (each also settable through the environment variable shown):",
  ];
  for (const o of OPTIONS) lines.push(`  ${o.flag.padEnd(22)} ${o.env.padEnd(28)} ${o.help}`);
  lines.push("  --help                 show this help", "  --version              print the version");
  return lines.join("\n");
}
