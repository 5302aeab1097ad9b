// Relay: deposits that go through a handler, for the crash suite. `deposit` calls Counter/{acct}/add from the
// handler and returns the balance (a call between handlers: callback and completion across crashes), or sends
// it one way with a delay and returns the id of that invocation (a durable send and timer owned by a handler).
import * as restate from "@restatedev/restate-sdk";
import { counter } from "../services/counter.ts";

export type RelayInput = { acct: string; amount: number; mode: "call" | "send" };
export type RelayOutput = { balance: number } | { child: string };

export const relay = restate.service({
  name: "Relay",
  handlers: {
    deposit: async (ctx: restate.Context, input: RelayInput): Promise<RelayOutput> => {
      if (input.mode === "call") return { balance: await ctx.objectClient(counter, input.acct).add(input.amount) };
      const handle = ctx.objectSendClient(counter, input.acct).add(input.amount, restate.rpc.sendOpts({ delay: { milliseconds: 300 } }));
      return { child: await handle.invocationId };
    },
  },
});
