// The storage contract: one `node:test` suite that every Store adapter must pass.
// Each test gets a fresh, empty store from `makeStore` and disposes of it afterwards, so cases never depend
// on each other. Adapter-specific behaviour (durability across reopen, data-dir checks) lives in the
// adapter's own test file; skipping a case here needs a written reason there.

import { afterEach, beforeEach, describe } from "node:test";
import type { Store } from "../api/store.ts";
import type { ContractContext, StoreHandle } from "./fixtures.ts";
import { invocationCases, journalCases } from "./invocation-journal-cases.ts";
import { lockAndInboxCases, promiseAndCallbackCases, stateCases } from "./object-cases.ts";
import { queryCases, registryCases, timerCases } from "./timer-query-registry-cases.ts";
import { transactionCases } from "./transaction-cases.ts";

export type { MakeStore, StoreHandle } from "./fixtures.ts";

export function storeContract(name: string, makeStore: () => Promise<{ store: Store; cleanup(): Promise<void> }>): void {
  describe(`Store contract: ${name}`, () => {
    let current: StoreHandle | undefined;
    beforeEach(async () => {
      current = await makeStore();
    });
    afterEach(async () => {
      const handle = current;
      current = undefined;
      await handle?.cleanup();
    });
    const ctx: ContractContext = {
      store() {
        if (!current) throw new Error("no store: the contract's beforeEach did not run");
        return current.store;
      },
    };
    describe("invocations", () => invocationCases(ctx));
    describe("journal", () => journalCases(ctx));
    describe("state", () => stateCases(ctx));
    describe("locks and inbox", () => lockAndInboxCases(ctx));
    describe("promises and callbacks", () => promiseAndCallbackCases(ctx));
    describe("timers", () => timerCases(ctx));
    describe("queries", () => queryCases(ctx));
    describe("registry", () => registryCases(ctx));
    describe("transactions", () => transactionCases(ctx));
  });
}
