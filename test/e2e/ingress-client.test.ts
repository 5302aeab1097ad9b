// The SDK's own ingress client (`@restatedev/restate-sdk-clients`) against perdure: typed calls, sends with
// idempotency keys and `result()`, workflow submit/attach/output, and resolving and rejecting awakeables.

import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import * as restate from "@restatedev/restate-sdk";
import * as clients from "@restatedev/restate-sdk-clients";
import { startE2e, type E2eEnv } from "./harness.ts";
import { greeter } from "../services/greeter.ts";
import { counter } from "../services/counter.ts";
import { signup } from "../services/signup.ts";

/** Awakeable ids created by the Waiter service, by the caller's tag. */
const awakeableIds = new Map<string, string>();

const waiter = restate.service({
  name: "Waiter",
  handlers: {
    wait: async (ctx: restate.Context, tag: string) => {
      const { id, promise } = ctx.awakeable<string>();
      await ctx.run("publish id", () => void awakeableIds.set(tag, id));
      try {
        return `resolved with ${await promise}`;
      } catch (err) {
        return `rejected: ${(err as Error).message}`;
      }
    },
  },
});

describe("the SDK's ingress client", () => {
  let env: E2eEnv;
  let ingress: clients.Ingress;
  before(async () => {
    env = await startE2e({ services: { services: [greeter, counter, signup, waiter] } });
    ingress = clients.connect({ url: env.ingress });
  });
  after(() => env?.close());

  test("typed service and object calls", async () => {
    assert.equal(await ingress.serviceClient(greeter).greet({ name: "ada" }), "Hello ADA");
    const c = ingress.objectClient(counter, "client-k1");
    assert.equal(await c.add(3), 3);
    assert.equal(await c.add(4), 7);
    assert.equal(await c.get(), 7);
  });

  test("a send with an idempotency key, then result()", async () => {
    const send = await ingress.objectSendClient(counter, "client-k2").countExec("payload", clients.rpc.sendOpts({ idempotencyKey: "client-idem-1" }));
    assert.match(send.invocationId, /^inv_1/);
    assert.deepEqual(await ingress.result(send), { execs: 1, input: "payload" });
    const again = await ingress.objectSendClient(counter, "client-k2").countExec("other", clients.rpc.sendOpts({ idempotencyKey: "client-idem-1" }));
    assert.equal(again.invocationId, send.invocationId);
    assert.deepEqual(await ingress.result(again), { execs: 1, input: "payload" }, "the repeat executed nothing");
  });

  test("a delayed send runs after its delay", async () => {
    const started = Date.now();
    const send = await ingress.objectSendClient(counter, "client-k3").add(5, clients.rpc.sendOpts({ delay: { milliseconds: 400 }, idempotencyKey: "client-delay" }));
    assert.equal(await ingress.result(send), 5);
    assert.ok(Date.now() - started >= 380, `completed after ${Date.now() - started} ms`);
  });

  test("workflowSubmit, workflowOutput, workflowAttach", async () => {
    const wf = ingress.workflowClient(signup, "client-wf");
    const submission = await wf.workflowSubmit("in-client");
    assert.match(submission.invocationId, /^inv_1/);
    assert.equal((await wf.workflowOutput()).ready, false);
    const attached = wf.workflowAttach();
    assert.equal(await wf.confirm("yes"), "confirmed");
    assert.deepEqual(await attached, { result: "done yes", input: "in-client" });
    const output = await wf.workflowOutput();
    assert.equal(output.ready, true);
    assert.deepEqual(output.result, { result: "done yes", input: "in-client" });
  });

  test("resolveAwakeable and rejectAwakeable", async () => {
    const resolved = await ingress.serviceSendClient(waiter).wait("r", clients.rpc.sendOpts({ idempotencyKey: "client-aw-r" }));
    const rejected = await ingress.serviceSendClient(waiter).wait("j", clients.rpc.sendOpts({ idempotencyKey: "client-aw-j" }));
    const until = async (tag: string) => {
      for (let i = 0; i < 200 && !awakeableIds.has(tag); i++) await new Promise((r) => setTimeout(r, 20));
      return awakeableIds.get(tag)!;
    };
    await ingress.resolveAwakeable(await until("r"), "hi");
    await ingress.rejectAwakeable(await until("j"), "no thanks");
    assert.equal(await ingress.result(resolved), "resolved with hi");
    assert.equal(await ingress.result(rejected), "rejected: no thanks");
  });
});
