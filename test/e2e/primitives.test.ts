// End to end: the durable primitives of the SDK beyond plain calls and awakeables, through perdure with the
// real SDK: the RestatePromise combinators (all, race, any, allSettled) over timers, calls, awakeables and
// runs; ctx.rand and ctx.date staying deterministic across a retry and a suspension; named signals and
// invocation handles (signal, attach); commands the protocol forbids (a state write from a shared handler, a
// promise outside a workflow, a call to an unknown service or handler, a malformed awakeable id), which fail
// the attempt with the failure recorded on the invocation, are retried per the policy (three attempts, then
// killed; the back-off is skipped with PATCH /invocations/{id}/resume so that its state can be observed
// without racing it) and change nothing else; and a suspension for every kind of
// awaitable (sleep, call, awakeable, workflow promise). Every scenario runs over h2c with protocol V7 and V6,
// and over HTTP/1.1 request-response; the handlers that wait declare a short inactivity timeout, so that over
// h2c too perdure ends the stream and the SDK suspends.
// The probe services live in this file; they publish awakeable and invocation ids and count executions in
// module-level maps, keyed by a tag unique to each test.
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { randomBytes } from "node:crypto";
import * as restate from "@restatedev/restate-sdk";
import { RestatePromise } from "@restatedev/restate-sdk";
import { encodeInvocationId, newInvocationId } from "../../src/core/ids.ts";
import { waitFor } from "../support/admin-client.ts";
import { http, type HttpResult } from "../support/http.ts";
import { post, startE2e, uniqueKey, type E2eEnv, type SendAck } from "./harness.ts";

// ---------------------------------------------------------------------------------------------------------
// Bookkeeping shared by the probes and the tests (the services run in this process).

/** Executions per "<tag> <what>". */
const executions = new Map<string, number>();
function count(tag: string, what: string): number {
  const key = `${tag} ${what}`;
  const n = (executions.get(key) ?? 0) + 1;
  executions.set(key, n);
  return n;
}
const executed = (tag: string, what: string) => executions.get(`${tag} ${what}`) ?? 0;

/** Ids (awakeable ids, invocation ids) published by the probes, by "<tag>/<name>". */
const published = new Map<string, string>();
const publish = (tag: string, name: string, id: string) => published.set(`${tag}/${name}`, id);
const publishedId = (tag: string, name: string) => waitFor(() => published.get(`${tag}/${name}`), 5000);

/** Short inactivity timeout: over h2c perdure then ends the stream of a waiting attempt and the SDK suspends. */
const SUSPEND_FAST = { inactivityTimeout: 100 } as const;
/**
 * Three attempts, then the invocation is killed. The interval is long so that the backing-off state can be observed
 * without racing it; the tests skip each wait with PATCH /invocations/{id}/resume, which retries at once.
 */
const KILL_AFTER_3 = { initialInterval: 30_000, exponentiationFactor: 1, maxInterval: 30_000, maxAttempts: 3, onMaxAttempts: "kill" } as const;

type Settled = { status: "fulfilled"; value: unknown } | { status: "rejected"; code: number; message: string };
function settled(r: PromiseSettledResult<unknown>): Settled {
  if (r.status === "fulfilled") return { status: "fulfilled", value: r.value };
  const err = r.reason as restate.TerminalError;
  return { status: "rejected", code: err.code, message: err.message };
}

// ---------------------------------------------------------------------------------------------------------
// Probe services.

const helper = restate.service({
  name: "PrimHelper",
  handlers: {
    echo: async (_ctx: restate.Context, input: { tag: string; value: unknown }) => {
      count(input.tag, "echo");
      return input.value;
    },
    fail: async (_ctx: restate.Context, input: { tag: string; message: string }): Promise<string> => {
      count(input.tag, "fail");
      throw new restate.TerminalError(input.message, { errorCode: 418 });
    },
    /** Waits for an awakeable published as "<tag>/helper". */
    waitAwakeable: restate.handlers.handler(SUSPEND_FAST, async (ctx: restate.Context, tag: string) => {
      const { id, promise } = ctx.awakeable<string>();
      await ctx.run("publish", () => {
        count(tag, "helper publish");
        publish(tag, "helper", id);
      });
      return `helper got ${await promise}`;
    }),
  },
});

