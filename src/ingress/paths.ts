// Parses ingress request paths into routes. Pure: knows nothing of registered services; the caller resolves
// ambiguous handler paths (`/A/B/C` is an object call or a service send) with the registry.
//
// Path segments that name keys (object keys, workflow ids) are percent-decoded, keeping invalid escapes as
// they are; idempotency keys in attach/output paths are taken literally (as the reference does).

export type IngressRoute =
  | { readonly kind: "handler"; readonly segments: readonly string[] }
  | { readonly kind: "restate-call"; readonly send: boolean; readonly segments: readonly string[] }
  | { readonly kind: "awakeable"; readonly id: string; readonly action: "resolve" | "reject" }
  | { readonly kind: "invocation-by-id"; readonly id: string; readonly action: "attach" | "output" }
  | {
      readonly kind: "invocation-by-key";
      readonly service: string;
      readonly key: string | undefined;
      readonly handler: string;
      readonly idempotencyKey: string;
      readonly action: "attach" | "output";
    }
  | { readonly kind: "workflow"; readonly service: string; readonly key: string; readonly action: "attach" | "output" }
  /** A malformed `/restate/invocation/…` path: unknown services are reported before the bad path. */
  | { readonly kind: "bad-invocation-path"; readonly service: string; readonly message: string }
  | { readonly kind: "health" }
  | { readonly kind: "scope" }
  | { readonly kind: "bad-path"; readonly message: string }
  | { readonly kind: "not-found" };

export const BAD_HANDLER_PATH = "bad path, expected either /:service-name/:handler or /:object-name/:object-key/:handler";
export const BAD_RESTATE_CALL_PATH =
  "bad path, expected /restate/call/:service/:handler, /restate/send/:service/:handler, /restate/scope/:scope/call/:service/:handler, /restate/attach/:invocation_id, /restate/output/:invocation_id, or /restate/lookup";
const BAD_INVOCATION_PATH =
  "bad path, expected either /restate/invocation/:invocation_id/output or /restate/invocation/:invocation_id/attach or /restate/invocation/:invocation_target/:idempotency_key/output or /restate/invocation/:invocation_target/:idempotency_key/attach";
const BAD_WORKFLOW_PATH =
  "bad path, expected either /restate/workflow/:workflow_name/:workflow_key/output or /restate/workflow/:workflow_name/:workflow_key/attach";

/** Percent-decodes a segment; invalid escapes stay literal; `+` is not a space. */
export function decodeSegment(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

const isAction = (s: string | undefined): s is "attach" | "output" => s === "attach" || s === "output";

export function parseIngressPath(rawPath: string): IngressRoute {
  const path = rawPath.split("?")[0] ?? "";
  const parts = path.split("/").slice(1);
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "")) return { kind: "bad-path", message: `bad path: ${path}` };
  if (parts[0] !== "restate") {
    if (parts.length < 2 || parts.length > 4) return { kind: "bad-path", message: parts.length < 2 ? `bad path: ${path}` : BAD_HANDLER_PATH };
    return { kind: "handler", segments: parts };
  }
  const [, area, ...rest] = parts;
  switch (area) {
    case "health":
      return rest.length === 0 ? { kind: "health" } : { kind: "not-found" };
    case "awakeables":
    case "a": {
      const [id, action] = rest;
      if (rest.length === 2 && id && (action === "resolve" || action === "reject")) return { kind: "awakeable", id: decodeSegment(id), action };
      return { kind: "not-found" };
    }
    case "call":
    case "send":
      if (rest.length < 2 || rest.length > 3) return { kind: "bad-path", message: BAD_RESTATE_CALL_PATH };
      return { kind: "restate-call", send: area === "send", segments: rest };
    case "attach":
    case "output":
      if (rest.length !== 1) return { kind: "bad-path", message: BAD_RESTATE_CALL_PATH };
      return { kind: "invocation-by-id", id: rest[0]!, action: area };
    case "scope":
      return { kind: "scope" };
    case "invocation": {
      const action = rest[rest.length - 1];
      if (rest.length === 2) {
        if (!isAction(action)) return { kind: "not-found" };
        return { kind: "invocation-by-id", id: rest[0]!, action };
      }
      if (rest.length === 4 || rest.length === 5) {
        if (!isAction(action)) return { kind: "not-found" };
        const [service, a, b, c] = rest;
        return rest.length === 4
          ? { kind: "invocation-by-key", service: service!, key: undefined, handler: a!, idempotencyKey: b!, action }
          : { kind: "invocation-by-key", service: service!, key: decodeSegment(a!), handler: b!, idempotencyKey: c!, action };
      }
      if (rest.length === 3) return { kind: "bad-invocation-path", service: rest[0]!, message: BAD_INVOCATION_PATH };
      return { kind: "bad-path", message: BAD_INVOCATION_PATH };
    }
    case "workflow": {
      if (rest.length !== 3) return { kind: "bad-path", message: BAD_WORKFLOW_PATH };
      const [service, key, action] = rest;
      if (!isAction(action)) return { kind: "not-found" };
      return { kind: "workflow", service: service!, key: decodeSegment(key!), action };
    }
    default:
      return { kind: "not-found" };
  }
}
