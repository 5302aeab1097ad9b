// End to end: SDK features beyond a single handler, through perdure with the real SDK. Calls and one-way
// sends between services (plain, object, workflow; delayed sends from a handler), failures propagated to the
// caller, awakeables completed over the ingress (resolve and reject), object state keys, cancelling a callee
// from its caller, cancel and kill of a caller reaching its callee; every test runs twice, over h2c
// (bidirectional stream) and over HTTP/1.1 (request-response, where the SDK suspends at each wait).
// The probe services live in this file; awakeable ids are handed to the test through an in-process map.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as restate from "@restatedev/restate-sdk";
import { counter } from "../services/counter.ts";
import { greeter } from "../services/greeter.ts";
import { allServices } from "../services/index.ts";
import { quickWf } from "../services/signup.ts";
import { waitFor } from "../support/admin-client.ts";
import { http } from "../support/http.ts";
import { assertIngressError, post, startE2e, uniqueKey, type E2eEnv } from "./harness.ts";

/** Awakeable ids published by `Orchestrator/awaitAwakeable`, by tag. */
const awakeables = new Map<string, string>();
/** Invocation ids published by `Orchestrator/callThenCancel`, by tag. */
const calleeIds = new Map<string, string>();

const orchestrator = restate.service({
  name: "Orchestrator",
  handlers: {
    callGreeter: async (ctx: restate.Context, name: string) => ctx.serviceClient(greeter).greet({ name }),

    callCounter: async (ctx: restate.Context, input: { key: string; n: number }) => ctx.objectClient(counter, input.key).add(input.n),

    /** Fire-and-forget adds, the second one delayed. */
    sendCounter: async (ctx: restate.Context, input: { key: string; n: number; delayMs: number }) => {
      ctx.objectSendClient(counter, input.key).add(input.n);
      ctx.objectSendClient(counter, input.key).add(input.n, restate.rpc.sendOpts({ delay: input.delayMs }));
      return "sent";
    },

    callWorkflow: async (ctx: restate.Context, id: string) => ctx.workflowClient(quickWf, id).run("from-orchestrator"),

    /** The callee fails terminally: the error reaches the caller with its code and message. */
    callFailing: async (ctx: restate.Context) => {
      try {
        await ctx.serviceClient(greeter).fail({ code: 418, message: "inner teapot" });
        return { caught: null };
      } catch (err) {
        if (err instanceof restate.TerminalError) return { caught: err.message, code: err.code };
        throw err;
      }
    },

    /** Not caught: the caller fails with the callee's error. */
    callFailingUncaught: async (ctx: restate.Context) => ctx.serviceClient(greeter).fail({ code: 409, message: "propagated" }),

    awaitAwakeable: async (ctx: restate.Context, tag: string) => {
      const { id, promise } = ctx.awakeable<string>();
      await ctx.run("publish", () => {
        awakeables.set(tag, id);
      });
      try {
        return { value: await promise };
      } catch (err) {
        if (err instanceof restate.TerminalError) return { rejected: err.message };
        throw err;
      }
    },

    /** Calls a long Greeter/sleep and publishes the callee's id; cancelled or killed from outside. */
    callLong: async (ctx: restate.Context, tag: string) => {
      const call = ctx.serviceClient(greeter).sleep({ ms: 60_000 });
      const calleeId = await call.invocationId;
      await ctx.run("publish", () => {
        calleeIds.set(tag, calleeId);
      });
      return await call;
    },

    /** Starts a long sleep on Greeter, cancels it, and reports what the call saw. */
    callThenCancel: async (ctx: restate.Context, tag: string) => {
      const call = ctx.serviceClient(greeter).sleep({ ms: 60_000 });
      const calleeId = await call.invocationId;
      await ctx.run("publish", () => {
        calleeIds.set(tag, calleeId);
      });
      ctx.cancel(calleeId);
      try {
        await call;
        return { cancelled: false };
      } catch (err) {
        return { cancelled: err instanceof restate.TerminalError, code: (err as restate.TerminalError).code, message: (err as Error).message };
      }
    },
  },
});

