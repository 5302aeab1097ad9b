// Introspection: SQL over perdure's state, as the reference's `POST /query` (issue 7).
//
//   createQueryEngine({ dataFile })  runs queries in a separate process on a read-only connection;
//   serveQuery(engine, req, res)     the admin route: POST → JSON or Arrow reply, other methods → 405.
//
// Tables (with the reference's names and columns): sys_invocation, sys_invocation_status, sys_invocation_state,
// sys_journal, state, sys_inbox, sys_keyed_service_status, sys_promise, sys_service, sys_deployment and
// information_schema.tables / columns / schemata. Queries are SQLite SQL; see sql-text.ts for the DataFusion
// constructs of the `restate` CLI that are rewritten or provided as functions.

export { createQueryEngine, DEFAULT_QUERY_TIMEOUT_MS, type QueryEngine, type QueryEngineOptions } from "./engine.ts";
export { serveQuery, replyFormat } from "./http.ts";
export { ARROW_CONTENT_TYPE, JSON_CONTENT_TYPE, type QueryFormat, type QueryReply } from "./reply.ts";
