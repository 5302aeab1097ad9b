// The real `restate` CLI reading perdure through `/query`: invocations list/describe, services status, sql,
// state get, deployments --extra. Runs when the CLI is installed (node_modules/.bin/restate, from the npm
// package @restatedev/restate) or named by RESTATE_CLI; skipped otherwise. The CLI talks to a small proxy
// that answers `/query` with the engine under test and forwards every other admin request to perdure, so
// this test does not depend on how the admin server routes `/query`.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { serveQuery } from "../../src/query/index.ts";
import { REPO_ROOT } from "../support/perdure-process.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";
import { startScenario, type Scenario } from "./harness.ts";

const cli = process.env.RESTATE_CLI ?? path.join(REPO_ROOT, "node_modules", ".bin", "restate");
const skip = existsSync(cli) ? false : `the restate CLI is not installed (${cli}); install @restatedev/restate or set RESTATE_CLI`;
const exec = promisify(execFile);

let s: Scenario;
let proxy: http.Server;
let adminUrl: string;
let home: string;

before(async () => {
  if (skip) return;
  s = await startScenario();
  home = await makeTempDir("restate-cli-home-");
  proxy = http.createServer((req, res) => {
    const route = (req.url ?? "/").replace(/^\/v\d+(?=\/)/, "");
    if (route === "/query" || route.startsWith("/query?")) {
      void serveQuery(s.engine, req, res);
      return;
    }
    void forward(req, res);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  adminUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

after(async () => {
  if (skip) return;
  await new Promise((resolve) => proxy?.close(resolve));
  await s?.close();
  if (home) await removeTempDir(home);
});

async function forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  if (req.headers["content-type"]) headers["content-type"] = String(req.headers["content-type"]);
  const upstream = await fetch(`${s.admin}${req.url}`, { method: req.method ?? "GET", headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) });
  const body = Buffer.from(await upstream.arrayBuffer());
  const out: Record<string, string> = {};
  upstream.headers.forEach((value, name) => {
    if (!["content-length", "content-encoding", "transfer-encoding", "connection"].includes(name)) out[name] = value;
  });
  res.writeHead(upstream.status, { ...out, "content-length": body.length });
  res.end(body);
}

/** stdout, then stderr (where the CLI writes its "Showing …" and "N rows" lines). */
async function restate(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await exec(cli, args, {
      env: { ...process.env, HOME: home, RESTATE_ADMIN_URL: adminUrl, NO_COLOR: "1", TERM: "dumb" },
      encoding: "utf8",
      timeout: 30_000,
    });
    return `${stdout}\n${stderr}`;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    assert.fail(`restate ${args.join(" ")} exited with ${e.code}:\n${e.stdout}\n${e.stderr}`);
  }
}

describe("the restate CLI over /query", { skip }, () => {
  test("invocations list shows every active invocation with its status", async () => {
    const out = await restate("invocations", "list");
    for (const [name, id] of Object.entries(s.ids)) {
      if (["completed", "failed", "counterAdd", "caller"].includes(name)) assert.ok(!out.includes(id), `${name} is completed`);
      else assert.ok(out.includes(id), `${name} listed`);
    }
    assert.match(out, /backing-off/);
    assert.match(out, /always failing slowly/);
    assert.match(out, /Showing 8\/8 invocations/);
  });

  test("invocations describe shows the journal, parsed from entry_json", async () => {
    const caller = await restate("invocations", "describe", s.ids.caller);
    assert.match(caller, /Command: Call Greeter\/greet inv_/);
    assert.match(caller, /Command: OneWayCall Greeter\/noop inv_/);
    assert.match(caller, /completed with success/);
    const sleeping = await restate("invocations", "describe", s.ids.suspended);
    assert.match(sleeping, /Command: Sleep until \d{4}-\d{2}-\d{2}/);
    assert.match(sleeping, /suspended/);
  });

  test("services status, sql, state get, deployments --extra", async () => {
    const status = await restate("services", "status", "Counter");
    assert.ok(status.includes(s.blockedKey));
    assert.ok(status.includes(s.ids.blocker));
    const rows = JSON.parse((await restate("sql", "--json", `select key, value_utf8 from state where service_key = '${s.stateKey}'`)).replace(/\d+ rows?\..*$/s, "").trim()) as unknown;
    assert.deepEqual(rows, [{ key: "count", value_utf8: "5" }]);
    assert.match(await restate("sql", "select id, status, created_at from sys_invocation limit 3"), /3 rows/);
    assert.equal((await restate("state", "get", "Counter", s.stateKey, "--plain")).trim(), '{"count":5}');
    assert.match(await restate("deployments", "list", "--extra"), /Active\s+6\s+/);
  });
});