const combinators = restate.service({
  name: "Combinators",
  options: SUSPEND_FAST,
  handlers: {
    /** all over a timer, a call, an awakeable resolved from outside and a run. */
    all: async (ctx: restate.Context, tag: string) => {
      const awk = ctx.awakeable<string>();
      await ctx.run("publish", () => {
        publish(tag, "awk", awk.id);
      });
      return await RestatePromise.all([
        ctx.sleep(50).map(() => "slept"),
        ctx.serviceClient(helper).echo({ tag, value: "called" }),
        awk.promise,
        ctx.run("step", () => {
          count(tag, "run");
          return "ran";
        }),
      ]);
    },

    /** race of a short timer against a long one; then of an awakeable against a long timer. */
    race: async (ctx: restate.Context, tag: string) => {
      const timers = await RestatePromise.race([ctx.sleep(100).map(() => "short"), ctx.sleep(60_000).map(() => "long")]);
      const awk = ctx.awakeable<string>();
      await ctx.run("publish", () => {
        publish(tag, "awk", awk.id);
      });
      const awakeable = await RestatePromise.race([ctx.sleep(60_000).map(() => "timeout"), awk.promise]);
      return { timers, awakeable };
    },

    /** any of two awakeables, the first rejected from outside; then of a failing call and a timer. */
    any: async (ctx: restate.Context, tag: string) => {
      const a = ctx.awakeable<string>();
      const b = ctx.awakeable<string>();
      await ctx.run("publish", () => {
        publish(tag, "a", a.id);
        publish(tag, "b", b.id);
      });
      const awakeables = await RestatePromise.any([a.promise, b.promise]);
      const mixed = await RestatePromise.any([ctx.serviceClient(helper).fail({ tag, message: "call failed" }), ctx.sleep(50).map(() => "timer")]);
      return { awakeables, mixed };
    },

    /** allSettled over every kind of promise, some of them failing. */
    allSettled: async (ctx: restate.Context, tag: string) => {
      const good = ctx.awakeable<string>();
      const bad = ctx.awakeable<string>();
      await ctx.run("publish", () => {
        publish(tag, "good", good.id);
        publish(tag, "bad", bad.id);
      });
      const results = await RestatePromise.allSettled([
        ctx.sleep(30).map(() => "slept"),
        ctx.serviceClient(helper).echo({ tag, value: 42 }),
        ctx.serviceClient(helper).fail({ tag, message: "call failed" }),
        good.promise,
        bad.promise,
        ctx.run("ok", () => {
          count(tag, "run ok");
          return "ran";
        }),
        ctx.run("boom", (): string => {
          count(tag, "run boom");
          throw new restate.TerminalError("run failed", { errorCode: 422 });
        }),
      ]);
      return results.map(settled);
    },

    /** Failures through the combinators: a timeout, a rejected run in race and all, every promise of any rejected. */
    failures: async (ctx: restate.Context, tag: string) => {
      const caught = async (p: Promise<unknown>) => {
        try {
          return { value: await p };
        } catch (err) {
          const e = err as Error & { code?: number };
          return { name: e.name, message: e.message, code: e.code ?? null, terminal: err instanceof restate.TerminalError };
        }
      };
      const failingRun = (name: string) =>
        ctx.run(name, (): string => {
          count(tag, `run ${name}`);
          throw new restate.TerminalError(`${name} failed`, { errorCode: 409 });
        });
      return {
        timeout: await caught(ctx.awakeable<string>().promise.orTimeout(100)),
        race: await caught(RestatePromise.race([ctx.sleep(60_000).map(() => "late"), failingRun("race")])),
        all: await caught(RestatePromise.all([ctx.sleep(50).map(() => "slept"), failingRun("all")])),
        any: await caught(RestatePromise.any([failingRun("any1"), failingRun("any2")])),
      };
    },
  },
});

/** What Determinism/record saw at each execution, by tag. */
type Draw = { uuid: string; random: number; now: number };
const draws = new Map<string, { before: Draw[]; after: Draw[] }>();

