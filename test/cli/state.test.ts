// The real `restate` CLI (pinned devDependency) editing state in perdure: `state patch`, `state clear`, and a
// stale edit that is dropped because the state changed since the CLI read it. Effects are checked through the
// ingress.

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
import { stateVersion } from "../../src/core/state-version.ts";

const exec = promisify(execFile);
const cli = process.env.RESTATE_CLI ?? path.join(REPO_ROOT, "node_modules", ".bin", "restate");

describe("restate state … against perdure", () => {
  let env: E2eEnv;
  let home: string;
  before(async () => {
    env = await startE2e();
    home = await makeTempDir("restate-cli-home-");
  });
  after(async () => {
    await env?.close();
    if (home) await removeTempDir(home);
  });

  const restate = async (...args: string[]) => {
    const { stdout, stderr } = await exec(cli, args, {
      env: { ...process.env, HOME: home, RESTATE_ADMIN_URL: env.admin, NO_COLOR: "1", TERM: "dumb" },
      encoding: "utf8",
      timeout: 30_000,
    });
    return `${stdout}\n${stderr}`;
  };
  const count = async (key: string) => (await http(`${env.ingress}/Counter/${key}/get`, { method: "POST" })).json;

  test("state patch replaces values, state clear removes them", async () => {
    assert.equal((await http(`${env.ingress}/Counter/cli-1/add`, { json: 5 })).json, 5);
    await restate("state", "patch", "Counter", "cli-1", "--patch", '[{"op":"replace","path":"/count","value":41}]', "--yes");
    assert.equal(await count("cli-1"), 41);
    assert.equal((await http(`${env.ingress}/Counter/cli-1/add`, { json: 1 })).json, 42, "handlers see the edited state");
    assert.equal((await restate("state", "get", "Counter", "cli-1", "--plain")).trim(), '{"count":42}');
    await restate("state", "clear", "Counter/cli-1", "--yes");
    assert.equal(await count("cli-1"), 0);
  });

  test("state edit runs $EDITOR on the state and writes the result back; sql --json and --jsonl read it", async () => {
    await http(`${env.ingress}/Counter/cli-3/add`, { json: 5 });
    const editor = path.join(home, "editor.sh");
    writeFileSync(editor, `#!/bin/sh\nsed -i 's/5/8/' "$1"\n`);
    chmodSync(editor, 0o755);
    const { stdout, stderr } = await exec(cli, ["state", "edit", "Counter", "cli-3", "--yes"], {
      env: { ...process.env, HOME: home, RESTATE_ADMIN_URL: env.admin, NO_COLOR: "1", TERM: "dumb", EDITOR: editor, VISUAL: editor },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(await count("cli-3"), 8, `${stdout}\n${stderr}`);
    const json = await restate("sql", "--json", "select key, value_utf8 from state where service_name = 'Counter' and service_key = 'cli-3'");
    assert.match(json, /"value_utf8":\s*"8"/);
    const jsonl = await restate("sql", "--jsonl", "select key, value_utf8 from state where service_name = 'Counter' and service_key = 'cli-3'");
    assert.match(jsonl, /^\{"key":"count","value_utf8":"8"\}$/m);
  });

  test("a change made with a stale version is dropped; without a version it applies", async () => {
    await http(`${env.ingress}/Counter/cli-2/add`, { json: 2 });
    const stale = stateVersion([[Buffer.from("count"), Buffer.from("1")]]);
    const post = (version: string | null) =>
      http(`${env.admin}/services/Counter/state`, { json: { version, object_key: "cli-2", new_state: { count: [...Buffer.from("9")] } } });
    assert.equal((await post(stale)).status, 202);
    assert.equal(await count("cli-2"), 2, "the stale change was dropped");
    const current = stateVersion([[Buffer.from("count"), Buffer.from("2")]]);
    assert.equal((await post(current)).status, 202);
    assert.equal(await count("cli-2"), 9, "a change made with the current version applies");
    assert.equal((await post(null)).status, 202);
    const bad = await http(`${env.admin}/services/Counter/state`, { json: { object_key: "cli-2", new_state: { count: "nope" } } });
    assert.equal(bad.status, 422);
    assert.equal((await http(`${env.admin}/services/Greeter/state`, { json: { object_key: "x", new_state: {} } })).status, 400);
  });
});
