// Counter: a virtual object with exclusive and shared handlers, used to test keyed state,
// per-key queuing of exclusive calls and concurrency of shared ones.
import * as restate from "@restatedev/restate-sdk";

type CounterState = { count: number; execs: number };

export const counter = restate.object({
  name: "Counter",
  handlers: {
    add: async (ctx: restate.ObjectContext<CounterState>, n?: number) => {
      const next = ((await ctx.get("count")) ?? 0) + (n ?? 0);
      ctx.set("count", next);
      return next;
    },

    get: restate.handlers.object.shared(
      async (ctx: restate.ObjectSharedContext<CounterState>) => (await ctx.get("count")) ?? 0,
    ),

    block: async (ctx: restate.ObjectContext<CounterState>, input?: { ms?: number }) => {
      await ctx.sleep(input?.ms ?? 0);
      return "unblocked";
    },

    sharedSleep: restate.handlers.object.shared(
      async (ctx: restate.ObjectSharedContext<CounterState>, input?: { ms?: number }) => {
        await ctx.sleep(input?.ms ?? 0);
        return "slept";
      },
    ),

    stamp: async (ctx: restate.ObjectContext<CounterState>) => ctx.run("stamp", () => Date.now()),

    /** Counts how often the handler body really executed for this key (idempotency tests). */
    countExec: async (ctx: restate.ObjectContext<CounterState>, input: unknown) => {
      const execs = ((await ctx.get("execs")) ?? 0) + 1;
      ctx.set("execs", execs);
      return { execs, input };
    },

    execs: restate.handlers.object.shared(
      async (ctx: restate.ObjectSharedContext<CounterState>) => (await ctx.get("execs")) ?? 0,
    ),

    fail: async (_ctx: restate.ObjectContext<CounterState>): Promise<void> => {
      throw new restate.TerminalError("object failure", { errorCode: 400 });
    },

    clear: async (ctx: restate.ObjectContext<CounterState>): Promise<void> => {
      ctx.clearAll();
    },
  },
});