const determinism = restate.service({
  name: "Determinism",
  handlers: {
    /**
     * Draws from ctx.rand and ctx.date, fails once after recording them (retry), suspends on a sleep, draws
     * again, fails once more (retry after the resumption) and returns what it drew.
     */
    record: restate.handlers.handler(
      { ...SUSPEND_FAST, retryPolicy: { initialInterval: 50, exponentiationFactor: 1, maxInterval: 50 } },
      async (ctx: restate.Context, tag: string) => {
        count(tag, "body");
        const seen = draws.get(tag) ?? { before: [], after: [] };
        draws.set(tag, seen);
        const before: Draw = { uuid: ctx.rand.uuidv4(), random: ctx.rand.random(), now: await ctx.date.now() };
        seen.before.push(before);
        if (seen.before.length === 1) throw new Error("the first attempt fails after drawing");
        await ctx.sleep(400);
        const after: Draw = { uuid: ctx.rand.uuidv4(), random: ctx.rand.random(), now: await ctx.date.now() };
        seen.after.push(after);
        if (seen.after.length === 1) throw new Error("the first attempt after the sleep fails");
        return { before, after };
      },
    ),
  },
});

const signals = restate.service({
  name: "Signals",
  options: SUSPEND_FAST,
  handlers: {
    /** Publishes its own id as "<tag>/self" and waits for the signal "go". */
    wait: async (ctx: restate.Context, tag: string) => {
      await ctx.run("publish", () => {
        publish(tag, "self", ctx.request().id);
      });
      try {
        return { value: await ctx.signal<string>("go") };
      } catch (err) {
        if (err instanceof restate.TerminalError) return { rejected: err.message, code: err.code };
        throw err;
      }
    },

    /** Waits for an awakeable first, then for the signal "go" (which may have arrived meanwhile). */
    waitAfterAwakeable: async (ctx: restate.Context, tag: string) => {
      const awk = ctx.awakeable<string>();
      await ctx.run("publish", () => {
        publish(tag, "self", ctx.request().id);
        publish(tag, "awk", awk.id);
      });
      const first = await awk.promise;
      const signal = await ctx.signal<string>("go");
      return { first, signal };
    },

    send: async (ctx: restate.Context, input: { target: string; name: string; value?: string; reject?: string }) => {
      const ref = ctx.invocation(restate.InvocationIdParser.fromString(input.target)).signal<string>(input.name);
      if (input.reject !== undefined) ref.reject(new restate.TerminalError(input.reject, { errorCode: 451 }));
      else ref.resolve(input.value);
      return "sent";
    },

    attach: async (ctx: restate.Context, target: string) => ctx.invocation(restate.InvocationIdParser.fromString(target)).attach<unknown>(),

    /** Attaches and reports a terminal failure as a value. */
    attachCaught: async (ctx: restate.Context, target: string) => {
      try {
        return { value: await ctx.invocation(restate.InvocationIdParser.fromString(target)).attach<unknown>() };
      } catch (err) {
        if (err instanceof restate.TerminalError) return { code: err.code, message: err.message };
        throw err;
      }
    },

    /** Sends a signal to itself, then waits for it. */
    self: async (ctx: restate.Context) => {
      ctx.invocation(restate.InvocationIdParser.fromString(ctx.request().id)).signal<string>("me").resolve("myself");
      return await ctx.signal<string>("me");
    },

    /** The deprecated form, ctx.attach(id). */
    attachLegacy: async (ctx: restate.Context, target: string) => ctx.attach<unknown>(restate.InvocationIdParser.fromString(target)),
  },
});

