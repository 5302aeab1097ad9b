// Sanity check of the differential-test harness against the real reference server: our SDK
// services, restate-server on free ports, deployment registration, a service call, virtual-object
// state and a workflow with a durable promise, then clean shutdown.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { registerDeployment, waitFor } from "./support/admin-client.ts";
import { http } from "./support/http.ts";
import { startRestateServer, type RestateServerProcess } from "./support/restate-server.ts";
import { startServices, type ServicesServer } from "./services/index.ts";

let services: ServicesServer | undefined;
let restate: RestateServerProcess | undefined;

before(async () => {
  services = await startServices(0, { quiet: true });
  restate = await startRestateServer();
});

after(async () => {
  await restate?.dispose();
  await services?.close();
});

function ref(): RestateServerProcess {
  assert.ok(restate, "restate-server did not start");
  return restate;
}

test("reference server: register, call, object state, workflow", { timeout: 20_000 }, async (t) => {
  const server = ref();
  const ingress = server.ingressUrl;

  await t.test("registers the deployment", async () => {
    assert.ok(services);
    const res = await registerDeployment<{ id: string; services: { name: string }[] }>(server.adminUrl, services.url);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.match(res.body.id, /^dp_/);
    const names = res.body.services.map((s) => s.name).sort();
    assert.deepEqual(names, ["Counter", "Greeter", "Private", "QuickWf", "Signup", "Steps"]);
    // The ingress learns about the new schema asynchronously.
    await waitFor(async () => {
      const health = await http(`${ingress}/restate/health`);
      return (health.json as { services?: string[] }).services?.includes("Greeter");
    }, 5000);
  });

  await t.test("Greeter/greet", async () => {
    const res = await http(`${ingress}/Greeter/greet`, { json: { name: "anna" } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json, "Hello ANNA");
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.match(res.headers.get("x-restate-id") ?? "", /^inv_1/);
  });

  await t.test("Counter add twice keeps state", async () => {
    const key = `smoke-${Date.now()}`;
    const first = await http(`${ingress}/Counter/${key}/add`, { json: 5 });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json, 5);
    const second = await http(`${ingress}/Counter/${key}/add`, { json: 3 });
    assert.equal(second.json, 8);
    const get = await http(`${ingress}/Counter/${key}/get`);
    assert.equal(get.status, 200, get.text);
    assert.equal(get.json, 8);
  });

  await t.test("Signup workflow: send, attach, confirm", async () => {
    const id = `w-${Date.now()}`;
    const sent = await http(`${ingress}/Signup/${id}/run/send`, { json: "in1" });
    assert.equal(sent.status, 202, sent.text);
    const accepted = sent.json as { invocationId: string; status: string };
    assert.equal(accepted.status, "Accepted");
    assert.match(accepted.invocationId, /^inv_1/);

    await waitFor(async () => (await http(`${ingress}/Signup/${id}/status`, { method: "POST" })).json === "waiting");
    const notReady = await http(`${ingress}/restate/workflow/Signup/${id}/output`);
    assert.equal(notReady.status, 470, notReady.text);

    const attached = http(`${ingress}/restate/workflow/Signup/${id}/attach`);
    const confirmed = await http(`${ingress}/Signup/${id}/confirm`, { json: "yes" });
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.json, "confirmed");

    const result = await attached;
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(result.json, { result: "done yes", input: "in1" });
    assert.equal(result.headers.get("x-restate-id"), accepted.invocationId);

    const output = await http(`${ingress}/restate/workflow/Signup/${id}/output`);
    assert.equal(output.status, 200, output.text);
    assert.deepEqual(output.json, { result: "done yes", input: "in1" });
    assert.ok(output.headers.get("idempotency-expires"));
  });
});

test("stopping the reference server exits cleanly", async () => {
  const code = await ref().stop();
  assert.equal(code, 0, ref().logs());
});
