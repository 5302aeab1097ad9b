// Composition root: config -> storage -> registry -> partition processor -> invoker and timers -> servers.
// The only module that chooses adapters. `startPerdure` returns a running server; `stop` shuts it down in
// order: stop accepting requests, let the commit in progress finish, stop attempts, close storage.

import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { Config } from "./config/config.ts";
import type { Logger } from "./log/logger.ts";
import { pooledRandom, systemClock, type Clock, type RandomSource } from "./core/environment.ts";
import { SqliteStore } from "./storage/sqlite/sqlite-store.ts";
import { MemoryStore } from "./storage/memory/memory-store.ts";
import type { Store } from "./storage/api/store.ts";
import { EndpointClient } from "./endpoint/client.ts";
import { RequestSigner } from "./endpoint/request-identity.ts";
import { Registry } from "./deployments/registry.ts";
import { PartitionProcessor, ShuttingDown } from "./partition/processor.ts";
import { ResultWaiters } from "./partition/result-waiters.ts";
import type { Effect } from "./partition/effects.ts";
import { Invoker } from "./invoker/invoker.ts";
import { TimerQueue } from "./timers/timer-queue.ts";
import { IngressServer } from "./ingress/server.ts";
import { AdminServer } from "./admin/server.ts";
import { createQueryEngine } from "./query/index.ts";
import { VERSION } from "./version.ts";
import { ErrorCode, PerdureError } from "./core/errors.ts";
import { NO_FAULTS, crashingFaultPoints, parseFaultPoint } from "./faults/fault-points.ts";

export interface RunningPerdure {
  readonly ingressPort: number;
  readonly adminPort: number;
  readonly store: Store;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Use the in-memory store instead of SQLite (tests only). */
  readonly inMemory?: boolean;
  readonly clock?: Clock;
}

const CLEANUP_INTERVAL_MS = 60_000;
/**
 * Sleep timers fire this long before they are due, so that the completion is committed and synced by then; the
 * invoker hands it to the endpoint at the due time (see the timer queue). About one commit and sync under load.
 */
const SLEEP_LEAD_MS = 5;
/** Delay before a command that storage refused is tried again. */
const STORAGE_RETRY_MS = 1_000;

