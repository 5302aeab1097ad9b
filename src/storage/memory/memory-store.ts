// In-memory adapter of the Store interface: the executable specification, used by fast unit tests.
//
// Invariants:
// - Records are copied on the way in and out, so callers never share mutable objects with the store.
// - A transaction works on copies of the tables and swaps them in on commit; a throw leaves the store untouched.
// - Nothing is durable: a "crash" loses everything, which is why crash tests use the sqlite adapter.

import type { Committed, PartitionTxn, Store } from "../api/store.ts";
import type { Callback, DeploymentRecord, InvocationRecord, JournalEntry, PromiseResult, ServiceRecord, TimerRecord } from "../api/records.ts";
import { WriteMutex } from "../api/write-mutex.ts";

interface Tables {
  invocations: Map<string, InvocationRecord>;
  journal: Map<string, JournalEntry[]>;
  state: Map<string, Map<string, [Buffer, Buffer]>>;
  locks: Map<string, string>;
  promises: Map<string, PromiseResult>;
  callbacks: Map<string, Callback[]>;
  timers: Map<number, TimerRecord>;
  counters: { inbox: number; timer: number };
}

const objKey = (service: string, key: string) => `${service}\u0000${key}`;
const clone = <T>(v: T): T => structuredClone(v);
const cloneInvocation = (inv: InvocationRecord): InvocationRecord => {
  const copy = clone(inv);
  if (inv.result?.kind === "success") return { ...copy, result: { kind: "success", value: Buffer.from(inv.result.value) } };
  return copy;
};
// structuredClone turns a Buffer into a plain Uint8Array (no `toString("utf8")`, no `equals`): copy values by hand.
const clonePromise = (p: PromiseResult): PromiseResult =>
  p.kind === "value" ? { kind: "value", value: Buffer.from(p.value) } : { kind: "failure", failure: clone(p.failure) };
const byBinary = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function copyTables(t: Tables): Tables {
  return {
    invocations: new Map(t.invocations),
    journal: new Map(t.journal),
    state: new Map(t.state),
    locks: new Map(t.locks),
    promises: new Map(t.promises),
    callbacks: new Map(t.callbacks),
    timers: new Map(t.timers),
    counters: { ...t.counters },
  };
}

export class MemoryStore implements Store {
  private tables: Tables = {
    invocations: new Map(),
    journal: new Map(),
    state: new Map(),
    locks: new Map(),
    promises: new Map(),
    callbacks: new Map(),
    timers: new Map(),
    counters: { inbox: 0, timer: 0 },
  };
  private readonly deployments = new Map<string, DeploymentRecord>();
  private readonly services = new Map<string, ServiceRecord>();
  private readonly mutex = new WriteMutex();

  transaction<T>(fn: (txn: PartitionTxn) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      const work = copyTables(this.tables);
      const result = await fn(makeTxn(work));
      this.tables = work;
      return result;
    });
  }

  async commit<T>(fn: (txn: PartitionTxn) => Promise<T>): Promise<Committed<T>> {
    return { result: await this.transaction(fn), durable: Promise.resolve() };
  }

  durableBarrier(): Promise<void> {
    return Promise.resolve();
  }

  async readInvocation(id: string) {
    const inv = this.tables.invocations.get(id);
    return inv ? cloneInvocation(inv) : undefined;
  }
  async readJournal(invocationId: string) {
    return (this.tables.journal.get(invocationId) ?? []).map((e) => ({ ...e, payload: Buffer.from(e.payload) }));
  }
  async readAllState(service: string, key: string) {
    return sortedState(this.tables.state.get(objKey(service, key)));
  }
  async listInvocationsByStatus(status: InvocationRecord["status"]) {
    return [...this.tables.invocations.values()].filter((i) => i.status === status).sort((a, b) => a.createdAt - b.createdAt).map((i) => i.id);
  }
  async listTimers() {
    return [...this.tables.timers.values()].sort((a, b) => a.dueAt - b.dueAt).map((t) => ({ ...t }));
  }
  // Registry: listed in id / name order (byte-wise, as the sqlite adapter does); writes are serialized with
  // transactions, as the Store interface requires.
  async listDeployments() {
    return [...this.deployments.values()].sort((a, b) => byBinary(a.id, b.id)).map(clone);
  }
  putDeployment(d: DeploymentRecord) {
    return this.mutex.run(async () => void this.deployments.set(d.id, clone(d)));
  }
  deleteDeployment(id: string) {
    return this.mutex.run(async () => void this.deployments.delete(id));
  }
  async listServices() {
    return [...this.services.values()].sort((a, b) => byBinary(a.name, b.name)).map(clone);
  }
  putServices(services: readonly ServiceRecord[]) {
    return this.mutex.run(async () => {
      for (const s of services) this.services.set(s.name, clone(s));
    });
  }
  deleteServices(names: readonly string[]) {
    return this.mutex.run(async () => {
      for (const n of names) this.services.delete(n);
    });
  }
  close(): void {}
}

