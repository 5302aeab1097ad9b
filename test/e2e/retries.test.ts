// End to end: retries. A handler that throws plain errors is retried until it succeeds (the caller waits);
// with `onMaxAttempts: "kill"` it ends in a 500 carrying the message and stacktrace; a TerminalError is never
// retried; and a ctx.run step that completed before a retryable failure is replayed, not executed again.
// Besides the shared test services, this file serves a small probe service that counts, in this process,
// how often each handler body and each run closure executed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as restate from "@restatedev/restate-sdk";
import { allServices } from "../services/index.ts";
import { startServices, type ServicesServer } from "../services/index.ts";
import { registerDeployment, waitFor } from "../support/admin-client.ts";
import { http } from "../support/http.ts";
import { assertIngressError, post, startE2e, uniqueKey, type E2eEnv, type SendAck } from "./harness.ts";

/** Executions per "<probe id> <what>". */
const executions = new Map<string, number>();
function count(id: string, what: string): number {
  const key = `${id} ${what}`;
  const n = (executions.get(key) ?? 0) + 1;
  executions.set(key, n);
  return n;
}
const executed = (id: string, what: string) => executions.get(`${id} ${what}`) ?? 0;

/**
 * Asserting that something does NOT happen cannot be polled for: wait a few retry intervals (50 ms each)
 * so that a wrong retry after the response would have been counted.
 */
const RETRY_WINDOW_MS = 200;
const retryWindow = () => new Promise((resolve) => setTimeout(resolve, RETRY_WINDOW_MS));

const fastRetries = { initialInterval: 50, exponentiationFactor: 1, maxInterval: 50 } as const;

const retryProbe = restate.service({
  name: "RetryProbe",
  handlers: {
    /** Throws a TerminalError on every execution. */
    terminal: restate.handlers.handler({ retryPolicy: fastRetries }, async (_ctx: restate.Context, id: string): Promise<void> => {
      count(id, "body");
      throw new restate.TerminalError("terminal from probe", { errorCode: 422 });
    }),

    /** Plain errors on the first two attempts, then a TerminalError: three executions in all. */
    flakyThenTerminal: restate.handlers.handler({ retryPolicy: fastRetries }, async (_ctx: restate.Context, id: string): Promise<void> => {
      const n = count(id, "body");
      if (n <= 2) throw new Error(`transient ${n}`);
      throw new restate.TerminalError(`gave up after ${n}`, { errorCode: 409 });
    }),

    /** A run step, then plain errors on the first two attempts; the step must run once. */
    runThenFlaky: restate.handlers.handler({ retryPolicy: fastRetries }, async (ctx: restate.Context, id: string) => {
      const step = await ctx.run("step", () => count(id, "step"));
      const n = count(id, "body");
      if (n <= 2) throw new Error(`after step, attempt ${n}`);
      return { step, attempts: n };
    }),

    /** A TerminalError thrown inside a run closure: neither the closure nor the handler is retried. */
    terminalInRun: restate.handlers.handler({ retryPolicy: fastRetries }, async (ctx: restate.Context, id: string): Promise<void> => {
      count(id, "body");
      await ctx.run("boom", (): void => {
        count(id, "closure");
        throw new restate.TerminalError("boom in run", { errorCode: 400 });
      });
    }),

    /** Always a plain error; after 2 attempts the invocation is paused. */
    pauseAlways: restate.handlers.handler(
      { retryPolicy: { ...fastRetries, maxAttempts: 2, onMaxAttempts: "pause" } },
      async (_ctx: restate.Context, id: string): Promise<void> => {
        const n = count(id, "body");
        throw new Error(`always failing (pause) ${n}`);
      },
    ),

    /** A plain error inside a run closure with a run retry policy of 3 attempts; the handler then fails terminally. */
    runRetries: async (ctx: restate.Context, id: string) => {
      try {
        await ctx.run(
          "unstable",
          (): void => {
            count(id, "closure");
            throw new Error("unstable closure");
          },
          { maxRetryAttempts: 3, initialRetryInterval: { milliseconds: 20 } },
        );
      } catch (err) {
        return { caught: (err as Error).message, closure: executed(id, "closure") };
      }
      return { caught: null };
    },
  },
});

let env: E2eEnv;

before(async () => {
  env = await startE2e({ services: { services: [...allServices, retryProbe] } });
});

after(async () => {
  await env?.close();
});

test("flaky handler: the caller waits through the retries and gets the result", async () => {
  const t0 = Date.now();
  const res = await post(`${env.ingress}/Greeter/flaky`);
  const elapsed = Date.now() - t0;
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { attempts: 4 });
  // three retries, 100 ms apart
  assert.ok(elapsed >= 250, `three 100 ms retry intervals took only ${elapsed} ms`);
});

test("flaky handler via /send: output is 200 once the retries are done", async () => {
  const sent = await post(`${env.ingress}/Greeter/flaky/send`);
  assert.equal(sent.status, 202, sent.text);
  const id = (sent.json as { invocationId: string }).invocationId;
  const attached = await http(`${env.ingress}/restate/invocation/${id}/attach`);
  assert.equal(attached.status, 200, attached.text);
  assert.deepEqual(attached.json, { attempts: 4 });
});

