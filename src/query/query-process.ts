// Entry point of the query process started by engine.ts: opens the read-only reader on the data file given as
// the first argument, says "ready" (or "fatal"), then answers one query message after another. It exits when
// its parent goes away.

import { QueryReader, type QueryFormat } from "./reader.ts";

export type ParentMessage = { kind: "query"; id: number; sql: string; format: QueryFormat };

export type ChildMessage =
  | { kind: "ready" }
  | { kind: "fatal"; message: string }
  | { kind: "reply"; id: number; status: number; contentType: string; body: Uint8Array };

function send(message: ChildMessage, then?: () => void): void {
  process.send!(message, undefined, undefined, () => then?.());
}

function main(): void {
  if (!process.send) throw new Error("the query process must be started by the query engine (it needs an IPC channel)");
  process.on("disconnect", () => process.exit(0));
  let reader: QueryReader;
  try {
    reader = new QueryReader(process.argv[2] ?? "");
  } catch (err) {
    send({ kind: "fatal", message: (err as Error).message }, () => process.exit(1));
    return;
  }
  process.on("message", (m: ParentMessage) => {
    if (m.kind !== "query") return;
    let reply: ChildMessage;
    try {
      const r = reader.run(m.sql, m.format);
      reply = { kind: "reply", id: m.id, status: r.status, contentType: r.contentType, body: r.body };
    } catch (err) {
      const body = Buffer.from(JSON.stringify({ message: `internal error: ${(err as Error).message}` }));
      reply = { kind: "reply", id: m.id, status: 500, contentType: "application/json", body };
    }
    send(reply);
  });
  send({ kind: "ready" });
}

main();
