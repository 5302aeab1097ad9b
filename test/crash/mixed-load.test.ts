// The crash suite: perdure runs as a child process on one data dir under a mixed load from concurrent clients
// (test/crash/load.ts: idempotent calls and sends, delayed sends, deposits to virtual objects, workflows with a
// durable promise, handlers with `ctx.run` and `ctx.sleep`), while a killer crashes it at random moments and
// restarts it on the same data dir and ports: mostly SIGKILL from outside, sometimes a crash perdure does to
// itself at a named fault point (right before or right after a batch commits; test/crash/crashing-server.ts),
// which may hit during recovery. The SDK services run in this process, so they survive the crashes.
// Afterwards every request is looked up by its key: nothing acknowledged is lost, no deposit is applied twice,
// no invocation is stuck, no `ctx.run` closure ran again after its result was journaled. A second test does the
// same with SIGTERM: perdure exits 0 under load, loses nothing, and restarts cleanly.
//
// Size: the CI default is 5 crashes, at least 8 s of load, 8 clients (about 20 s on 2 cores). A long run:
//   PERDURE_CRASH_KILLS=50 npx node --test test/crash/mixed-load.test.ts
// Knobs: PERDURE_CRASH_KILLS (crashes), PERDURE_CRASH_SECONDS (minimum load time), PERDURE_CRASH_CLIENTS (client
// loops), PERDURE_CRASH_GAP_MS (min-max time perdure runs between crashes, default 500-2000),
// PERDURE_CRASH_FAULT_SHARE (share of restarts armed with a fault point, default 0.3), PERDURE_CRASH_REPORT (a
// JSON file the figures are appended to). On a problem the report shows the invocation's log lines and journal.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as delay } from "node:timers/promises";
import { FAULT_POINT_NAMES } from "../../src/faults/fault-points.ts";
import { messageTypeName } from "../../src/protocol/message-types.ts";
import { allServices, startServices, type ServicesServer } from "../services/index.ts";
import { SIDE_EFFECT_LOG_ENV } from "../services/steps.ts";
import { registerDeployment } from "../support/admin-client.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";
import { CrashingServer, type Crash } from "./crashing-server.ts";
import { relay } from "./relay.ts";
import { MixedLoad, SideEffectClock, errorLines, verify, type LoadFigures, type Problem, type VerifyFigures } from "./load.ts";

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got '${raw}'`);
  return n;
}

const KILLS = Math.round(envNumber("PERDURE_CRASH_KILLS", 5));
const SECONDS = envNumber("PERDURE_CRASH_SECONDS", 8);
const CLIENTS = Math.max(1, Math.round(envNumber("PERDURE_CRASH_CLIENTS", 8)));
const FAULT_SHARE = envNumber("PERDURE_CRASH_FAULT_SHARE", 0.3);
const [GAP_MIN, GAP_MAX] = (process.env.PERDURE_CRASH_GAP_MS ?? "500-2000").split("-").map(Number) as [number, number];
if (!(GAP_MIN >= 0 && GAP_MAX >= GAP_MIN)) throw new Error("PERDURE_CRASH_GAP_MS must look like 500-2000");
/** Every attach after the load must answer within this bound. */
const STUCK_BOUND_MS = 20_000;
const ACCOUNTS = ["acct-a", "acct-b", "acct-c", "acct-d"];

let services: ServicesServer | undefined;
let tempDir = "";
let logFile = "";

before(async () => {
  tempDir = await makeTempDir("perdure-crash-");
  logFile = path.join(tempDir, "side-effects.log");
  // Read by the Steps service at each execution of a run closure (it runs in this process).
  process.env[SIDE_EFFECT_LOG_ENV] = logFile;
  services = await startServices(0, { quiet: true, services: [...allServices, relay] });
});

after(async () => {
  await services?.close();
  if (tempDir) await removeTempDir(tempDir);
});

async function startRegistered(name: string): Promise<CrashingServer> {
  assert.ok(services, "services did not start");
  const server = await CrashingServer.start(path.join(tempDir, name), ["--log-level", "warn"]);
  const reg = await registerDeployment(server.adminUrl, services.url);
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  return server;
}

const randomBetween = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

type Report = {
  test: string;
  crashes: Record<string, number>;
  loadSeconds: number;
  wallSeconds: number;
  clients: number;
  load: LoadFigures;
  verify: Omit<VerifyFigures, "problems">;
};

function countCrashes(crashes: readonly Crash[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of crashes) counts[c.kind] = (counts[c.kind] ?? 0) + 1;
  return counts;
}

/** What a problem needs to be understood: when perdure went down around it, what it logged, its journal. */
function explain(p: Problem, server: CrashingServer, t0: number): string[] {
  if (!p.op) return [];
  const op = p.op;
  const rel = (ms: number) => `+${ms - t0}ms`;
  const near = server.crashes.filter((c) => c.sentAt >= op.sentAt - 3000 && c.sentAt <= op.sentAt + 10_000);
  const id = op.ackInvocationId ?? op.duplicate?.invocationId;
  const logged = id ? server.logs().split("\n").filter((l) => l.includes(id)).slice(0, 10) : [];
  return [
    `    sent ${rel(op.sentAt)}, invocation ${id ?? "?"}; crashes near: ${near.map((c) => `${c.kind} ${rel(c.sentAt)} (up ${rel(c.restartedAt)})`).join(", ") || "none"}`,
    ...logged.map((l) => `    log: ${l}`),
    ...(id ? journalOf(server.dataDir, id, rel) : []),
  ];
}

/** White box, for the report of a problem only: the invocation's record and journal in the data dir. */
function journalOf(dir: string, id: string, rel: (ms: number) => string): string[] {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path.join(dir, "perdure.sqlite"), { readOnly: true });
    const inv = db.prepare("SELECT record FROM invocations WHERE id = ?").get(id) as { record: string } | undefined;
    const r = inv ? (JSON.parse(inv.record) as Record<string, unknown>) : undefined;
    const head = r
      ? `    record: status ${String(r.status)}, epoch ${String(r.epoch)}, retryCount ${String(r.retryCount)}, failedAttempts ${String(r.failedAttempts)}, lastFailure ${JSON.stringify(r.lastFailure)}`
      : "    record: none";
    const rows = db.prepare("SELECT idx, type, notification_key, appended_at FROM journal WHERE invocation_id = ? ORDER BY idx").all(id) as Array<{
      idx: number;
      type: number;
      notification_key: string | null;
      appended_at: number;
    }>;
    return [head, ...rows.map((row) => `    journal #${row.idx} ${messageTypeName(Number(row.type))}${row.notification_key ? ` (${row.notification_key})` : ""} at ${rel(Number(row.appended_at))}`)];
  } catch (err) {
    return [`    (journal unreadable: ${(err as Error).message})`];
  } finally {
    db?.close();
  }
}

