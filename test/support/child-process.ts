// Runs a server as a child process for tests: collects its output lines, waits until its health
// URLs answer (failing with the logs if it exits first), and stops it again. Children still alive
// when the test process exits are SIGKILLed so no server outlives its test.
// Set PERDURE_TEST_ECHO_LOGS=1 to copy child output to stderr while debugging.
import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";

const MAX_LOG_LINES = 20_000;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

export type ExitStatus = { code: number | null; signal: NodeJS.Signals | null };

export type ManagedChild = {
  readonly name: string;
  readonly pid: number | undefined;
  /** Output so far (stdout and stderr interleaved by arrival), one line each. */
  logs(): string;
  /** Exit status once exited; undefined while running. */
  exitStatus(): ExitStatus | undefined;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal` (default SIGKILL) and resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status. */
  stop(graceMs?: number): Promise<ExitStatus>;
};

export type SpawnOptions = { cwd?: string; env?: NodeJS.ProcessEnv };

export function spawnManaged(name: string, command: string, args: string[], opts: SpawnOptions = {}): ManagedChild {
  installExitHook();
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);

  const lines: string[] = [];
  const echo = process.env.PERDURE_TEST_ECHO_LOGS === "1";
  const collect = (stream: NodeJS.ReadableStream | null) => {
    if (!stream) return;
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) push(line);
    });
    stream.on("end", () => {
      if (partial !== "") push(partial);
      partial = "";
    });
  };
  const push = (line: string) => {
    lines.push(line);
    if (lines.length > MAX_LOG_LINES) lines.splice(0, lines.length - MAX_LOG_LINES);
    if (echo) process.stderr.write(`[${name}] ${line}\n`);
  };
  collect(child.stdout);
  collect(child.stderr);

  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("error", (err) => {
      push(`[spawn error] ${err.message}`);
      if (child.pid === undefined) {
        status = { code: null, signal: null };
        live.delete(child);
        resolve(status);
      }
    });
    // "close" comes after the output streams ended, so logs() is complete by then.
    child.once("close", (code, signal) => {
      status = { code, signal };
      live.delete(child);
      resolve(status);
    });
  });

  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    if (status) return status;
    child.kill(signal);
    return exited;
  };

  return {
    name,
    pid: child.pid,
    logs: () => lines.join("\n"),
    exitStatus: () => status,
    exited,
    kill,
    async stop(graceMs = 10_000) {
      if (status) return status;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** True when GET `url` answers 200 within a second. */
export async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Polls every `intervalMs` until every URL answers 200. Throws (after killing the child) with
 * the child's logs when it exits first or `timeoutMs` passes.
 */
export async function waitUntilHealthy(
  child: ManagedChild,
  urls: string[],
  timeoutMs = 15_000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = child.exitStatus();
    if (status) {
      throw new Error(
        `${child.name} exited before it was ready (code ${status.code}, signal ${status.signal}). Logs:\n${child.logs()}`,
      );
    }
    const results = await Promise.all(urls.map(answers200));
    if (results.every(Boolean)) return;
    if (Date.now() >= deadline) {
      await child.kill("SIGKILL");
      const pending = urls.filter((_, i) => !results[i]).join(", ");
      throw new Error(`${child.name} not ready after ${timeoutMs} ms (no 200 from ${pending}). Logs:\n${child.logs()}`);
    }
    await delay(intervalMs);
  }
}
