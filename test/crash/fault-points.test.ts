// Crash windows at named fault points: perdure kills itself right before a batch commits, or right after the
// commit and before its effects (the 202 of a send). After a restart on the same data dir, a client that
// retries with its idempotency key sees the invocation executed exactly once.

import { test } from "node:test";
import assert from "node:assert/strict";
import { startServices } from "../services/index.ts";
import { startPerdure } from "../support/perdure-process.ts";
import { registerDeployment } from "../support/admin-client.ts";
import { http } from "../support/http.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";

// Batch 1 is the cleanup perdure runs at start; batch 2 is the first request's invocation.
const SEND_BATCH = 2;

for (const point of ["batch-applied", "batch-committed"] as const) {
  test(`a send interrupted at ${point} executes once after restart`, async (t) => {
    const services = await startServices(0, { quiet: true });
    const dataDir = await makeTempDir("perdure-fault-");
    const first = await startPerdure({ dataDir, extraArgs: ["--test-fault-point", `${point}@${SEND_BATCH}`] });
    t.after(async () => {
      await first.dispose();
      await services.close();
      await removeTempDir(dataDir);
    });
    assert.equal((await registerDeployment(first.adminUrl, services.url)).status, 201);

    const key = `fault-${point}`;
    const send = () => http(`${first.ingressUrl}/Counter/${key}/countExec/send`, { json: "x", headers: { "idempotency-key": key } });
    await assert.rejects(send(), "the crash must cut the request before any answer");
    const exit = await first.kill("SIGKILL");
    assert.equal(exit.signal, "SIGKILL");

    const second = await startPerdure({ dataDir, ingressPort: first.ingressPort, adminPort: first.adminPort });
    t.after(() => second.dispose());
    const retry = await send();
    assert.equal(retry.status, 202);
    const accepted = retry.json as { invocationId: string; status: string };
    // Before the commit nothing was written, so the retry is the first acceptance; after it, the retry finds it.
    assert.equal(accepted.status, point === "batch-applied" ? "Accepted" : "PreviouslyAccepted");

    const attached = await http(`${second.ingressUrl}/restate/invocation/${accepted.invocationId}/attach`);
    assert.equal(attached.status, 200);
    assert.deepEqual(attached.json, { execs: 1, input: "x" });
    const execs = await http(`${second.ingressUrl}/Counter/${key}/execs`, { method: "POST" });
    assert.equal(execs.json, 1);
  });
}
