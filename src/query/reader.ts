// The query connection: a READ-ONLY `node:sqlite` connection on perdure's data file with the decoding
// functions, the reference's tables as TEMP views and an attached `information_schema`, and the execution of
// one user query into a reply (status, content type, body).
//
// Invariants:
// - The connection is opened read-only; on top of that an authorizer lets user statements only read (SELECT,
//   READ, FUNCTION, RECURSIVE) and only through the views: perdure's own tables are not reachable directly.
// - A query runs as one statement, so it reads one consistent snapshot (WAL: writers are never blocked).
// - Synchronous: the caller runs it off the invocation path (in the query process, see engine.ts).

import { DatabaseSync, constants, type SQLOutputValue } from "node:sqlite";
import { SCHEMA_VERSION } from "../storage/sqlite/schema.ts";
import { registerFunctions, type QueryFunctions } from "./functions.ts";
import { encodeArrow, encodeJson, resolveTypes, type Cell, type ResultSet } from "./encode.ts";
import { columnTypesByName, informationSchemaStatements, viewStatements, type ColumnType } from "./tables.ts";
import { columnHints, columnTypeByName, prepareSql, setColumnTypesByName, SqlTextError } from "./sql-text.ts";
import type { ServiceTypes } from "./journal-json.ts";
import { ARROW_CONTENT_TYPE, JSON_CONTENT_TYPE, errorReply, type QueryFormat, type QueryReply } from "./reply.ts";

export { ARROW_CONTENT_TYPE, JSON_CONTENT_TYPE, errorReply, type QueryFormat, type QueryReply };

const ALLOWED_ACTIONS = new Set([constants.SQLITE_SELECT, constants.SQLITE_READ, constants.SQLITE_FUNCTION, constants.SQLITE_RECURSIVE]);

/** SQLite errors that come from the parser: the client's SQL is malformed (400, as the reference's ParserError). */
const SYNTAX = /syntax error|incomplete input|unrecognized token|unterminated|no such collation|near ".*"/i;

export class QueryReader {
  private readonly db: DatabaseSync;
  private readonly functions: QueryFunctions;
  private userStatement = false;

  constructor(dataFile: string) {
    this.db = new DatabaseSync(dataFile, { readOnly: true, timeout: 5000 });
    try {
      const version = Number((this.db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
      if (version !== SCHEMA_VERSION) {
        throw new Error(`the data file has schema version ${version}, this build of perdure reads version ${SCHEMA_VERSION}`);
      }
      this.functions = registerFunctions(this.db);
      const info = new DatabaseSync(":memory:");
      for (const sql of informationSchemaStatements()) info.exec(sql);
      this.db.exec("ATTACH ':memory:' AS information_schema");
      this.db.deserialize(info.serialize(), { dbName: "information_schema" });
      info.close();
      for (const sql of viewStatements()) this.db.exec(sql);
      setColumnTypesByName(columnTypesByName());
      this.db.setAuthorizer((action, _table, column, dbName, view) => {
        if (!this.userStatement) return constants.SQLITE_OK;
        if (!ALLOWED_ACTIONS.has(action)) return constants.SQLITE_DENY;
        // perdure's own tables only through the views. A read without a column is a count(*) over a view that
        // SQLite flattened (the view's name is lost then); it reveals no data.
        if (action === constants.SQLITE_READ && dbName === "main" && view === null && column !== "") return constants.SQLITE_DENY;
        return constants.SQLITE_OK;
      });
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /** Runs one query and encodes its result; never throws for anything the client sent. */
  run(sql: string, format: QueryFormat): QueryReply {
    let prepared;
    try {
      prepared = prepareSql(sql);
    } catch (err) {
      if (err instanceof SqlTextError) return errorReply(400, `SQL error: ${err.message}`);
      throw err;
    }
    this.functions.beginQuery(this.serviceTypes());
    let rs: ResultSet;
    this.userStatement = true;
    try {
      let stmt;
      try {
        stmt = this.db.prepare(prepared.sql);
      } catch (err) {
        return this.planningError(err);
      }
      stmt.setReadBigInts(true);
      stmt.setReturnArrays(true);
      const names = stmt.columns().map((c) => c.name);
      if (names.length === 0) return errorReply(400, "SQL error: only queries that return rows are allowed");
      const rows: Cell[][] = [];
      try {
        for (const row of stmt.iterate() as Iterable<unknown>) rows.push((row as SQLOutputValue[]).map(toCell));
      } catch (err) {
        return errorReply(500, `Execution error: ${(err as Error).message}`);
      }
      rs = { names, rows };
    } finally {
      this.userStatement = false;
    }
    const hints = columnHints(prepared.itemTypes, rs.names.length);
    const declared: Array<ColumnType | undefined> = rs.names.map((name, i) => hints[i] ?? columnTypeByName(name));
    const types = resolveTypes(rs, declared);
    return format === "json"
      ? { status: 200, contentType: JSON_CONTENT_TYPE, body: encodeJson(rs, types) }
      : { status: 200, contentType: ARROW_CONTENT_TYPE, body: encodeArrow(rs, types) };
  }

  private planningError(err: unknown): QueryReply {
    const message = (err as Error).message ?? String(err);
    const prohibited = /^access to (?:main\.)?([^.\s]+)\.\S* is prohibited/.exec(message);
    if (prohibited) return errorReply(500, `Error during planning: no such table: ${prohibited[1]}`);
    if (/not authorized|cannot modify|readonly|read-only/.test(message)) return errorReply(400, "SQL error: only SELECT queries are allowed");
    if (SYNTAX.test(message)) return errorReply(400, `SQL error: ${message}`);
    return errorReply(500, `Error during planning: ${message}`);
  }

  /** Service and handler types from the schema registry's table, for the targets in entry_json. */
  private serviceTypes(): ServiceTypes {
    const services = new Map<string, { ty: string; handlers: Map<string, string> }>();
    for (const row of this.db.prepare("SELECT record FROM main.services").all()) {
      try {
        const rec = JSON.parse(String(row.record)) as { name: string; definition: { ty: string; handlers: Array<{ name: string; ty?: string }> } };
        services.set(rec.name, { ty: rec.definition.ty, handlers: new Map(rec.definition.handlers.map((h) => [h.name, h.ty ?? ""])) });
      } catch {
        // a record that does not parse: its targets show as plain services
      }
    }
    return {
      serviceType: (name) => services.get(name)?.ty as ReturnType<ServiceTypes["serviceType"]>,
      handlerType: (name, handler) => (services.get(name)?.handlers.get(handler) || undefined) as ReturnType<ServiceTypes["handlerType"]>,
    };
  }
}

function toCell(v: SQLOutputValue): Cell {
  if (v === null || typeof v === "bigint" || typeof v === "number" || typeof v === "string") return v;
  return v as Uint8Array;
}