/** Handlers that send commands the protocol forbids; each counts its executions by object key. */
const bad = restate.object({
  name: "BadCommands",
  options: { retryPolicy: KILL_AFTER_3 },
  handlers: {
    put: async (ctx: restate.ObjectContext, value: string) => {
      ctx.set("k", value);
    },
    get: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext) => (await ctx.get<string>("k")) ?? null),
    keys: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext) => await ctx.stateKeys()),

    sharedSet: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext) => {
      count(ctx.key, "body");
      // The types refuse this; the SDK sends the command anyway.
      (ctx as unknown as restate.ObjectContext).set("k", "from a shared handler");
      return "written";
    }),

    promiseInObject: async (ctx: restate.ObjectContext) => {
      count(ctx.key, "body");
      return (await (ctx as unknown as restate.WorkflowContext).promise<string>("p").peek()) ?? null;
    },

    unknownService: async (ctx: restate.ObjectContext) => {
      count(ctx.key, "body");
      return await ctx.genericCall({ service: "NoSuchService", method: "run", parameter: "{}", inputSerde: restate.serde.json, outputSerde: restate.serde.json });
    },

    unknownHandler: async (ctx: restate.ObjectContext) => {
      count(ctx.key, "body");
      return await ctx.genericCall({ service: "PrimHelper", method: "noSuchHandler", parameter: "{}", inputSerde: restate.serde.json, outputSerde: restate.serde.json });
    },

    malformedAwakeable: async (ctx: restate.ObjectContext) => {
      count(ctx.key, "body");
      ctx.resolveAwakeable("sign_1nope", "value");
      return "resolved";
    },
  },
});

const waits = restate.service({
  name: "Waits",
  options: SUSPEND_FAST,
  handlers: {
    sleep: async (ctx: restate.Context, tag: string) => {
      count(tag, "body");
      await ctx.sleep(600);
      await ctx.run("after", () => count(tag, "run after"));
      return "slept";
    },
    call: async (ctx: restate.Context, tag: string) => {
      count(tag, "body");
      const result = await ctx.serviceClient(helper).waitAwakeable(tag);
      await ctx.run("after", () => count(tag, "run after"));
      return result;
    },
    awakeable: async (ctx: restate.Context, tag: string) => {
      count(tag, "body");
      const awk = ctx.awakeable<string>();
      await ctx.run("publish", () => {
        publish(tag, "awk", awk.id);
      });
      const value = await awk.promise;
      await ctx.run("after", () => count(tag, "run after"));
      return value;
    },
  },
});

const waitWf = restate.workflow({
  name: "WaitWf",
  options: SUSPEND_FAST,
  handlers: {
    run: async (ctx: restate.WorkflowContext) => {
      count(ctx.key, "body");
      const value = await ctx.promise<string>("approval");
      await ctx.run("after", () => count(ctx.key, "run after"));
      return `approved: ${value}`;
    },
    approve: async (ctx: restate.WorkflowSharedContext, value: string) => {
      await ctx.promise<string>("approval").resolve(value);
      return "ok";
    },
  },
});

const probes = [helper, combinators, determinism, signals, bad, waits, waitWf];

// ---------------------------------------------------------------------------------------------------------
// The scenarios, once per transport and protocol version.

type InvocationRow = {
  status: string;
  last_failure?: string;
  last_failure_error_code?: string;
  journal_size?: number;
  retry_count?: number;
  suspended_waiting_for_completions?: number[];
  suspended_waiting_for_signals?: number[];
};