test("failKill: 500 with the message and stacktrace after its attempts; output replays it", async () => {
  const t0 = Date.now();
  const res = await post(`${env.ingress}/Greeter/failKill`);
  const elapsed = Date.now() - t0;
  assertIngressError(res, 500, "always failing (kill)", "invocation");
  const body = res.json as { stacktrace?: string };
  assert.equal(typeof body.stacktrace, "string", res.text);
  assert.match(body.stacktrace!, /^Error: always failing \(kill\)/);
  assert.ok(elapsed >= 150, `3 attempts with 100 ms intervals took only ${elapsed} ms`);

  const id = res.headers.get("x-restate-id")!;
  const output = await http(`${env.ingress}/restate/invocation/${id}/output`);
  assertIngressError(output, 500, "always failing (kill)", "invocation");
  assert.equal(output.headers.get("x-restate-id"), id);
  assert.ok(output.headers.get("idempotency-expires"), "a replayed failure has idempotency-expires");
});

test("a TerminalError is never retried: the handler body runs once", async () => {
  const id = uniqueKey("terminal");
  const res = await post(`${env.ingress}/RetryProbe/terminal`, id);
  assertIngressError(res, 422, "terminal from probe", "invocation");
  await retryWindow();
  assert.equal(executed(id, "body"), 1);
});

test("transient errors then a TerminalError: retried until the terminal one, then never again", async () => {
  const id = uniqueKey("then-terminal");
  const res = await post(`${env.ingress}/RetryProbe/flakyThenTerminal`, id);
  assertIngressError(res, 409, "gave up after 3", "invocation");
  await retryWindow();
  assert.equal(executed(id, "body"), 3);
});

test("a TerminalError inside ctx.run: closure and handler run once", async () => {
  const id = uniqueKey("terminal-run");
  const res = await post(`${env.ingress}/RetryProbe/terminalInRun`, id);
  assertIngressError(res, 400, "boom in run", "invocation");
  await retryWindow();
  assert.equal(executed(id, "closure"), 1);
  assert.equal(executed(id, "body"), 1);
});

test("a completed ctx.run step is replayed, not re-executed, on retry", async () => {
  const id = uniqueKey("run-replay");
  const res = await post(`${env.ingress}/RetryProbe/runThenFlaky`, id);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { step: 1, attempts: 3 });
  assert.equal(executed(id, "step"), 1, "the run closure executed again on retry");
  assert.equal(executed(id, "body"), 3);
});

test("a ctx.run with its own retry policy gives up after its attempts and the handler sees the error", async () => {
  const id = uniqueKey("run-retries");
  const res = await post(`${env.ingress}/RetryProbe/runRetries`, id);
  assert.equal(res.status, 200, res.text);
  const body = res.json as { caught: string; closure: number };
  assert.match(body.caught, /unstable closure/);
  assert.equal(executed(id, "closure"), 3);
});

test("retries exhausted with onMaxAttempts pause: paused (output 470, no more attempts); cancel keeps it paused; kill ends it", async () => {
  const id = uniqueKey("pause");
  const sent = await post(`${env.ingress}/RetryProbe/pauseAlways/send`, id);
  assert.equal(sent.status, 202, sent.text);
  const invocationId = (sent.json as SendAck).invocationId;
  await waitFor(() => executed(id, "body") >= 2, 5000);
  await retryWindow();
  assert.equal(executed(id, "body"), 2, "a paused invocation must not be retried");
  const admin = (action: string) => http(`${env.admin}/invocations/${invocationId}/${action}`, { method: "PATCH" });
  const output = () => http(`${env.ingress}/restate/invocation/${invocationId}/output`);
  assertIngressError(await output(), 470, "the invocation exists but has not completed yet");

  // cancel is accepted but the handler fails before it sees it: still paused
  assert.equal((await admin("cancel")).status, 202);
  await retryWindow();
  assertIngressError(await output(), 470, "the invocation exists but has not completed yet");

  // resume runs another attempt
  const resumed = await admin("resume");
  assert.equal(resumed.status, 200, resumed.text);
  await waitFor(() => executed(id, "body") >= 3, 5000);

  const killed = await admin("kill");
  assert.equal(killed.status, 200, killed.text);
  assertIngressError(await output(), 409, "killed", "invocation");
});

test("deployment down: a call with onMaxAttempts kill fails with 500 after its attempts", async () => {
  const downSvc = restate.service({
    name: "DownSvc",
    handlers: {
      hello: restate.handlers.handler(
        { retryPolicy: { initialInterval: 100, exponentiationFactor: 1, maxAttempts: 3, onMaxAttempts: "kill" } },
        async () => "hello",
      ),
      helloDefault: async () => "hello",
    },
  });
  let down: ServicesServer | undefined = await startServices(0, { quiet: true, services: [downSvc] });
  try {
    const reg = await registerDeployment(env.admin, down.url);
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    assert.equal((await post(`${env.ingress}/DownSvc/hello`)).json, "hello");
    await down.close();
    down = undefined;

    const t0 = Date.now();
    const res = await post(`${env.ingress}/DownSvc/hello`);
    assertIngressError(res, 500, /.+/, "invocation");
    assert.ok(Date.now() - t0 >= 150, `3 attempts 100 ms apart took ${Date.now() - t0} ms`);

    // with the default policy the send is accepted and the invocation keeps backing off
    const sent = await post(`${env.ingress}/DownSvc/helloDefault/send`);
    assert.equal(sent.status, 202, sent.text);
    const output = await http(`${env.ingress}/restate/invocation/${(sent.json as SendAck).invocationId}/output`);
    assertIngressError(output, 470, "the invocation exists but has not completed yet");
  } finally {
    await down?.close();
  }
});