export async function startPerdure(options: StartOptions): Promise<RunningPerdure> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const random: RandomSource = pooledRandom((n) => randomBytes(n));
  const store: Store = options.inMemory ? new MemoryStore() : new SqliteStore({ dataDir: config.dataDir, fsync: config.fsync });
  const client = new EndpointClient(config.requestIdentityKeyFile ? loadSigner(config.requestIdentityKeyFile, clock) : undefined);
  const registry = new Registry({ store, client, clock, random });
  await registry.load();

  const waiters = new ResultWaiters();
  // Commands from attempts and timers have no client to report to. When one cannot be applied (the disk is
  // full, say), the attempt is stopped and recorded as failed, and a timer is tried again, once storage works:
  // the invocation then retries with backoff instead of waiting for a restart.
  const submit = (cmd: Parameters<PartitionProcessor["submit"]>[0]): void => {
    processor.post(cmd, (err: unknown) => {
      if (err instanceof ShuttingDown) {
        logger.debug(`partition command ${cmd.kind} dropped: perdure is shutting down`);
        return;
      }
      logger.error(`partition command ${cmd.kind} failed: ${(err as Error).message}`);
      const later = (fn: () => void) => setTimeout(fn, STORAGE_RETRY_MS).unref();
      if (cmd.kind === "endpoint-message" || cmd.kind === "attempt-failed") {
        invoker.abort(cmd.invocationId);
        const failure = { code: 500, message: `perdure could not store the attempt's progress: ${(err as Error).message}` };
        later(() => submit({ kind: "attempt-failed", invocationId: cmd.invocationId, epoch: cmd.epoch, errorCode: ErrorCode.Storage, failure }));
      } else if (cmd.kind === "timer-fired") {
        later(() => timers.add(cmd.timer));
      }
    });
  };
  const invoker = new Invoker({ store, registry, client, clock, submit, log: (level, m) => logger.log(level, m), maxConcurrentAttempts: config.maxConcurrentAttempts, maxFreshAttempts: config.maxFreshAttempts });
  const timers = new TimerQueue(clock, (timer) => submit({ kind: "timer-fired", timer }), { coalescingMs: config.timerCoalescingMs, sleepLeadMs: SLEEP_LEAD_MS });
  const dispatch = (effect: Effect): void => {
    switch (effect.kind) {
      case "start-attempt":
        invoker.start(effect.invocationId, effect.epoch, effect.snapshot, effect.early === true);
        return;
      case "push":
        invoker.push(effect.invocationId, effect.epoch, effect.journalIndex, effect.frame, effect.notBefore);
        return;
      case "hold":
        invoker.hold(effect.invocationId, effect.until);
        return;
      case "abort-attempt":
        invoker.abort(effect.invocationId);
        return;
      case "respond":
        waiters.resolve(effect.invocationId, effect.response);
        return;
      case "await-result":
        waiters.add(effect.invocationId, effect.waiter);
        return;
      case "schedule-timer":
        timers.add(effect.timer);
        return;
      case "log":
        logger.log(effect.level, effect.message);
        return;
    }
  };
  const fault = config.testFaultPoint ? parseFaultPoint(config.testFaultPoint) : undefined;
  const faults = fault ? crashingFaultPoints(fault.name, fault.count, () => process.kill(process.pid, "SIGKILL")) : NO_FAULTS;
  if (fault) logger.warn(`test fault point armed: crash at ${fault.name} #${fault.count}`);
  const processor = new PartitionProcessor(store, { registry, clock, random, maxProtocolVersion: config.maxProtocolVersion }, dispatch, faults);

  // Recovery: timers first, then a new attempt for every invocation that was running.
  for (const t of await store.listTimers()) timers.add(t);
  const running = await store.listInvocationsByStatus("running");
  if (running.length > 0) {
    logger.info(`resuming ${running.length} invocation(s) that were running`);
    await processor.submit({ kind: "recover", running });
  }

  const ingress = new IngressServer({ registry, processor, waiters, clock, requestSizeLimit: config.requestSizeLimit, maxBacklog: config.maxBacklog, waitingAttempts: () => invoker.waitingStarts, maxWaitingAttempts: config.maxWaitingAttempts });
  const query = createQueryEngine({ dataFile: store instanceof SqliteStore ? store.path : undefined, log: (l, m) => logger.log(l, m) });
  const admin = new AdminServer({
    query,
    registry,
    processor,
    version: VERSION,
    ingressUrl: () => `http://${advertisedHost(config.bindAddress)}:${portOf(ingress.server)}/`,
    maxProtocolVersion: config.maxProtocolVersion,
    log: (level, m) => logger.log(level, m),
  });
  try {
    await ingress.listen(config.ingressPort, config.bindAddress);
    await admin.listen(config.adminPort, config.bindAddress);
  } catch (err) {
    ingress.server.close();
    admin.server.close();
    timers.stop();
    await processor.close();
    invoker.close();
    client.close();
    await query.close();
    store.close();
    throw err;
  }
  const cleanup = setInterval(() => submit({ kind: "cleanup", limit: 1000 }), CLEANUP_INTERVAL_MS);
  cleanup.unref();
  submit({ kind: "cleanup", limit: 1000 });
  const ingressPort = portOf(ingress.server);
  const adminPort = portOf(admin.server);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearInterval(cleanup);
      const closed = Promise.all([closeServer(ingress.server), closeServer(admin.server)]);
      timers.stop();
      // Stop the attempts first, so no handler keeps running against a partition that no longer accepts its
      // messages; what they sent before is in the queue and is committed below. Work they had not sent yet runs
      // again after the restart, exactly as after a crash.
      invoker.close();
      await processor.close();
      client.close();
      ingress.server.closeAllConnections();
      admin.server.closeAllConnections();
      await closed;
      await query.close();
      store.close();
    })());
  return { ingressPort, adminPort, store, stop };
}

function loadSigner(file: string, clock: Clock): RequestSigner {
  try {
    return RequestSigner.fromFile(file, () => clock.now());
  } catch (err) {
    throw new PerdureError(ErrorCode.BadRequest, `cannot use request identity key file '${file}'`, { cause: err });
  }
}

function advertisedHost(bindAddress: string): string {
  if (bindAddress === "0.0.0.0" || bindAddress === "::") return "localhost";
  return bindAddress.includes(":") ? `[${bindAddress}]` : bindAddress;
}

function portOf(server: Server): number {
  const addr = server.address();
  return typeof addr === "object" && addr ? addr.port : 0;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
