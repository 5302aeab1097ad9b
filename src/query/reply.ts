// The reply of a query: status, content type and body, and the error reply shape `{"message"}`.
// Kept apart from the reader so the server process can use it without loading SQLite views or Arrow.

export type QueryFormat = "json" | "arrow";

export interface QueryReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

export const JSON_CONTENT_TYPE = "application/json";
export const ARROW_CONTENT_TYPE = "application/vnd.apache.arrow.stream";

export function errorReply(status: number, message: string): QueryReply {
  return { status, contentType: JSON_CONTENT_TYPE, body: Buffer.from(JSON.stringify({ message })) };
}
