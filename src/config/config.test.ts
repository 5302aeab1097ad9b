// Tests of configuration resolution: defaults <- PERDURE_* environment <- flags, `--flag value` and
// `--flag=value`, validation errors that name the flag or variable, help and version requests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, DEFAULTS, OPTIONS, helpText, resolveConfig, type Config } from "./config.ts";

function run(argv: readonly string[], env: Record<string, string | undefined> = {}): Config {
  const parsed = resolveConfig(argv, env);
  assert.equal(parsed.kind, "run");
  return (parsed as { kind: "run"; config: Config }).config;
}

function assertConfigError(argv: readonly string[], env: Record<string, string | undefined>, pattern: RegExp): void {
  assert.throws(
    () => resolveConfig(argv, env),
    (err: unknown) => err instanceof ConfigError && pattern.test(err.message),
    `${JSON.stringify(argv)} ${JSON.stringify(env)} should fail with ${pattern}`,
  );
}

test("no flags and no environment give the defaults, frozen", () => {
  const config = run([]);
  assert.deepEqual(config, DEFAULTS);
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(DEFAULTS));
  assert.equal(DEFAULTS.ingressPort, 8080);
  assert.equal(DEFAULTS.adminPort, 9070);
  assert.equal(DEFAULTS.bindAddress, "0.0.0.0");
  assert.equal(DEFAULTS.dataDir, "./perdure-data");
  assert.equal(DEFAULTS.logLevel, "info");
  assert.equal(DEFAULTS.fsync, true);
  assert.equal(DEFAULTS.requestSizeLimit, 32 * 1024 * 1024);
});

test("the `serve` command word is accepted and changes nothing", () => {
  assert.deepEqual(run(["serve"]), DEFAULTS);
});

test("every option has a PERDURE_* variable and a --flag", () => {
  for (const o of OPTIONS) {
    assert.match(o.env, /^PERDURE_[A-Z_]+$/);
    assert.match(o.flag, /^--[a-z-]+$/);
    assert.ok(o.key in DEFAULTS, o.key);
  }
});

test("environment variables override the defaults; unrelated variables are ignored", () => {
  const config = run([], {
    PERDURE_INGRESS_PORT: "18080",
    PERDURE_ADMIN_PORT: "19070",
    PERDURE_BIND_ADDRESS: "127.0.0.1",
    PERDURE_DATA_DIR: "/var/lib/perdure",
    PERDURE_LOG_LEVEL: "debug",
    PERDURE_FSYNC: "false",
    PERDURE_REQUEST_SIZE_LIMIT: "1024",
    PATH: "/usr/bin",
    PERDURE_UNKNOWN: "x",
    RESTATE_INGRESS_PORT: "1",
  });
  assert.deepEqual(config, {
    ...DEFAULTS,
    ingressPort: 18080,
    adminPort: 19070,
    bindAddress: "127.0.0.1",
    dataDir: "/var/lib/perdure",
    logLevel: "debug",
    fsync: false,
    requestSizeLimit: 1024,
  });
});

test("flags override the environment, in both `--flag value` and `--flag=value` forms", () => {
  const env = { PERDURE_INGRESS_PORT: "18080", PERDURE_LOG_LEVEL: "debug", PERDURE_FSYNC: "false" };
  const config = run(["serve", "--ingress-port", "28080", "--log-level=warn", "--fsync=true", "--admin-port=0"], env);
  assert.equal(config.ingressPort, 28080);
  assert.equal(config.logLevel, "warn");
  assert.equal(config.fsync, true);
  assert.equal(config.adminPort, 0);
  assert.equal(run(["--data-dir=/tmp/a=b"]).dataDir, "/tmp/a=b", "only the first = splits");
  assert.equal(run(["--ingress-port", "1", "--ingress-port", "2"]).ingressPort, 2, "the last flag wins");
});

test("a bare boolean flag followed by another flag means true", () => {
  const config = run(["--fsync", "--log-level", "error"], { PERDURE_FSYNC: "false" });
  assert.equal(config.fsync, true);
  assert.equal(config.logLevel, "error");
  assert.equal(run(["--fsync", "false"]).fsync, false);
});

