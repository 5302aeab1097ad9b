// SQL functions registered on the reader connection: decoders for what perdure stores as bytes or JSON
// (journal entries, failures, awaited futures, durations) used by the views, and the DataFusion functions the
// `restate` CLI calls that SQLite lacks (`first_value` as an aggregate, `now()`, `arrow_cast`, …).
//
// Invariants:
// - Decoders never throw on bad data: what does not decode is NULL.
// - The journal decode cache lives for one query (`beginQuery` clears it), so a purged and re-created
//   invocation can never show another journal's facts.

import type { AggregateOptions, DatabaseSync, SQLInputValue, SQLOutputValue } from "node:sqlite";
import { messageTypeName } from "../protocol/index.ts";
import { formatIsoDuration, formatRfc3339Millis } from "../core/durations.ts";
import { decodeEntry, entryFacts, entryJson, notificationInvocationId, type DecodedEntry, type EntryFacts, type ServiceTypes } from "./journal-json.ts";

const MAX_CACHED_ENTRIES = 10_000;

export interface QueryFunctions {
  /** Clears per-query caches and sets the service types entry_json uses. */
  beginQuery(types: ServiceTypes): void;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function registerFunctions(db: DatabaseSync): QueryFunctions {
  let entries = new Map<string, { entry: DecodedEntry; facts: EntryFacts }>();
  let types: ServiceTypes = { serviceType: () => undefined, handlerType: () => undefined };

  const entryOf = (id: SQLOutputValue, idx: SQLOutputValue, type: SQLOutputValue, payload: SQLOutputValue) => {
    const key = `${String(id)}\u0000${String(idx)}`;
    let cached = entries.get(key);
    if (!cached) {
      const entry = payload instanceof Uint8Array && typeof type === "number" ? decodeEntry(type, payload) : ({ kind: "other" } as const);
      cached = { entry, facts: entryFacts(entry) };
      if (entries.size >= MAX_CACHED_ENTRIES) entries = new Map();
      entries.set(key, cached);
    }
    return cached;
  };

  // varargs: the wrapper's own arity (0) must not become the SQL function's.
  const fn = (name: string, f: (...args: SQLOutputValue[]) => SQLInputValue | undefined) =>
    db.function(name, { deterministic: true, varargs: true }, (...args: SQLOutputValue[]) => {
      const out = f(...args);
      // JS numbers become SQLite REALs: integers must be INTEGERs ('c:' || 1 is 'c:1', not 'c:1.0').
      if (typeof out === "number" && Number.isSafeInteger(out)) return BigInt(out);
      return out === undefined ? null : out;
    });

  fn("perdure_entry_type", (type) => (typeof type === "number" ? messageTypeName(type) : null));

  fn("perdure_journal_fact", (id, idx, type, payload, what) => {
    const { facts } = entryOf(id, idx, type, payload);
    switch (what) {
      case "name":
        return facts.name;
      case "completion":
        return facts.completion;
      case "invocation_id_completion":
        return facts.invocationIdCompletion;
      case "invoked_target":
        return facts.invokedTarget;
      case "sleep_wakeup_at":
        return facts.sleepWakeupAt;
      case "promise_name":
        return facts.promiseName;
      default:
        return null;
    }
  });

  fn("perdure_call_invocation_id", (type, payload) =>
    typeof type === "number" && payload instanceof Uint8Array ? notificationInvocationId(decodeEntry(type, payload)) : null,
  );

  fn("perdure_entry_json", (id, idx, type, payload, invokedId, lite) => {
    const { entry } = entryOf(id, idx, type, payload);
    return entryJson(entry, typeof invokedId === "string" ? invokedId : null, types, lite === 1);
  });

  fn("perdure_utf8", (value) => {
    if (!(value instanceof Uint8Array)) return typeof value === "string" ? value : null;
    try {
      return strictUtf8.decode(value);
    } catch {
      return null;
    }
  });

  fn("perdure_iso_duration", (ms) => (typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? formatIsoDuration(Math.round(ms)) : null));

  fn("perdure_related_entry", (text, part) => {
    if (typeof text !== "string") return null;
    const m = /^(.*?) #(\d+|\?)(?: '(.*)')?$/s.exec(text);
    if (!m) return part === "name" ? text : null;
    if (part === "index") return m[2] === "?" ? null : Number(m[2]);
    if (part === "name") return m[3] ?? null;
    if (part === "type") return m[1] === "command" ? null : m[1]!.replace(/^Command: /, "");
    return null;
  });

  fn("perdure_future_json", (awaiting) => {
    if (typeof awaiting !== "string") return null;
    try {
      const a = JSON.parse(awaiting) as { completions?: number[]; signals?: number[]; names?: string[] };
      const singles = [
        ...(a.completions ?? []).map((c) => ({ Single: { CompletionId: c } })),
        ...(a.signals ?? []).map((s) => ({ Single: { SignalIndex: s } })),
        ...(a.names ?? []).map((n) => ({ Single: { SignalName: n } })),
      ];
      if (singles.length === 0) return null;
      return JSON.stringify(singles.length === 1 ? singles[0] : { Unknown: singles });
    } catch {
      return null;
    }
  });

  // DataFusion functions the CLI and users reach for.
  db.function("now", { deterministic: false }, () => formatRfc3339Millis(Date.now()));
  fn("arrow_cast", (value) => value);
  fn("arrow_typeof", (value) => {
    if (value === null) return "Null";
    if (typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value))) return "Int64";
    if (typeof value === "number") return "Float64";
    if (typeof value === "string") return "Utf8";
    return "Binary";
  });
  // first_value/last_value work as aggregates (`FIRST_VALUE(id ORDER BY created_at)`, `first_value(id)` with
  // GROUP BY) and still as window functions (the inverse drops the oldest row of the frame).
  // The accumulator is any JS value for node:sqlite; its typings only allow SQL values.
  const aggregate = <T>(name: string, options: { start: () => T; step: (acc: T, value: SQLOutputValue) => T; inverse?: (acc: T) => T; result: (acc: T) => SQLInputValue }) =>
    db.aggregate(name, options as unknown as AggregateOptions);
  const windowed = (pick: (rows: SQLOutputValue[]) => SQLOutputValue | undefined) => ({
    start: () => [] as SQLOutputValue[],
    step: (rows: SQLOutputValue[], value: SQLOutputValue) => {
      rows.push(value);
      return rows;
    },
    inverse: (rows: SQLOutputValue[]) => {
      rows.shift();
      return rows;
    },
    result: (rows: SQLOutputValue[]) => (rows.length === 0 ? null : (pick(rows) ?? null)),
  });
  aggregate("first_value", windowed((rows) => rows[0]));
  aggregate("last_value", windowed((rows) => rows[rows.length - 1]));
  aggregate("any_value", windowed((rows) => rows.find((v) => v !== null)));
  aggregate("array_agg", {
    start: () => [] as unknown[],
    step: (values: unknown[], value: SQLOutputValue) => {
      values.push(typeof value === "bigint" ? Number(value) : value instanceof Uint8Array ? Buffer.from(value).toString("hex") : value);
      return values;
    },
    result: (values: unknown[]) => JSON.stringify(values),
  });

  return {
    beginQuery(next) {
      entries = new Map();
      types = next;
    },
  };
}