function sortedState(m: Map<string, [Buffer, Buffer]> | undefined): Array<[Buffer, Buffer]> {
  if (!m) return [];
  return [...m.values()].sort((a, b) => Buffer.compare(a[0], b[0])).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]);
}

function makeTxn(t: Tables): PartitionTxn {
  return {
    getInvocation: async (id) => {
      const inv = t.invocations.get(id);
      return inv ? cloneInvocation(inv) : undefined;
    },
    putInvocation: async (inv) => void t.invocations.set(inv.id, cloneInvocation(inv)),
    deleteInvocation: async (id) => void t.invocations.delete(id),
    appendJournal: async (id, e) => {
      const list = [...(t.journal.get(id) ?? [])];
      if (list.some((x) => x.index === e.index)) throw new Error(`journal entry ${id}#${e.index} already exists`);
      list.push({ ...e, payload: Buffer.from(e.payload) });
      list.sort((a, b) => a.index - b.index);
      t.journal.set(id, list);
    },
    readJournal: async (id) => (t.journal.get(id) ?? []).map((e) => ({ ...e, payload: Buffer.from(e.payload) })),
    findNotifications: async (id, keys) => {
      const present = new Set((t.journal.get(id) ?? []).map((e) => e.notificationKey));
      return keys.filter((k) => present.has(k));
    },
    deleteJournal: async (id) => void t.journal.delete(id),
    getState: async (service, key, stateKey) => {
      const v = t.state.get(objKey(service, key))?.get(stateKey.toString("hex"));
      return v ? Buffer.from(v[1]) : undefined;
    },
    getAllState: async (service, key) => sortedState(t.state.get(objKey(service, key))),
    setState: async (_pk, service, key, stateKey, value) => {
      const m = new Map(t.state.get(objKey(service, key)));
      m.set(stateKey.toString("hex"), [Buffer.from(stateKey), Buffer.from(value)]);
      t.state.set(objKey(service, key), m);
    },
    clearState: async (service, key, stateKey) => {
      const m = new Map(t.state.get(objKey(service, key)));
      m.delete(stateKey.toString("hex"));
      t.state.set(objKey(service, key), m);
    },
    clearAllState: async (service, key) => void t.state.delete(objKey(service, key)),
    getLock: async (service, key) => t.locks.get(objKey(service, key)),
    setLock: async (_pk, service, key, id) => void t.locks.set(objKey(service, key), id),
    releaseLock: async (service, key) => void t.locks.delete(objKey(service, key)),
    nextInboxed: async (service, key) => {
      let best: InvocationRecord | undefined;
      for (const inv of t.invocations.values()) {
        if (inv.status === "inboxed" && inv.service === service && inv.key === key && (!best || (inv.inboxSeq ?? 0) < (best.inboxSeq ?? 0))) best = inv;
      }
      return best?.id;
    },
    nextInboxSeq: async () => ++t.counters.inbox,
    getPromise: async (service, key, name) => {
      const p = t.promises.get(`${objKey(service, key)}\u0000${name}`);
      return p ? clonePromise(p) : undefined;
    },
    putPromise: async (_pk, service, key, name, result) => {
      const k = `${objKey(service, key)}\u0000${name}`;
      if (t.promises.has(k)) throw new Error(`promise ${k} already exists`);
      t.promises.set(k, clonePromise(result));
    },
    addCallback: async (_pk, target, cb) => void t.callbacks.set(target, [...(t.callbacks.get(target) ?? []), { ...cb }]),
    takeCallbacks: async (target) => {
      const list = t.callbacks.get(target) ?? [];
      t.callbacks.delete(target);
      return list.map((cb) => ({ ...cb }));
    },
    addTimer: async (timer) => {
      const rec = { ...timer, id: ++t.counters.timer };
      t.timers.set(rec.id, rec);
      return rec;
    },
    deleteTimer: async (id) => void t.timers.delete(id),
    deleteTimersOf: async (invocationId) => {
      for (const [id, timer] of t.timers) if (timer.invocationId === invocationId) t.timers.delete(id);
    },
    expiredInvocations: async (now, limit) =>
      [...t.invocations.values()]
        .filter((i) => i.expiresAt !== undefined && i.expiresAt <= now)
        .slice(0, limit)
        .map((i) => i.id),
  };
}
