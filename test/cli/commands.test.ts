// The real `restate` CLI (pinned devDependency) driving perdure non-interactively: whoami, deployments,
// services and their config, and the invocation commands (cancel, kill, purge, pause, resume,
// restart-as-new). Effects are checked through the ingress and the admin API.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { chmodSync, writeFileSync } from "node:fs";
import { startE2e, type E2eEnv } from "../e2e/harness.ts";
import { REPO_ROOT } from "../support/perdure-process.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";
import { http } from "../support/http.ts";
import { startServices, type ServicesServer } from "../services/index.ts";
import { quickWf } from "../services/signup.ts";

const exec = promisify(execFile);
const cli = process.env.RESTATE_CLI ?? path.join(REPO_ROOT, "node_modules", ".bin", "restate");

describe("restate CLI commands against perdure", () => {
  let env: E2eEnv;
  let home: string;
  let extra: ServicesServer;
  before(async () => {
    env = await startE2e();
    home = await makeTempDir("restate-cli-home-");
    extra = await startServices(0, { quiet: true, services: [quickWf] });
  });
  after(async () => {
    await env?.close();
    await extra?.close();
    if (home) await removeTempDir(home);
  });

  const restate = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await exec(cli, args, {
        env: { ...process.env, HOME: home, RESTATE_ADMIN_URL: env.admin, RESTATE_INGRESS_URL: env.ingress, NO_COLOR: "1", TERM: "dumb" },
        encoding: "utf8",
        timeout: 30_000,
      });
      return `${stdout}\n${stderr}`;
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      assert.fail(`restate ${args.join(" ")} exited with ${e.code}:\n${e.stdout}\n${e.stderr}`);
    }
  };
  const send = async (path: string, body: unknown) => ((await http(`${env.ingress}${path}`, { json: body })).json as { invocationId: string }).invocationId;
  const status = async (id: string) => {
    const q = await http(`${env.admin}/query`, { json: { query: `SELECT status FROM sys_invocation WHERE id = '${id}'` }, headers: { accept: "application/json" } });
    return (q.json as { rows: Array<{ status: string }> }).rows[0]?.status;
  };

  test("whoami, deployments and services", async () => {
    assert.match(await restate("whoami"), new RegExp(env.admin.replace(/[.]/g, "\\.")));
    assert.match(await restate("deployments", "list"), /dp_/);
    assert.match(await restate("deployments", "describe", env.deploymentId!), /Greeter/);
    assert.match(await restate("services", "list"), /Counter/);
    assert.match(await restate("services", "describe", "Counter"), /add/);
    await restate("services", "config", "patch", "Greeter", "--idempotency-retention", "2h", "--yes");
    assert.match(await restate("services", "config", "view", "Greeter"), /2h/);
    assert.equal(((await http(`${env.admin}/services/Greeter`)).json as { idempotency_retention: string }).idempotency_retention, "2h");

    await restate("deployments", "register", extra.url, "--yes");
    assert.equal((await http(`${env.ingress}/QuickWf/cli/run`, { json: "a" })).status, 200);
    const deployments = (await http(`${env.admin}/deployments`)).json as { deployments: Array<{ id: string; uri: string }> };
    const added = deployments.deployments.find((d) => d.uri.startsWith(extra.url));
    assert.ok(added, "registered through the CLI");
    await restate("deployments", "remove", added.id, "--force", "--yes");
    assert.equal((await http(`${env.ingress}/QuickWf/cli2/run`, { json: "a" })).status, 404, "its services are gone");
  });

  test("services config edit (through $EDITOR) and invocations list with filters", async () => {
    const editor = path.join(home, "config-editor.sh");
    // The CLI opens a commented TOML template; settings written into it are the changes to make.
    writeFileSync(editor, `#!/bin/sh\nprintf 'inactivity_timeout = "2m"\\n' >> "$1"\n`);
    chmodSync(editor, 0o755);
    const env2 = { ...process.env, HOME: home, RESTATE_ADMIN_URL: env.admin, NO_COLOR: "1", TERM: "dumb", EDITOR: editor, VISUAL: editor };
    const edited = await exec(cli, ["services", "config", "edit", "Counter", "--yes"], { env: env2, encoding: "utf8", timeout: 30_000 });
    const svc = (await http(`${env.admin}/services/Counter`)).json as { inactivity_timeout: string };
    assert.equal(svc.inactivity_timeout, "2m", `${edited.stdout}\n${edited.stderr}`);

    const sleeper = await send("/Counter/cli-list/block/send", { ms: 5_000 });
    const queued = await send("/Counter/cli-list/add/send", 1);
    const scheduled = await send("/Greeter/greet/send?delay=1h", { name: "later" });
    const all = await restate("invocations", "list");
    for (const id of [sleeper, queued, scheduled]) assert.ok(all.includes(id), `${id} listed`);
    const byService = await restate("invocations", "list", "--service", "Counter", "--key", "cli-list", "--handler", "add");
    assert.ok(byService.includes(queued) && !byService.includes(sleeper) && !byService.includes(scheduled));
    const pending = await restate("invocations", "list", "--status", "pending");
    assert.ok(pending.includes(queued) && !pending.includes(sleeper));
    const scheduledOnly = await restate("invocations", "list", "--status", "scheduled");
    assert.ok(scheduledOnly.includes(scheduled) && !scheduledOnly.includes(queued));
    await restate("invocations", "kill", sleeper, "--yes");
    await restate("invocations", "kill", scheduled, "--yes");
  });

  test("invocations cancel, kill, pause, resume, purge, restart-as-new", async () => {
    const sleeping = await send("/Greeter/sleep/send", { ms: 60_000 });
    await restate("invocations", "cancel", sleeping, "--yes");
    const cancelled = await http(`${env.ingress}/restate/invocation/${sleeping}/attach`);
    assert.equal(cancelled.status, 409);
    assert.equal((cancelled.json as { message: string }).message, "Cancelled");

    const killed = await send("/Greeter/sleep/send", { ms: 60_000 });
    await restate("invocations", "kill", killed, "--yes");
    assert.equal(((await http(`${env.ingress}/restate/invocation/${killed}/output`)).json as { message: string }).message, "killed");

    const paused = await send("/Greeter/sleep/send", { ms: 300 });
    await restate("invocations", "pause", paused, "--yes");
    assert.equal(await status(paused), "paused");
    await restate("invocations", "resume", paused, "--yes");
    assert.equal((await http(`${env.ingress}/restate/invocation/${paused}/attach`)).json, "slept");

    const done = await send("/Counter/cli-restart/add/send", 2);
    assert.equal((await http(`${env.ingress}/restate/invocation/${done}/attach`)).json, 2);
    await restate("invocations", "restart-as-new", done, "--yes");
    const restarted = await http(`${env.admin}/invocations/${done}/restart-as-new`, { method: "PATCH" });
    assert.equal(restarted.status, 200, restarted.text);
    const newId = (restarted.json as { new_invocation_id: string }).new_invocation_id;
    assert.match(newId, /^inv_1/);
    assert.equal((await http(`${env.ingress}/restate/invocation/${newId}/attach`)).json, 6, "ran twice more with the same input");

    await restate("invocations", "purge", done, "--yes");
    assert.equal((await http(`${env.ingress}/restate/invocation/${done}/output`)).status, 404);
  });
});
