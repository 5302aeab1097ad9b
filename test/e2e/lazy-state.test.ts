// Lazy state: an object that asks for it gets no state in Start and fetches each value and the key list on
// demand (GetLazyState / GetLazyStateKeys). Values, absent keys, key listing and clearing behave as with eager
// state, on both transports.

import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import * as restate from "@restatedev/restate-sdk";
import { startE2e, type E2eEnv } from "./harness.ts";
import { http } from "../support/http.ts";

const lazy = restate.object({
  name: "LazyBox",
  options: { enableLazyState: true },
  handlers: {
    put: async (ctx: restate.ObjectContext, entry: { key: string; value: unknown }) => {
      ctx.set(entry.key, entry.value);
      return (await ctx.stateKeys()).sort();
    },
    get: async (ctx: restate.ObjectContext, key: string) => ({ value: (await ctx.get(key)) ?? null }),
    keys: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext) => (await ctx.stateKeys()).sort()),
    clear: async (ctx: restate.ObjectContext, key: string) => {
      ctx.clear(key);
      return (await ctx.stateKeys()).sort();
    },
    clearAll: async (ctx: restate.ObjectContext) => {
      ctx.clearAll();
      return (await ctx.stateKeys()).length;
    },
  },
});

for (const transport of ["h2c", "http1"] as const) {
  describe(`lazy state over ${transport}`, () => {
    let env: E2eEnv;
    before(async () => {
      env = await startE2e({ services: { services: [lazy], transport } });
    });
    after(() => env?.close());

    test("values, absent keys, key lists and clearing", async () => {
      const base = `${env.ingress}/LazyBox/box-${transport}`;
      assert.deepEqual((await http(`${base}/put`, { json: { key: "b", value: 2 } })).json, ["b"]);
      assert.deepEqual((await http(`${base}/put`, { json: { key: "a", value: { nested: true } } })).json, ["a", "b"]);
      assert.deepEqual((await http(`${base}/get`, { json: "a" })).json, { value: { nested: true } });
      assert.deepEqual((await http(`${base}/get`, { json: "missing" })).json, { value: null });
      assert.deepEqual((await http(`${base}/keys`, { method: "POST" })).json, ["a", "b"]);
      assert.deepEqual((await http(`${base}/clear`, { json: "a" })).json, ["b"]);
      assert.equal((await http(`${base}/clearAll`, { method: "POST" })).json, 0);
      assert.deepEqual((await http(`${base}/keys`, { method: "POST" })).json, []);
      // The state was fetched lazily: the journals hold GetLazyState / GetLazyStateKeys commands.
      const q = await http(`${env.admin}/query`, {
        json: { query: "SELECT entry_type, COUNT(*) AS n FROM sys_journal WHERE entry_type LIKE 'Command: GetLazyState%' GROUP BY entry_type ORDER BY entry_type" },
        headers: { accept: "application/json" },
      });
      const types = (q.json as { rows: Array<{ entry_type: string }> }).rows.map((r) => r.entry_type);
      assert.deepEqual(types, ["Command: GetLazyState", "Command: GetLazyStateKeys"], q.text);
      // Another key of the same object is separate state.
      assert.deepEqual((await http(`${env.ingress}/LazyBox/other-${transport}/keys`, { method: "POST" })).json, []);
    });
  });
}
