// Workflows: Signup (run waits on the durable promise "confirm"; shared handlers read its state
// and resolve the promise) and QuickWf (a run that completes or fails at once).
import * as restate from "@restatedev/restate-sdk";

type SignupState = { status: string; runs: number };

export const signup = restate.workflow({
  name: "Signup",
  handlers: {
    run: async (ctx: restate.WorkflowContext<SignupState>, input: unknown) => {
      ctx.set("runs", ((await ctx.get("runs")) ?? 0) + 1);
      ctx.set("status", "waiting");
      const value = await ctx.promise<string>("confirm");
      ctx.set("status", "done");
      return { result: "done " + value, input };
    },

    status: async (ctx: restate.WorkflowSharedContext<SignupState>) =>
      (await ctx.get("status")) ?? "not-started",

    confirm: async (ctx: restate.WorkflowSharedContext<SignupState>, value: string) => {
      await ctx.promise<string>("confirm").resolve(value);
      return "confirmed";
    },

    peek: async (ctx: restate.WorkflowSharedContext<SignupState>) => {
      const value = await ctx.promise<string>("confirm").peek();
      return { resolved: value !== undefined, value };
    },
  },
});

export const quickWf = restate.workflow({
  name: "QuickWf",
  handlers: {
    run: async (_ctx: restate.WorkflowContext, input?: unknown) => {
      if (typeof input === "object" && input !== null && (input as { fail?: unknown }).fail === true) {
        throw new restate.TerminalError("workflow failed", { errorCode: 400 });
      }
      return `quick ${JSON.stringify(input)}`;
    },

    info: async (ctx: restate.WorkflowSharedContext) => ({ key: ctx.key }),
  },
});