test("a bad port is a ConfigError naming the flag or variable and the value", () => {
  for (const bad of ["abc", "70000", "65536", "-1", "1.5"]) {
    assertConfigError(["--ingress-port", bad], {}, new RegExp(`^--ingress-port: '${bad.replace(".", "\\.")}' is not a port number`));
    assertConfigError([`--admin-port=${bad}`], {}, /^--admin-port: /);
    assertConfigError([], { PERDURE_ADMIN_PORT: bad }, /^PERDURE_ADMIN_PORT: /);
  }
  assert.equal(run(["--ingress-port", "65535"]).ingressPort, 65535);
});

test("other invalid values are ConfigErrors naming their flag", () => {
  assertConfigError(["--log-level", "verbose"], {}, /^--log-level: 'verbose' is not one of debug, info, warn, error/);
  assertConfigError(["--log-level", "INFO"], {}, /^--log-level: /);
  assertConfigError(["--fsync=yes"], {}, /^--fsync: 'yes' must be true or false/);
  assertConfigError([], { PERDURE_FSYNC: "1" }, /^PERDURE_FSYNC: /);
  assertConfigError(["--request-size-limit", "0"], {}, /^--request-size-limit: '0' is not a positive number of bytes/);
  assertConfigError(["--request-size-limit", "-5"], {}, /^--request-size-limit: /);
  assertConfigError(["--timer-coalescing-ms", "1001"], {}, /^--timer-coalescing-ms: '1001' is not a number of milliseconds from 0 to 1000/);
  assertConfigError([], { PERDURE_TIMER_COALESCING_MS: "2.5" }, /^PERDURE_TIMER_COALESCING_MS: /);
  assertConfigError(["--data-dir="], {}, /^--data-dir: must not be empty/);
  assertConfigError([], { PERDURE_BIND_ADDRESS: "" }, /^PERDURE_BIND_ADDRESS: must not be empty/);
});

test("timer coalescing defaults to 2 ms and may be switched off with 0", () => {
  assert.equal(DEFAULTS.timerCoalescingMs, 2);
  assert.equal(run(["--timer-coalescing-ms", "0"]).timerCoalescingMs, 0);
  assert.equal(run([], { PERDURE_TIMER_COALESCING_MS: "10" }).timerCoalescingMs, 10);
});

test("unknown flags and stray words are refused", () => {
  assertConfigError(["--nope"], {}, /unknown option '--nope'/);
  assertConfigError(["--ingress"], {}, /unknown option '--ingress'/);
  assertConfigError(["start"], {}, /unknown option 'start'/);
  assertConfigError(["--nope=1"], {}, /unknown option '--nope=1'/);
});

test("a flag without its value is refused", () => {
  assertConfigError(["--data-dir"], {}, /^--data-dir needs a value/);
  assertConfigError(["--ingress-port", "--admin-port", "1"], {}, /^--ingress-port: '--admin-port' is not a port number/);
});

test("--help, -h and --version", () => {
  assert.deepEqual(resolveConfig(["--help"], {}), { kind: "help" });
  assert.deepEqual(resolveConfig(["-h"], {}), { kind: "help" });
  assert.deepEqual(resolveConfig(["serve", "--ingress-port", "1", "--help"], {}), { kind: "help" });
  assert.deepEqual(resolveConfig(["--help", "--nope"], {}), { kind: "help" }, "help before an unknown flag wins");
  assert.deepEqual(resolveConfig(["--version"], {}), { kind: "version" });
});

test("the help text lists every flag and variable", () => {
  const text = helpText();
  for (const o of OPTIONS) {
    assert.ok(text.includes(o.flag), o.flag);
    assert.ok(text.includes(o.env), o.env);
  }
  assert.match(text, /--help/);
  assert.match(text, /--version/);
});

// Known gaps, kept as TODO tests so they show up in every run until fixed in config.ts.

test("an empty or non-decimal port is refused", () => {
  assertConfigError([], { PERDURE_INGRESS_PORT: "" }, /^PERDURE_INGRESS_PORT: /);
  assertConfigError(["--ingress-port="], {}, /^--ingress-port: /);
  assertConfigError(["--ingress-port", "0x1F90"], {}, /^--ingress-port: /);
  assertConfigError(["--ingress-port", "1e3"], {}, /^--ingress-port: /);
  assertConfigError(["--request-size-limit", "1e3"], {}, /^--request-size-limit: /);
});

test("a bare boolean flag as the last argument means true", () => {
  assert.equal(run(["--fsync"], { PERDURE_FSYNC: "false" }).fsync, true);
});

test("--help works even when the environment holds an invalid value", () => {
  assert.deepEqual(resolveConfig(["--help"], { PERDURE_INGRESS_PORT: "abc" }), { kind: "help" });
});
