// The query engine the admin API calls: runs each query in a separate Node process (query-process.ts) that
// holds the read-only connection, one query at a time, and stops a query that runs too long by killing that
// process.
//
// Why a process: `node:sqlite` is synchronous and has no way to interrupt a running statement (no progress
// handler, no sqlite3_interrupt), and a worker thread stuck in native code cannot be terminated either. A
// separate process keeps queries off the invocation path (the event loop never waits for SQLite), and SIGKILL
// stops a runaway query at once, releasing its WAL snapshot; the next query starts a new process.
//
// Invariants:
// - Every call to `query` resolves (never rejects) with a reply: the result, or an error status and message.
// - At most one query runs at a time; others wait in a bounded queue.
// - An idle engine keeps neither the event loop nor a process busy beyond the one idle query process.

import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { errorReply, type QueryFormat, type QueryReply } from "./reply.ts";
import type { ChildMessage, ParentMessage } from "./query-process.ts";

export interface QueryEngineOptions {
  /** perdure's SQLite data file (`SqliteStore.path`); undefined for the in-memory store (queries get 503). */
  readonly dataFile: string | undefined;
  /** A query that runs longer is stopped and answered with 500. Default 30 s. */
  readonly timeoutMs?: number;
  readonly log?: (level: "info" | "warn" | "error", message: string) => void;
}

export interface QueryEngine {
  /** Runs one SQL query; resolves with the HTTP status, content type and body to send. */
  query(sql: string, format: QueryFormat): Promise<QueryReply>;
  /** Stops the query process; queries still waiting are answered with 503. */
  close(): Promise<void>;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
const STARTUP_TIMEOUT_MS = 30_000;
const MAX_WAITING = 64;
const STDERR_TAIL = 4096;

interface Job {
  readonly id: number;
  readonly sql: string;
  readonly format: QueryFormat;
  readonly resolve: (reply: QueryReply) => void;
}

export function createQueryEngine(options: QueryEngineOptions): QueryEngine {
  if (options.dataFile === undefined) {
    return {
      query: async () => errorReply(503, "query not available for the in-memory store"),
      close: async () => {},
    };
  }
  return new ProcessQueryEngine(options.dataFile, options.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS, options.log ?? (() => {}));
}

interface Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<string | undefined>;
  stderr: string;
}

class ProcessQueryEngine implements QueryEngine {
  private readonly dataFile: string;
  private readonly timeoutMs: number;
  private readonly log: NonNullable<QueryEngineOptions["log"]>;
  private readonly waiting: Job[] = [];
  private worker: Worker | undefined;
  private running: { job: Job; timer: NodeJS.Timeout | undefined } | undefined;
  private nextId = 1;
  private closed = false;

  constructor(dataFile: string, timeoutMs: number, log: NonNullable<QueryEngineOptions["log"]>) {
    this.dataFile = dataFile;
    this.timeoutMs = timeoutMs;
    this.log = log;
  }

