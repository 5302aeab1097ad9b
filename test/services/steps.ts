// Steps: a service of ctx.run steps for crash/replay tests and benchmarks. Every execution of a
// step closure is recorded so a test can tell a replayed step (not re-executed) from a re-run one,
// even when the services live in another process: with PERDURE_TEST_SIDE_EFFECT_LOG set, each
// execution appends a line "<id> <step>" to that file; otherwise it is counted in memory.
import { appendFileSync, readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import * as restate from "@restatedev/restate-sdk";

export const SIDE_EFFECT_LOG_ENV = "PERDURE_TEST_SIDE_EFFECT_LOG";

const inMemoryExecutions = new Map<string, number>();

function executionKey(id: string, step: string): string {
  return `${id} ${step}`;
}

/** Records one execution of `step` for the logical run `id`; returns the count so far (this process or log). */
function recordExecution(id: string, step: string): number {
  const key = executionKey(id, step);
  const logFile = process.env[SIDE_EFFECT_LOG_ENV];
  if (logFile) {
    appendFileSync(logFile, key + "\n");
    return readExecutions(logFile).get(key) ?? 0;
  }
  const count = (inMemoryExecutions.get(key) ?? 0) + 1;
  inMemoryExecutions.set(key, count);
  return count;
}

/**
 * Execution counts keyed by `"<id> <step>"`. Reads the given log file (default: the env var);
 * without one, returns the in-memory counts of this process.
 */
export function readExecutions(logFile: string | undefined = process.env[SIDE_EFFECT_LOG_ENV]): Map<string, number> {
  if (!logFile) return new Map(inMemoryExecutions);
  let text: string;
  try {
    text = readFileSync(logFile, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw err;
  }
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line !== "") counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return counts;
}

/** How many times the closure of `step` ran for the logical run `id`. */
export function executionCount(id: string, step: string, logFile?: string): number {
  return readExecutions(logFile ?? process.env[SIDE_EFFECT_LOG_ENV]).get(executionKey(id, step)) ?? 0;
}

export type TwoStepsInput = { id: string; waitMs?: number };
export type TwoStepsOutput = { first: number; second: number };

async function firstStep(ctx: restate.Context, id: string): Promise<number> {
  return ctx.run("first", () => recordExecution(id, "first"));
}

async function secondStep(ctx: restate.Context, id: string): Promise<number> {
  return ctx.run("second", () => recordExecution(id, "second"));
}

/** first run, durable sleep of waitMs, second run. */
async function twoStepsSleep(ctx: restate.Context, input: TwoStepsInput): Promise<TwoStepsOutput> {
  const first = await firstStep(ctx, input.id);
  await ctx.sleep(input.waitMs ?? 0);
  const second = await secondStep(ctx, input.id);
  return { first, second };
}

/** first run, a run whose closure waits waitMs of real time, second run. */
async function twoStepsSlowRun(ctx: restate.Context, input: TwoStepsInput): Promise<TwoStepsOutput> {
  const first = await firstStep(ctx, input.id);
  await ctx.run("wait", async () => {
    recordExecution(input.id, "wait");
    await delay(input.waitMs ?? 0);
  });
  const second = await secondStep(ctx, input.id);
  return { first, second };
}

export const steps = restate.service({
  name: "Steps",
  handlers: {
    /** Same as twoStepsSleep. */
    twoSteps: twoStepsSleep,
    twoStepsSleep,
    twoStepsSlowRun,

    threeSteps: async (ctx: restate.Context) => {
      const a = await ctx.run("one", () => 1);
      const b = await ctx.run("two", () => 2);
      const c = await ctx.run("three", () => 3);
      return a + b + c;
    },

    noop: async (_ctx: restate.Context): Promise<void> => {},
  },
});
