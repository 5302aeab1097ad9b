// Greeter: a stateless service whose handlers cover the ingress behaviours the tests compare
// (JSON and binary serde, empty input/output, headers, terminal errors, retries, durable sleep),
// plus Private, a service whose only handler is ingress-private.
import * as restate from "@restatedev/restate-sdk";

/** Failed attempts so far, per invocation id, for the `flaky` handler. */
const flakyAttempts = new Map<string, number>();

/** Executions of the `ctx.run` closure in `sideEffect`, per invocation id. */
const sideEffectRuns = new Map<string, number>();

export type FailInput = { code?: number; message?: string; metadata?: Record<string, string> };

export const greeter = restate.service({
  name: "Greeter",
  handlers: {
    greet: async (_ctx: restate.Context, input?: { name?: string }) =>
      "Hello " + (input?.name ?? "anonymous").toUpperCase(),

    echo: async (_ctx: restate.Context, input: unknown) => input,

    noInput: async (_ctx: restate.Context) => "no-input",

    raw: restate.handlers.handler(
      { input: restate.serde.binary, output: restate.serde.binary, accept: "*/*" },
      async (_ctx: restate.Context, input: Uint8Array) =>
        new TextEncoder().encode(`got ${input.length} bytes: ${new TextDecoder().decode(input)}`),
    ),

    size: async (_ctx: restate.Context, input?: string) => ({ length: input?.length ?? 0 }),

    whoami: async (ctx: restate.Context) => ({
      headers: Object.fromEntries(ctx.request().headers) as object,
      id: ctx.request().id,
    }),

    fail: async (_ctx: restate.Context, input?: FailInput): Promise<void> => {
      throw new restate.TerminalError(input?.message ?? "failure", {
        errorCode: input?.code ?? 500,
        ...(input?.metadata ? { metadata: input.metadata } : {}),
      });
    },

    terminalInRun: async (ctx: restate.Context): Promise<void> => {
      await ctx.run("fail", (): void => {
        throw new restate.TerminalError("terminal inside run", { errorCode: 409 });
      });
    },

    flaky: restate.handlers.handler(
      { retryPolicy: { initialInterval: 100, exponentiationFactor: 1 } },
      async (ctx: restate.Context) => {
        const id = ctx.request().id;
        const attempts = (flakyAttempts.get(id) ?? 0) + 1;
        flakyAttempts.set(id, attempts);
        if (attempts <= 3) throw new Error(`flaky attempt ${attempts}`);
        return { attempts };
      },
    ),

    failKill: restate.handlers.handler(
      {
        retryPolicy: {
          initialInterval: 100,
          exponentiationFactor: 1,
          maxInterval: 200,
          maxAttempts: 3,
          onMaxAttempts: "kill",
        },
      },
      async (_ctx: restate.Context): Promise<void> => {
        throw new Error("always failing (kill)");
      },
    ),

    sideEffect: async (ctx: restate.Context) => {
      const id = ctx.request().id;
      const runExecutions = await ctx.run("count", () => {
        const runs = (sideEffectRuns.get(id) ?? 0) + 1;
        sideEffectRuns.set(id, runs);
        return runs;
      });
      return { runExecutions };
    },

    noop: async (_ctx: restate.Context): Promise<void> => {},

    sleep: async (ctx: restate.Context, input?: { ms?: number }) => {
      await ctx.sleep(input?.ms ?? 0);
      return "slept";
    },
  },
});

/** A service with an ingress-private handler: the ingress must refuse to call it. */
export const privateService = restate.service({
  name: "Private",
  handlers: {
    hidden: restate.handlers.handler({ ingressPrivate: true }, async (_ctx: restate.Context) => "hidden"),
  },
});