function primitivesSuite(transport: "h2c" | "http1", maxProtocolVersion: number): void {
  let env: E2eEnv;
  before(async () => {
    env = await startE2e({ services: { services: probes, transport }, config: { maxProtocolVersion } });
    // the first query of a fresh perdure is slower; do not let it eat into the polling of the tests
    await query("SELECT 1");
  });
  after(async () => {
    await env?.close();
  });

  async function query<T>(sql: string): Promise<T[]> {
    const res = await http(`${env.admin}/query`, { json: { query: sql }, headers: { accept: "application/json" } });
    assert.equal(res.status, 200, res.text);
    return (res.json as { rows: T[] }).rows;
  }
  const invocation = async (id: string) => (await query<InvocationRow>(`SELECT status, last_failure, last_failure_error_code, journal_size, retry_count, suspended_waiting_for_completions, suspended_waiting_for_signals FROM sys_invocation WHERE id = '${id}'`))[0];

  async function send(path: string, json?: unknown): Promise<string> {
    const res = await post(`${env.ingress}/${path}/send`, json);
    assert.equal(res.status, 202, res.text);
    return (res.json as SendAck).invocationId;
  }
  const attach = (id: string) => http(`${env.ingress}/restate/invocation/${id}/attach`);
  const resolveAwakeable = (id: string, value: unknown) => expect202(http(`${env.ingress}/restate/a/${id}/resolve`, { json: value }));
  const rejectAwakeable = (id: string, reason: string) =>
    expect202(http(`${env.ingress}/restate/a/${id}/reject`, { method: "POST", body: reason, headers: { "content-type": "text/plain" } }));
  async function expect202(res: Promise<HttpResult>): Promise<void> {
    const r = await res;
    assert.equal(r.status, 202, r.text);
  }
  function ok(res: HttpResult): unknown {
    assert.equal(res.status, 200, res.text);
    return res.json;
  }
  /** Waits until the invocation is suspended and returns its row. */
  const suspended = (id: string) =>
    waitFor(async () => {
      const row = await invocation(id);
      if (row?.status === "completed") throw new Error(`completed without being seen suspended: ${JSON.stringify(row)}`);
      return row?.status === "suspended" ? row : undefined;
    }, 5000);
  /** Waits until the journal of `id` holds an entry of this type (e.g. "Command: AttachInvocation"). */
  const journaled = (id: string, entryType: string) =>
    waitFor(async () => (await query<{ n: number }>(`SELECT COUNT(*) AS n FROM sys_journal WHERE id = '${id}' AND entry_type = '${entryType}'`))[0]!.n > 0, 5000);

  describe("combinators", () => {
    test("RestatePromise.all over a timer, a call, an awakeable resolved over the ingress and a run", async () => {
      const tag = uniqueKey("all");
      const pending = post(`${env.ingress}/Combinators/all`, tag);
      await resolveAwakeable(await publishedId(tag, "awk"), "woken");
      assert.deepEqual(ok(await pending), ["slept", "called", "woken", "ran"]);
      assert.equal(executed(tag, "echo"), 1, "the callee ran once");
      assert.equal(executed(tag, "run"), 1, "the run closure ran once");
    });

    test("RestatePromise.race: the short timer wins over the long one, an awakeable over a long timer", async () => {
      const tag = uniqueKey("race");
      const t0 = Date.now();
      const id = await send("Combinators/race", tag);
      await resolveAwakeable(await publishedId(tag, "awk"), "first");
      const res = await attach(id);
      assert.deepEqual(ok(res), { timers: "short", awakeable: "first" });
      assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
      // the losing timers went away with the invocation
      const timers = (await env.perdure.store.listTimers()).filter((t) => t.invocationId === id);
      assert.deepEqual(timers, []);
    });

    test("RestatePromise.any: one awakeable rejected, the other resolved; a failed call and a timer", async () => {
      const tag = uniqueKey("any");
      const pending = post(`${env.ingress}/Combinators/any`, tag);
      const a = await publishedId(tag, "a");
      const b = await publishedId(tag, "b");
      await rejectAwakeable(a, "no");
      await resolveAwakeable(b, "yes");
      assert.deepEqual(ok(await pending), { awakeables: "yes", mixed: "timer" });
      assert.equal(executed(tag, "fail"), 1);
    });

    test("RestatePromise.allSettled over timers, calls, awakeables and runs, some failing", async () => {
      const tag = uniqueKey("settled");
      const pending = post(`${env.ingress}/Combinators/allSettled`, tag);
      await rejectAwakeable(await publishedId(tag, "bad"), "rejected from outside");
      await resolveAwakeable(await publishedId(tag, "good"), { nested: true });
      assert.deepEqual(ok(await pending), [
        { status: "fulfilled", value: "slept" },
        { status: "fulfilled", value: 42 },
        { status: "rejected", code: 418, message: "call failed" },
        { status: "fulfilled", value: { nested: true } },
        { status: "rejected", code: 500, message: "rejected from outside" },
        { status: "fulfilled", value: "ran" },
        { status: "rejected", code: 422, message: "run failed" },
      ]);
      assert.equal(executed(tag, "echo"), 1);
      assert.equal(executed(tag, "fail"), 1);
      assert.equal(executed(tag, "run ok"), 1);
      assert.equal(executed(tag, "run boom"), 1, "a TerminalError in a run is not retried");
    });

    test("failures through the combinators: orTimeout, a rejected run in race and all, any with every promise rejected", async () => {
      const tag = uniqueKey("failures");
      const res = await post(`${env.ingress}/Combinators/failures`, tag);
      assert.deepEqual(ok(res), {
        timeout: { name: "TimeoutError", message: "Timeout occurred", code: 408, terminal: true },
        race: { name: "TerminalError", message: "race failed", code: 409, terminal: true },
        all: { name: "TerminalError", message: "all failed", code: 409, terminal: true },
        any: { name: "AggregateError", message: "All promises were rejected", code: null, terminal: false },
      });
      for (const run of ["race", "all", "any1", "any2"]) assert.equal(executed(tag, `run ${run}`), 1, run);
    });
  });

  test("ctx.rand and ctx.date are deterministic across a retry and a suspension", async () => {
    const tag = uniqueKey("det");
    const t0 = Date.now();
    const res = await post(`${env.ingress}/Determinism/record`, tag);
    const t1 = Date.now();
    const out = ok(res) as { before: Draw; after: Draw };
    const seen = draws.get(tag)!;
    // failed once before the sleep, suspended in it, failed once after it: at least four executions
    assert.ok(executed(tag, "body") >= 4, `${executed(tag, "body")} executions`);
    assert.ok(seen.before.length >= 3 && seen.after.length >= 2, JSON.stringify(seen));
    for (const d of seen.before) assert.deepEqual(d, seen.before[0], "the draws before the sleep differ between executions");
    for (const d of seen.after) assert.deepEqual(d, seen.after[0], "the draws after the sleep differ between executions");
    assert.deepEqual(out, { before: seen.before[0], after: seen.after[0] });
    for (const d of [out.before, out.after]) {
      assert.match(d.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.ok(d.random >= 0 && d.random < 1, String(d.random));
      assert.ok(d.now >= t0 && d.now <= t1, `${d.now} not in [${t0}, ${t1}]`);
    }
    assert.notEqual(out.before.uuid, out.after.uuid, "the second draw is a new value");
    assert.ok(out.after.now - out.before.now >= 400, "ctx.date after the sleep is later by the sleep");
  });

  describe("named signals and invocation handles", () => {
    test("a handler waits for a named signal that another handler resolves; other names do not wake it", async () => {
      const tag = uniqueKey("sig");
      const id = await send("Signals/wait", tag);
      assert.equal(await publishedId(tag, "self"), id);
      assert.equal(ok(await post(`${env.ingress}/Signals/send`, { target: id, name: "other", value: "wrong" })), "sent");
      assert.equal(ok(await post(`${env.ingress}/Signals/send`, { target: id, name: "go", value: "green" })), "sent");
      assert.deepEqual(ok(await attach(id)), { value: "green" });
    });

    test("a rejected signal reaches the waiter as a terminal error", async () => {
      const tag = uniqueKey("sigrej");
      const id = await send("Signals/wait", tag);
      await publishedId(tag, "self");
      assert.equal(ok(await post(`${env.ingress}/Signals/send`, { target: id, name: "go", reject: "red" })), "sent");
      assert.deepEqual(ok(await attach(id)), { rejected: "red", code: 451 });
    });

    test("a handler signals itself", async () => {
      assert.equal(ok(await post(`${env.ingress}/Signals/self`)), "myself");
    });

    test("a signal that arrives before the handler waits for it is kept", async () => {
      const tag = uniqueKey("sigearly");
      const id = await send("Signals/waitAfterAwakeable", tag);
      const awk = await publishedId(tag, "awk");
      assert.equal(ok(await post(`${env.ingress}/Signals/send`, { target: id, name: "go", value: "early" })), "sent");
      await resolveAwakeable(awk, "awake");
      assert.deepEqual(ok(await attach(id)), { first: "awake", signal: "early" });
    });

    test("attach to a running invocation by its handle returns its output once it completes", async () => {
      const tag = uniqueKey("attach");
      const targetId = await send("PrimHelper/waitAwakeable", tag);
      const awk = await publishedId(tag, "helper");
      const attacherId = await send("Signals/attach", targetId);
      await journaled(attacherId, "Command: AttachInvocation");
      assert.notEqual((await invocation(attacherId))?.status, "completed", "the attacher waits");
      await resolveAwakeable(awk, "late");
      assert.equal(ok(await attach(attacherId)), "helper got late");
      assert.equal(ok(await attach(targetId)), "helper got late");
      assert.equal(executed(tag, "helper publish"), 1, "attaching did not run the target again");
    });

    test("attach to completed invocations: a success (ctx.attach) and a terminal failure", async () => {
      const tag = uniqueKey("attached");
      const okId = await send("PrimHelper/echo", { tag, value: { done: 1 } });
      assert.deepEqual(ok(await attach(okId)), { done: 1 });
      assert.deepEqual(ok(await post(`${env.ingress}/Signals/attachLegacy`, okId)), { done: 1 });
      assert.deepEqual(ok(await post(`${env.ingress}/Signals/attach`, okId)), { done: 1 });
      const failedId = await send("PrimHelper/fail", { tag, message: "target failed" });
      assert.equal((await attach(failedId)).status, 418);
      const res = await post(`${env.ingress}/Signals/attach`, failedId);
      assert.equal(res.status, 418, res.text);
      assert.equal((res.json as { message: string }).message, "target failed");
      assert.equal(executed(tag, "echo"), 1);
      assert.equal(executed(tag, "fail"), 1);
    });

    test("attach to an invocation id that does not exist fails with 404", async () => {
      const unknown = encodeInvocationId(newInvocationId(4242n, randomBytes(16)));
      const out = ok(await post(`${env.ingress}/Signals/attachCaught`, unknown)) as { code: number; message: string };
      // the reference says "not found", perdure "invocation not found"
      assert.equal(out.code, 404, JSON.stringify(out));
      assert.match(out.message, /not found/, JSON.stringify(out));
    });
  });

  describe("commands the protocol forbids fail the attempt, are retried, then killed", { concurrency: true }, () => {
    const cases = [
      { handler: "sharedSet", message: /state/i, reference: "RT0017" },
      { handler: "promiseInObject", message: /promise|workflow/i, reference: "RT0017" },
      { handler: "unknownService", message: /NoSuchService/, reference: "RT0018" },
      { handler: "unknownHandler", message: /PrimHelper\/noSuchHandler/, reference: "RT0018" },
      { handler: "malformedAwakeable", message: /sign_1nope/, reference: "RT0012" },
    ] as const;

    /** Waits until the invocation backs off after its `failures`-th failed attempt; returns its row. */
    const backingOff = (id: string, failures: number) =>
      waitFor(async () => {
        const r = await invocation(id);
        if (r?.status === "completed") throw new Error(`completed while waiting for failure ${failures}`);
        return r?.status === "backing-off" && r.retry_count === failures ? r : undefined;
      }, 5000);
    /** Skips the back-off: the next attempt starts at once. */
    async function retryNow(id: string): Promise<void> {
      const res = await http(`${env.admin}/invocations/${id}/resume`, { method: "PATCH" });
      assert.equal(res.status, 200, res.text);
    }
    /** Sends BadCommands/<key>/<handler>, drives it through its three attempts; returns the row after the first and the end. */
    async function failThrice(handler: string, key: string): Promise<{ id: string; first: InvocationRow; second: InvocationRow; final: HttpResult }> {
      const id = await send(`BadCommands/${key}/${handler}`);
      const first = await backingOff(id, 1);
      await retryNow(id);
      const second = await backingOff(id, 2);
      await retryNow(id);
      return { id, first, second, final: await attach(id) };
    }

    for (const c of cases) {
      test(`${c.handler}: a clear failure recorded, retried per the policy, nothing else changed`, async () => {
        const key = uniqueKey(c.handler);
        assert.equal((await post(`${env.ingress}/BadCommands/${key}/put`, "original")).status, 200);
        const { id, first, second, final } = await failThrice(c.handler, key);
        for (const row of [first, second]) {
          assert.match(row.last_failure ?? "", c.message, JSON.stringify(row));
          assert.match(row.last_failure_error_code ?? "", /^RT\d{4}$/, JSON.stringify(row));
          assert.equal(row.journal_size, 1, `only the input is journaled: ${JSON.stringify(row)}`);
        }
        // killed after the third attempt, with the message of the failure
        assert.ok(final.status >= 400 && final.status <= 599, final.text);
        assert.match((final.json as { message: string }).message, c.message, final.text);
        assert.equal(final.headers.get("x-restate-id"), id);
        assert.equal(executed(key, "body"), 3, "three attempts, as the policy says");
        await delay(100); // an attempt after the kill would be counted
        assert.equal(executed(key, "body"), 3, "no attempt after the kill");
        // the object's state is what it was
        assert.equal(ok(await post(`${env.ingress}/BadCommands/${key}/get`)), "original");
        assert.deepEqual(ok(await post(`${env.ingress}/BadCommands/${key}/keys`)), ["k"]);
      });
    }

    test(
      "as in the reference: error code RT0017 (forbidden command) / RT0018 (unknown target) / RT0012 (undecodable), failure code 500",
      async () => {
        const runs = await Promise.all(
          cases.map(async (c) => {
            const { first, final } = await failThrice(c.handler, uniqueKey(c.handler));
            return { handler: c.handler, errorCode: first.last_failure_error_code, failureCode: /^\[(\d+)/.exec(first.last_failure ?? "")?.[1], status: final.status };
          }),
        );
        assert.deepEqual(
          runs,
          cases.map((c) => ({ handler: c.handler, errorCode: c.reference, failureCode: "500", status: 500 })),
        );
      },
    );
  });

  describe("suspension for every awaitable", () => {
    /**
     * The invocation suspends waiting for a completion (or, for an awakeable, a signal); `wake` completes it; it
     * is invoked again and finishes once.
     */
    async function suspendThenResume(id: string, tag: string, awaits: "completion" | "signal", wake: () => Promise<void>, expected: unknown): Promise<void> {
      const row = await suspended(id);
      const waitingFor = awaits === "completion" ? row.suspended_waiting_for_completions : row.suspended_waiting_for_signals;
      assert.ok((waitingFor ?? []).length > 0, JSON.stringify(row));
      const bodies = executed(tag, "body");
      await wake();
      assert.deepEqual(ok(await attach(id)), expected);
      assert.ok(executed(tag, "body") > bodies, "the handler was invoked again after its suspension");
      assert.equal(executed(tag, "run after"), 1, "the step after the wait ran once");
    }

    test("a sleep", async () => {
      const tag = uniqueKey("wsleep");
      const id = await send("Waits/sleep", tag);
      await suspendThenResume(id, tag, "completion", async () => {}, "slept");
    });

    test("a call", async () => {
      const tag = uniqueKey("wcall");
      const id = await send("Waits/call", tag);
      const awk = await publishedId(tag, "helper");
      await suspendThenResume(id, tag, "completion", () => resolveAwakeable(awk, "called back"), "helper got called back");
      assert.equal(executed(tag, "helper publish"), 1);
    });

    test("an awakeable", async () => {
      const tag = uniqueKey("wawk");
      const id = await send("Waits/awakeable", tag);
      const awk = await publishedId(tag, "awk");
      await suspendThenResume(id, tag, "signal", () => resolveAwakeable(awk, "awoken"), "awoken");
    });

    test("a workflow promise", async () => {
      const key = uniqueKey("wwf");
      const id = await send(`WaitWf/${key}/run`);
      await suspendThenResume(id, key, "completion", async () => void ok(await post(`${env.ingress}/WaitWf/${key}/approve`, "yes")), "approved: yes");
    });

    test("completions that arrive while the endpoint suspends are not lost", async () => {
      const tags = Array.from({ length: 6 }, () => uniqueKey("wrace"));
      const ids = await Promise.all(tags.map((tag) => send("Waits/awakeable", tag)));
      // resolve each awakeable as soon as its id is out, racing the suspension
      await Promise.all(tags.map(async (tag) => resolveAwakeable(await publishedId(tag, "awk"), tag)));
      const outputs = await Promise.all(ids.map(async (id) => ok(await attach(id))));
      assert.deepEqual(outputs, tags);
      for (const tag of tags) assert.equal(executed(tag, "run after"), 1);
    });
  });
}

describe("over h2c (bidirectional stream), protocol V7", () => primitivesSuite("h2c", 7));
describe("over h2c (bidirectional stream), protocol V6", () => primitivesSuite("h2c", 6));
describe("over HTTP/1.1 (request-response, suspensions), protocol V7", () => primitivesSuite("http1", 7));
