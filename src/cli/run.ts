// The `perdure` command (entered through src/main.js): parses flags and environment, starts the server, and stops it cleanly on SIGTERM or
// SIGINT (stop accepting, finish the commit in progress, exit 0). Exit codes: 0 ok, 1 runtime failure,
// 2 bad configuration.

import { ConfigError, helpText, resolveConfig } from "../config/config.ts";
import { createLogger } from "../log/logger.ts";
import { startPerdure } from "../perdure.ts";
import { VERSION } from "../version.ts";
import { PerdureError } from "../core/errors.ts";
import { resolve } from "node:path";

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = resolveConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`perdure: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.kind === "help") {
    process.stdout.write(helpText() + "\n");
    return 0;
  }
  if (parsed.kind === "version") {
    process.stdout.write(`perdure ${VERSION}\n`);
    return 0;
  }
  const config = parsed.config;
  const logger = createLogger(config.logLevel);
  // Signals are caught from the start: one that arrives while perdure is starting stops it once it is up.
  let signalled: string | undefined;
  let onSignal = (signal: string) => {
    signalled ??= signal;
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  let running;
  try {
    running = await startPerdure({ config, logger });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code === "EADDRINUSE") {
      logger.error(`cannot listen on port ${e.port ?? "?"}: it is already in use (set --ingress-port / --admin-port)`);
    } else if (err instanceof PerdureError) {
      logger.error(`${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ""}`);
    } else {
      logger.error(`failed to start: ${(err as Error).stack ?? String(err)}`);
    }
    return 1;
  }
  logger.info(
    `perdure ${VERSION} started: ingress on :${running.ingressPort}, admin API on :${running.adminPort}, data in ${resolve(config.dataDir)}${config.fsync ? "" : " (fsync off)"}`,
  );
  const up = running;
  return new Promise<number>((done) => {
    let stopping = false;
    onSignal = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal} received, shutting down`);
      up.stop().then(
        () => {
          logger.info("stopped");
          done(0);
        },
        (err: unknown) => {
          logger.error(`shutdown failed: ${(err as Error).message}`);
          done(1);
        },
      );
    };
    if (signalled) onSignal(signalled);
  });
}

export async function run(): Promise<void> {
  process.exitCode = await main();
}