function report(t: TestContext, r: Report, problems: readonly Problem[], server: CrashingServer, load: MixedLoad, t0: number): void {
  const { load: l, verify: v } = r;
  const crashes = Object.values(r.crashes).reduce((s, n) => s + n, 0);
  const summary = [
    `crashes ${crashes} ${JSON.stringify(r.crashes)}, load ${r.loadSeconds.toFixed(1)} s, wall ${r.wallSeconds.toFixed(1)} s, clients ${r.clients}`,
    `requests sent ${l.requests} (HTTP attempts ${l.httpAttempts}, retried ${l.retriedRequests}, attempt timeouts ${l.attemptTimeouts}, impatient ${l.impatient}, duplicated ${l.duplicated}); attaches during the load ${l.attachesDuringLoad}`,
    `acknowledged ${l.acknowledged}, rejected ${l.rejected}, unacknowledged ${l.gaveUp}`,
    `checked ${v.checked} requests and ${v.childrenChecked} invocations sent by handlers, completed ${v.completed} (unacknowledged but completed ${v.completedUnacknowledged}), never created ${v.neverCreated}`,
    `deposits applied ${v.depositsApplied} over ${v.accountsChecked} accounts, Steps checked ${v.stepsChecked}, step re-runs before commit ${v.stepReRunsBeforeCommit}` +
      (v.reRunWindowMs ? ` (the lost executions ran from ${v.reRunWindowMs.earliest} to ${v.reRunWindowMs.latest} ms relative to the crash signal)` : ""),
    `lost ${v.lost}, doubled ${v.doubled}, stuck ${v.stuck}, wrong ${v.wrong}`,
  ];
  const errors = errorLines(server.logs(), Infinity);
  const distinct = [...new Set(errors.map((e) => e.replace(/^\S+ ERROR +/, "").replace(/inv_\w+/g, "inv_…").slice(0, 160)))];
  const sigterms = server.crashes.filter((c) => c.kind === "sigterm");
  if (sigterms.length > 0) summary.push(`SIGTERM to exit ${sigterms.map((c) => c.exitedAt - c.sentAt).join(", ")} ms, restart ${sigterms.map((c) => c.restartedAt - c.exitedAt).join(", ")} ms`);
  const lines = [r.test, ...summary.map((s) => `  ${s}`), `  by kind ${JSON.stringify(l.byKind)}`, `  perdure ERROR lines ${errors.length}`];
  for (const e of distinct.slice(0, 8)) lines.push(`    ${e}`);
  const unacked = load.ops.filter((op) => !op.acknowledged && !op.rejected);
  if (unacked.length > 0) {
    const why = new Map<string, number>();
    for (const op of unacked) why.set(`${op.kind}: ${op.lastError ?? "?"}`, (why.get(`${op.kind}: ${op.lastError ?? "?"}`) ?? 0) + 1);
    lines.push(`  unacknowledged requests, by last error:`);
    for (const [k, n] of why) lines.push(`    ${n} x ${k.slice(0, 200)}`);
  }
  for (const p of problems.slice(0, 20)) {
    const op = p.op;
    lines.push(`  PROBLEM ${p.kind}: ${op ? `${op.kind} ${op.key} (ack ${op.ackStatus ?? "none"}, attempts ${op.attempts}, last error ${op.lastError ?? "-"}): ` : ""}${p.detail}`);
    lines.push(...explain(p, server, t0));
  }
  console.log(lines.join("\n"));
  t.diagnostic(summary.join(" | "));
  const file = process.env.PERDURE_CRASH_REPORT;
  if (file) {
    let previous: Report[] = [];
    try {
      previous = JSON.parse(readFileSync(file, "utf8")) as Report[];
    } catch {
      previous = [];
    }
    writeFileSync(file, JSON.stringify([...previous, { ...r, at: new Date().toISOString() }], null, 2) + "\n");
  }
}

