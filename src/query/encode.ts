// Result sets to the two reply formats of `/query`: `{"rows":[…]}` JSON (NULL columns left out, binary as
// lower-case hex, timestamps as RFC 3339 text) and an Arrow IPC stream.
//
// Invariants:
// - A column's type is the declared one (from the select list or the column's name) only if every value fits
//   it; otherwise it is derived from the values, so a wrong hint can change a type but never lose a value.
// - Integers are read from SQLite as bigints and written exactly.

import {
  Bool,
  DurationMillisecond,
  Field,
  Float64,
  Int64,
  LargeBinary,
  LargeUtf8,
  List,
  makeBuilder,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Uint32,
  Uint64,
  makeData,
  tableToIPC,
  type DataType,
} from "apache-arrow";
import type { ColumnType } from "./tables.ts";

export type Cell = null | bigint | number | string | Uint8Array;

export interface ResultSet {
  readonly names: readonly string[];
  /** Row-major values. */
  readonly rows: readonly (readonly Cell[])[];
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const ISO_DURATION = /^PT(\d+)(\.\d+)?S$/;
const U64 = 1n << 64n;

const isInt = (v: Cell) => typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v));

function fits(type: ColumnType, v: Cell): boolean {
  switch (type) {
    case "Boolean":
      return v === 0n || v === 1n || v === 0 || v === 1;
    case "Int64":
    case "UInt32":
    case "UInt64":
      return isInt(v);
    case "Float64":
      return typeof v === "number" || typeof v === "bigint";
    case "Utf8":
      return typeof v === "string";
    case "Binary":
      return v instanceof Uint8Array;
    case "Timestamp":
      return typeof v === "string" && RFC3339.test(v);
    case "Duration":
      return typeof v === "string" && ISO_DURATION.test(v);
    case "ListUtf8":
    case "ListUInt32":
      if (typeof v !== "string") return false;
      try {
        return Array.isArray(JSON.parse(v));
      } catch {
        return false;
      }
  }
}

function fromValues(values: readonly Cell[]): ColumnType {
  let kinds = 0;
  const INT = 1,
    REAL = 2,
    TEXT = 4,
    BLOB = 8;
  for (const v of values) {
    if (v === null) continue;
    kinds |= typeof v === "bigint" ? INT : typeof v === "number" ? REAL : typeof v === "string" ? TEXT : BLOB;
  }
  if (kinds === INT) return "Int64";
  if (kinds === REAL || kinds === (INT | REAL)) return "Float64";
  if (kinds === BLOB) return "Binary";
  return "Utf8";
}

/** The type of each column: the declared one when all values fit it, else what the values are. */
export function resolveTypes(rs: ResultSet, declared: ReadonlyArray<ColumnType | undefined>): ColumnType[] {
  return rs.names.map((_, c) => {
    const values = rs.rows.map((r) => r[c] ?? null);
    const hint = declared[c];
    if (hint !== undefined && values.every((v) => v === null || fits(hint, v))) return hint;
    return fromValues(values);
  });
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** A value as text, for columns of mixed SQLite types shown as Utf8. */
function asText(v: Cell): string {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return hex(v);
  return String(v);
}

function unsigned(v: Cell): bigint {
  const n = typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v)));
  return n < 0n ? n + U64 : n;
}

function jsonValue(type: ColumnType, v: Cell): string {
  switch (type) {
    case "Boolean":
      return v === 1n || v === 1 ? "true" : "false";
    case "Int64":
    case "UInt32":
      return typeof v === "bigint" ? v.toString() : String(Math.trunc(Number(v)));
    case "UInt64":
      return unsigned(v).toString();
    case "Float64": {
      const n = Number(v);
      return Number.isFinite(n) ? JSON.stringify(n) : "null";
    }
    case "Binary":
      return JSON.stringify(hex(v as Uint8Array));
    case "ListUtf8":
    case "ListUInt32":
      return JSON.stringify(JSON.parse(v as string));
    default:
      return JSON.stringify(asText(v));
  }
}

/** `{"rows":[{column: value, …}, …]}`; NULL columns are left out of their row. */
export function encodeJson(rs: ResultSet, types: readonly ColumnType[]): Buffer {
  const keys = rs.names.map((n) => JSON.stringify(n));
  const parts: string[] = [];
  for (const row of rs.rows) {
    const fields: string[] = [];
    row.forEach((v, c) => {
      if (v !== null) fields.push(`${keys[c]}:${jsonValue(types[c]!, v)}`);
    });
    parts.push(`{${fields.join(",")}}`);
  }
  return Buffer.from(`{"rows":[${parts.join(",")}]}`, "utf8");
}

function arrowType(type: ColumnType): DataType {
  switch (type) {
    case "Boolean":
      return new Bool();
    case "Int64":
      return new Int64();
    case "UInt32":
      return new Uint32();
    case "UInt64":
      return new Uint64();
    case "Float64":
      return new Float64();
    case "Binary":
      return new LargeBinary();
    case "Timestamp":
      return new TimestampMillisecond("+00:00");
    case "Duration":
      return new DurationMillisecond();
    case "ListUtf8":
      return new List(new Field("item", new LargeUtf8(), true));
    case "ListUInt32":
      return new List(new Field("item", new Uint32(), true));
    default:
      return new LargeUtf8();
  }
}

function durationMs(text: string): bigint {
  const m = ISO_DURATION.exec(text)!;
  const fraction = (m[2] ?? ".").slice(1).padEnd(3, "0").slice(0, 3);
  return BigInt(m[1]!) * 1000n + BigInt(fraction || "0");
}

function arrowValue(type: ColumnType, v: Cell): unknown {
  if (v === null) return null;
  switch (type) {
    case "Boolean":
      return v === 1n || v === 1;
    case "Int64":
      return typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v)));
    case "UInt32":
      return Number(v);
    case "UInt64":
      return unsigned(v);
    case "Float64":
      return Number(v);
    case "Binary":
      return v;
    case "Timestamp":
      return Date.parse(v as string);
    case "Duration":
      return durationMs(v as string);
    case "ListUtf8":
      return (JSON.parse(v as string) as unknown[]).map((x) => (x === null ? null : String(x)));
    case "ListUInt32":
      return (JSON.parse(v as string) as unknown[]).map((x) => (x === null ? null : Number(x)));
    default:
      return asText(v);
  }
}

/** An Arrow IPC stream: the schema and one record batch with all rows. */
export function encodeArrow(rs: ResultSet, types: readonly ColumnType[]): Buffer {
  const fields = rs.names.map((name, c) => new Field(name, arrowType(types[c]!), true));
  const children = fields.map((field, c) => {
    const builder = makeBuilder({ type: field.type, nullValues: [null] });
    for (const row of rs.rows) builder.append(arrowValue(types[c]!, row[c] ?? null));
    return builder.finish().flush();
  });
  const schema = new Schema(fields);
  const data = makeData({ type: new Struct(fields), length: rs.rows.length, nullCount: 0, children });
  const table = new Table(schema, [new RecordBatch(schema, data)]);
  return Buffer.from(tableToIPC(table, "stream"));
}