const store = restate.object({
  name: "Store",
  handlers: {
    set: async (ctx: restate.ObjectContext, input: { k: string; v: unknown }) => {
      ctx.set(input.k, input.v);
    },
    get: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext, k: string) => (await ctx.get(k)) ?? null),
    keys: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext) => (await ctx.stateKeys()).sort()),
    clear: async (ctx: restate.ObjectContext, k: string) => {
      ctx.clear(k);
    },
  },
});

const probes = [...allServices, orchestrator, store];

function featureSuite(transport: "h2c" | "http1", maxProtocolVersion = 7): void {
  let env: E2eEnv;
  before(async () => {
    env = await startE2e({ services: { services: probes, transport }, config: { maxProtocolVersion } });
  });
  after(async () => {
    await env?.close();
  });

  test("service → service call", async () => {
    const res = await post(`${env.ingress}/Orchestrator/callGreeter`, "nested");
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, "Hello NESTED");
    // The invocation ran on the negotiated protocol version.
    const q = await http(`${env.admin}/query`, {
      json: { query: `SELECT pinned_service_protocol_version AS v FROM sys_invocation WHERE id = '${res.headers.get("x-restate-id")}'` },
      headers: { accept: "application/json" },
    });
    assert.deepEqual(q.json, { rows: [{ v: maxProtocolVersion }] });
  });

  test("service → object call, and state is the object's", async () => {
    const key = uniqueKey("oc");
    assert.equal((await post(`${env.ingress}/Orchestrator/callCounter`, { key, n: 4 })).json, 4);
    assert.equal((await post(`${env.ingress}/Orchestrator/callCounter`, { key, n: 5 })).json, 9);
    assert.equal((await http(`${env.ingress}/Counter/${key}/get`)).json, 9);
  });

  test("service → workflow call", async () => {
    const res = await post(`${env.ingress}/Orchestrator/callWorkflow`, uniqueKey("wf"));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, 'quick "from-orchestrator"');
  });

  test("one-way sends from a handler, one of them delayed", async () => {
    const key = uniqueKey("os");
    const get = async () => (await http(`${env.ingress}/Counter/${key}/get`)).json as number;
    const t0 = Date.now();
    const res = await post(`${env.ingress}/Orchestrator/sendCounter`, { key, n: 10, delayMs: 700 });
    assert.equal(res.status, 200, res.text);
    await waitFor(async () => (await get()) >= 10, 5000);
    const value = await get();
    // the read happened before t0 + 650 ms, before the delayed add was due
    if (Date.now() - t0 < 650) assert.equal(value, 10, "the delayed send arrived before its delay");
    await waitFor(async () => (await get()) === 20, 5000);
    assert.ok(Date.now() - t0 >= 650, `the delayed send arrived after ${Date.now() - t0} ms`);
  });

  test("a terminal failure of the callee reaches the caller", async () => {
    const caught = await post(`${env.ingress}/Orchestrator/callFailing`);
    assert.equal(caught.status, 200, caught.text);
    assert.deepEqual(caught.json, { caught: "inner teapot", code: 418 });
    const uncaught = await post(`${env.ingress}/Orchestrator/callFailingUncaught`);
    assertIngressError(uncaught, 409, "propagated", "invocation");
  });

  test("awakeable resolved over the ingress", async () => {
    const tag = uniqueKey("awk");
    const pending = post(`${env.ingress}/Orchestrator/awaitAwakeable`, tag);
    const id = await waitFor(() => awakeables.get(tag), 5000);
    assert.match(id, /^sign_1/);
    const resolved = await http(`${env.ingress}/restate/awakeables/${id}/resolve`, { json: "woken" });
    assert.equal(resolved.status, 202, resolved.text);
    const res = await pending;
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { value: "woken" });
  });

  test("awakeable rejected over the ingress", async () => {
    const tag = uniqueKey("awk");
    const pending = post(`${env.ingress}/Orchestrator/awaitAwakeable`, tag);
    const id = await waitFor(() => awakeables.get(tag), 5000);
    const rejected = await http(`${env.ingress}/restate/awakeables/${id}/reject`, {
      method: "POST",
      body: "no way",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(rejected.status, 202, rejected.text);
    const res = await pending;
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { rejected: "no way" });
  });

  test("a caller cancels its callee: the call fails with 409 Cancelled", async () => {
    const tag = uniqueKey("cc");
    const res = await post(`${env.ingress}/Orchestrator/callThenCancel`, tag);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { cancelled: true, code: 409, message: "Cancelled" });
    const calleeId = calleeIds.get(tag)!;
    assertIngressError(await http(`${env.ingress}/restate/invocation/${calleeId}/output`), 409, "Cancelled", "invocation");
  });

  /** Sends Orchestrator/callLong and waits until its callee sleeps; returns both ids. */
  async function callerWithSleepingCallee(): Promise<{ callerId: string; calleeId: string }> {
    const tag = uniqueKey("tree");
    const sent = await post(`${env.ingress}/Orchestrator/callLong/send`, tag);
    assert.equal(sent.status, 202, sent.text);
    const calleeId = await waitFor(() => calleeIds.get(tag), 5000);
    await waitFor(async () => (await env.perdure.store.listTimers()).some((t) => t.invocationId === calleeId && t.kind === "sleep"), 5000);
    return { callerId: (sent.json as { invocationId: string }).invocationId, calleeId };
  }

  test("cancelling a caller cancels the callee it waits for", async () => {
    const { callerId, calleeId } = await callerWithSleepingCallee();
    const res = await http(`${env.admin}/invocations/${callerId}/cancel`, { method: "PATCH" });
    assert.equal(res.status, 202, res.text);
    assertIngressError(await http(`${env.ingress}/restate/invocation/${callerId}/attach`), 409, "Cancelled", "invocation");
    assertIngressError(await http(`${env.ingress}/restate/invocation/${calleeId}/attach`), 409, "Cancelled", "invocation");
  });

  test(
    "killing a caller kills the callee it waits for",
    async () => {
      const { callerId, calleeId } = await callerWithSleepingCallee();
      const res = await http(`${env.admin}/invocations/${callerId}/kill`, { method: "PATCH" });
      assert.equal(res.status, 200, res.text);
      assertIngressError(await http(`${env.ingress}/restate/invocation/${callerId}/output`), 409, "killed", "invocation");
      try {
        const callee = await waitFor(async () => {
          const out = await http(`${env.ingress}/restate/invocation/${calleeId}/output`);
          return out.status === 470 ? undefined : out;
        }, 1000);
        assertIngressError(callee, 409, "killed", "invocation");
      } finally {
        // do not leave the callee sleeping for a minute when the assertion fails
        await http(`${env.admin}/invocations/${calleeId}/kill`, { method: "PATCH" });
      }
    },
  );

  test("object state: set, get, stateKeys, clear", async () => {
    const key = uniqueKey("store");
    const url = (h: string) => `${env.ingress}/Store/${key}/${h}`;
    for (const [k, v] of [["b", 2], ["a", { nested: true }], ["c", "three"]] as const) {
      assert.equal((await post(url("set"), { k, v })).status, 200);
    }
    assert.deepEqual((await post(url("keys"))).json, ["a", "b", "c"]);
    assert.deepEqual((await post(url("get"), "a")).json, { nested: true });
    await post(url("clear"), "b");
    assert.deepEqual((await post(url("keys"))).json, ["a", "c"]);
    assert.equal((await post(url("get"), "b")).json, null);
    assert.deepEqual((await post(`${env.ingress}/Store/${key}-other/keys`)).json, []);
  });
}

describe("over h2c (bidirectional stream), protocol V7", () => featureSuite("h2c"));
describe("over h2c (bidirectional stream), protocol V6", () => featureSuite("h2c", 6));
describe("over HTTP/1.1 (request-response, suspensions), protocol V7", () => featureSuite("http1"));
describe("over HTTP/1.1 (request-response, suspensions), protocol V6", () => featureSuite("http1", 6));
