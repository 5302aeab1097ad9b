// The storage contract against the in-memory adapter.
import { storeContract } from "../contract/store-contract.ts";
import { MemoryStore } from "./memory-store.ts";

storeContract("memory", async () => {
  const store = new MemoryStore();
  return { store, cleanup: async () => store.close() };
});
