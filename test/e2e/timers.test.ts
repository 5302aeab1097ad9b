// Durable sleeps end on time and never early. perdure commits a sleep's completion a few ms before it is due (the
// timer queue's lead) and hands it to the endpoint only at the due time, also when the completion reaches a new
// attempt (a suspended invocation resumed, in request-response mode) rather than the live stream.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as restate from "@restatedev/restate-sdk";
import { startE2e } from "./harness.ts";
import { http } from "../support/http.ts";

/** Measures a sleep in the endpoint: from a journaled timestamp before it to the clock after it. */
const timed = restate.service({
  name: "Timed",
  handlers: {
    sleep: async (ctx: restate.Context, input: { ms: number }) => {
      const before = await ctx.date.now();
      await ctx.sleep(input.ms);
      return { elapsed: Date.now() - before };
    },
  },
});

const DURATIONS = [0, 1, 2, 3, 4, 5, 7, 10, 25];

for (const bidirectional of [true, false]) {
  const mode = bidirectional ? "on the live stream" : "to a resumed attempt (request-response)";
  test(`sleeps of 0-25 ms end no earlier than asked, delivered ${mode}`, async (t) => {
    const env = await startE2e({ services: { services: [timed], bidirectional } });
    t.after(() => env.close());
    for (let round = 0; round < 3; round++) {
      for (const ms of DURATIONS) {
        const r = await http(`${env.ingress}/Timed/sleep`, { json: { ms } });
        assert.equal(r.status, 200, r.text);
        const { elapsed } = r.json as { elapsed: number };
        assert.ok(elapsed >= ms, `a ${ms} ms sleep ended after ${elapsed} ms`);
        // On time too: a sleep ends within a generous bound of its due time on an idle machine.
        assert.ok(elapsed < ms + 1_000, `a ${ms} ms sleep took ${elapsed} ms`);
      }
    }
  });
}
