// A full disk: perdure on a small tmpfs whose space is then used up by another file. Requests get a clear error
// and perdure keeps running; what was stored before is intact; once space returns, the same requests (same
// idempotency keys) succeed and each executes once. Needs root to mount the tmpfs (CI and developers run as
// root here); elsewhere the test is skipped with that reason.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, openSync, writeSync, closeSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startServices } from "../services/index.ts";
import { startPerdure } from "../support/perdure-process.ts";
import { registerDeployment } from "../support/admin-client.ts";
import { http } from "../support/http.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";

function mountTmpfs(dir: string): string | undefined {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", dir], { stdio: "pipe" });
    return undefined;
  } catch (err) {
    return `cannot mount a small tmpfs to fill (needs root): ${(err as Error).message.split("\n")[0]}`;
  }
}

/** Writes zeros into `file` until the filesystem is full. */
function fill(file: string): void {
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}

test("a full disk gives clear errors, loses nothing, and perdure continues once space returns", async (t) => {
  const root = await makeTempDir("perdure-diskfull-");
  const mnt = join(root, "mnt");
  mkdirSync(mnt);
  const cannot = mountTmpfs(mnt);
  if (cannot) {
    await removeTempDir(root);
    t.skip(cannot);
    return;
  }
  const services = await startServices(0, { quiet: true });
  const dataDir = join(mnt, "data");
  const perdure = await startPerdure({ dataDir });
  t.after(async () => {
    await perdure.dispose();
    await services.close();
    try {
      execFileSync("umount", [mnt], { stdio: "pipe" });
    } catch {
      // already unmounted
    }
    await removeTempDir(root);
  });
  assert.equal((await registerDeployment(perdure.adminUrl, services.url)).status, 201);
  const add = (key: string) => http(`${perdure.ingressUrl}/Counter/disk/add`, { json: 1, headers: { "idempotency-key": key } });
  assert.equal((await add("before")).json, 1);

  const filler = join(mnt, "filler");
  fill(filler);
  const refused: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await add(`full-${i}`).catch(() => undefined);
    if (!r) continue;
    if (r.status >= 200 && r.status < 300) continue; // a commit may still fit in space SQLite had already taken
    refused.push(r.status);
    if (process.env.PERDURE_TEST_ECHO_LOGS === "1") process.stderr.write(`refused: ${r.status} ${r.text}\n`);
    assert.equal(r.status, 503, r.text);
    assert.equal(r.headers.get("retry-after"), "1");
    assert.match((r.json as { message: string }).message, /^storage unavailable: .*disk is full/, "the error says what is wrong");
  }
  assert.ok(refused.length > 0, "with the disk full, requests are refused");
  assert.equal((await http(`${perdure.adminUrl}/health`)).status, 200, "perdure keeps running");

  rmSync(filler);
  // The refused requests, retried with their keys, now execute, each once.
  for (let i = 0; i < 5; i++) {
    const r = await add(`full-${i}`);
    assert.equal(r.status, 200, r.text);
  }
  assert.equal((await add("after")).status, 200);
  const total = (await http(`${perdure.ingressUrl}/Counter/disk/get`, { method: "POST" })).json;
  assert.equal(total, 7, "1 before, 5 retried, 1 after: each applied once");
  assert.equal((await add("before")).json, 1, "the result stored before the disk filled is intact");
});
