// The scenarios: what each one sends to the ingress (path, body, connections, key spread) and whether the
// runner must wait for its invocations to complete after the load (/send). Checking is common to all: the
// load generator counts 2xx responses, and `drain` scenarios are checked against the SDK's sink count.
import type { LoadSpec, PathSpec } from "./load.ts";
import type { Options, ScenarioName } from "./options.ts";

export type Scenario = {
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

export const SCENARIO_DEFS: Record<ScenarioName, Scenario> = {
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