function assertClean(r: Report, problems: readonly Problem[], logs: string): void {
  const sample = problems
    .slice(0, 10)
    .map((p) => `${p.kind} ${p.op ? `${p.op.kind} ${p.op.key}` : ""}: ${p.detail}`)
    .join("\n");
  const context = `${sample}\nperdure errors:\n${errorLines(logs).join("\n")}`;
  assert.equal(r.verify.lost, 0, `lost:\n${context}`);
  assert.equal(r.verify.doubled, 0, `doubled:\n${context}`);
  assert.equal(r.verify.stuck, 0, `stuck:\n${context}`);
  assert.equal(r.verify.wrong, 0, `wrong results:\n${context}`);
  assert.equal(r.load.rejected, 0, `requests rejected:\n${context}`);
  assert.ok(r.load.acknowledged > 0, "no request was acknowledged");
}

/** Stops the load, checks every request, prints and returns the figures. */
async function finish(t: TestContext, name: string, load: MixedLoad, server: CrashingServer, clock: SideEffectClock, t0: number, loadStart: number): Promise<void> {
  await load.stop();
  const loadSeconds = (Date.now() - loadStart) / 1000;
  server.assertRunning();
  const { problems, ...figures } = await verify(load.ops, {
    ingressUrl: server.ingressUrl,
    accounts: ACCOUNTS,
    stuckBoundMs: STUCK_BOUND_MS,
    sideEffectLog: logFile,
    interruptions: server.crashes,
    clock,
  });
  clock.stop();
  const r: Report = {
    test: name,
    crashes: countCrashes(server.crashes),
    loadSeconds,
    wallSeconds: (Date.now() - t0) / 1000,
    clients: CLIENTS,
    load: load.figures(),
    verify: figures,
  };
  report(t, r, problems, server, load, t0);
  server.assertRunning();
  assertClean(r, problems, server.logs());
  // After all that, a graceful stop still works.
  assert.equal(await server.stop(), 0, server.logs().slice(-4000));
}

/** A registered perdure on `dataDirName` with the mixed load and the side-effect clock running against it. */
async function startUnderLoad(t: TestContext, dataDirName: string, tagPrefix: string) {
  const t0 = Date.now();
  const server = await startRegistered(dataDirName);
  const load = new MixedLoad({ ingressUrl: server.ingressUrl, clients: CLIENTS, accounts: ACCOUNTS, tag: `${tagPrefix}${Date.now().toString(36)}` });
  t.after(async () => {
    await load.abort();
    await server.stop();
  });
  const clock = new SideEffectClock(logFile);
  clock.start();
  const loadStart = Date.now();
  load.start();
  return { t0, server, load, clock, loadStart };
}

test(`mixed load under ${KILLS} random crashes: nothing acknowledged lost, nothing doubled, nothing stuck`, { timeout: (SECONDS + KILLS * 8 + 90) * 1000 }, async (t) => {
  const { t0, server, load, clock, loadStart } = await startUnderLoad(t, "data-kill", "k");

  for (let i = 0; i < KILLS; i++) {
    const armNext = i < KILLS - 1 && Math.random() < FAULT_SHARE;
    const point = FAULT_POINT_NAMES[Math.floor(Math.random() * FAULT_POINT_NAMES.length)]!;
    // Dozens of batches commit per second under this load: an armed fault point usually hits within the gap
    // (else the process is SIGKILLed as usual), and a low number hits during recovery, before perdure is ready.
    await server.crashAfter(randomBetween(GAP_MIN, GAP_MAX), () => clock.poll(), armNext ? { point, n: 1 + Math.floor(Math.random() * 60) } : undefined);
  }
  // Load the last process too, and keep the load going for the configured time.
  await delay(Math.max(1000, SECONDS * 1000 - (Date.now() - loadStart)));
  await finish(t, "SIGKILL and fault points", load, server, clock, t0, loadStart);
});

test("SIGTERM under load: perdure exits 0, loses nothing and restarts cleanly", { timeout: 90_000 }, async (t) => {
  const { t0, server, load, clock, loadStart } = await startUnderLoad(t, "data-term", "t");
  for (let i = 0; i < 2; i++) {
    await delay(randomBetween(1000, 2000));
    const stopStarted = Date.now();
    const code = await server.sigterm(() => clock.poll());
    assert.equal(code, 0, `SIGTERM #${i + 1} under load: exit code ${code} after ${Date.now() - stopStarted} ms\n${server.logs().slice(-4000)}`);
    await server.restart();
  }
  await delay(1000);
  await finish(t, "SIGTERM", load, server, clock, t0, loadStart);
});