  query(sql: string, format: QueryFormat): Promise<QueryReply> {
    if (this.closed) return Promise.resolve(errorReply(503, "the query engine is shutting down"));
    if (this.waiting.length >= MAX_WAITING) return Promise.resolve(errorReply(503, `too many queries waiting (${MAX_WAITING}); try again later`));
    return new Promise((resolve) => {
      this.waiting.push({ id: this.nextId++, sql, format, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const stopping = this.worker ? this.stopWorker(this.worker) : Promise.resolve();
    this.finish(errorReply(503, "the query engine is shutting down"));
    for (const job of this.waiting.splice(0)) job.resolve(errorReply(503, "the query engine is shutting down"));
    await stopping;
  }

  /** Starts the next waiting query if none runs. */
  private pump(): void {
    if (this.running || this.closed) return;
    const job = this.waiting.shift();
    if (!job) return;
    this.running = { job, timer: undefined };
    const worker = (this.worker ??= this.spawn());
    // A query in flight keeps the event loop alive (its caller awaits it); an idle process does not.
    worker.child.ref();
    worker.child.channel?.ref();
    void worker.ready.then((failure) => {
      if (this.running?.job !== job) return;
      if (failure !== undefined) {
        this.finish(errorReply(503, `query process could not start: ${failure}`), job);
        return;
      }
      this.running.timer = setTimeout(() => this.timedOut(job, worker), this.timeoutMs);
      const message: ParentMessage = { kind: "query", id: job.id, sql: job.sql, format: job.format };
      try {
        worker.child.send(message, (err) => {
          if (err) this.finish(errorReply(500, `the query could not be sent to the query process: ${err.message}`), job);
        });
      } catch (err) {
        this.finish(errorReply(500, `the query could not be sent to the query process: ${(err as Error).message}`), job);
      }
    });
  }

  /** Resolves the running query (if any, and if it is `job` when given) and starts the next. */
  private finish(reply: QueryReply, job?: Job): void {
    const running = this.running;
    if (!running || (job !== undefined && running.job !== job)) return;
    this.running = undefined;
    if (running.timer) clearTimeout(running.timer);
    if (this.worker && this.waiting.length === 0) {
      this.worker.child.unref();
      this.worker.child.channel?.unref();
    }
    running.job.resolve(reply);
    queueMicrotask(() => this.pump());
  }

  private timedOut(job: Job, worker: Worker): void {
    if (this.running?.job !== job) return;
    this.log("warn", `query stopped after ${this.timeoutMs} ms: ${job.sql.slice(0, 200)}`);
    void this.stopWorker(worker);
    this.finish(errorReply(500, `query stopped: it ran longer than ${this.timeoutMs} ms`), job);
  }

  private spawn(): Worker {
    const script = fileURLToPath(new URL("./query-process.ts", import.meta.url));
    // node:child_process is loaded with the first query, not at start-up.
    const child = process.getBuiltinModule("node:child_process").fork(script, [this.dataFile], {
      execArgv: ["--disable-warning=ExperimentalWarning"],
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    child.unref();
    child.channel?.unref();
    (child.stderr as (NodeJS.ReadableStream & { unref?: () => void }) | null)?.unref?.();
    let settle!: (failure: string | undefined) => void;
    const ready = new Promise<string | undefined>((resolve) => (settle = resolve));
    const worker: Worker = { child, ready, stderr: "" };
    const startup = setTimeout(() => {
      settle(`no answer within ${STARTUP_TIMEOUT_MS} ms`);
      void this.stopWorker(worker);
    }, STARTUP_TIMEOUT_MS);
    startup.unref();
    child.stderr?.on("data", (chunk: Buffer) => {
      worker.stderr = (worker.stderr + chunk.toString("utf8")).slice(-STDERR_TAIL);
    });
    child.on("message", (m: ChildMessage) => {
      if (m.kind === "ready") {
        clearTimeout(startup);
        settle(undefined);
      } else if (m.kind === "fatal") {
        clearTimeout(startup);
        settle(m.message);
      } else if (m.kind === "reply" && this.running?.job.id === m.id) {
        const body = Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength);
        this.finish({ status: m.status, contentType: m.contentType, body }, this.running.job);
      }
    });
    child.on("error", (err) => {
      clearTimeout(startup);
      settle(err.message);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(startup);
      settle(`the query process exited (${signal ?? `code ${code}`})`);
      if (this.worker === worker) this.worker = undefined;
      if (this.running && this.running.timer !== undefined && this.worker === undefined) {
        const detail = worker.stderr.trim().split("\n").slice(-3).join(" | ");
        this.log("error", `query process exited during a query (${signal ?? `code ${code}`})${detail ? `: ${detail}` : ""}`);
        this.finish(errorReply(500, `the query process exited during the query (${signal ?? `code ${code}`})`));
      }
    });
    return worker;
  }

  private stopWorker(worker: Worker): Promise<void> {
    if (this.worker === worker) this.worker = undefined;
    const { child } = worker;
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.ref(); // whoever awaits this waits for the exit, which follows the signal at once
      child.kill("SIGKILL");
    });
  }
}
