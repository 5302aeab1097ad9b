// OpenAPI 3.1 documents: one for the admin API itself (`GET /openapi`) and one per service describing its
// ingress paths (`GET /services/{name}/openapi`), built from the registered manifest.

import type { ServiceRecord } from "../storage/api/records.ts";
import type { HandlerDefinition } from "../core/types.ts";

type Doc = Record<string, unknown>;

const errorSchema = {
  type: "object",
  properties: { code: { type: "integer" }, message: { type: "string" }, source: { type: "string" } },
  required: ["message"],
};

function op(summary: string, responses: Record<string, string>, extra: Doc = {}): Doc {
  return {
    summary,
    ...extra,
    responses: Object.fromEntries(Object.entries(responses).map(([status, description]) => [status, { description }])),
  };
}

const idParam = (name: string, description: string): Doc => ({ name, in: "path", required: true, schema: { type: "string" }, description });

export function adminOpenApi(version: string): Doc {
  const invocationOp = (what: string, ok: string) =>
    op(`${what} an invocation`, { [ok]: `${what} accepted`, "400": "malformed id", "404": "unknown invocation", "409": "not possible in the invocation's state" }, {
      parameters: [idParam("invocation_id", "invocation id (inv_…)")],
    });
  return {
    openapi: "3.1.0",
    info: { title: "perdure admin API", version },
    paths: {
      "/deployments": {
        get: op("List deployments", { "200": "the deployments" }),
        post: op("Register a deployment (discovers its services)", { "201": "registered", "200": "already registered", "500": "discovery failed" }, {
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["uri"],
                  properties: {
                    uri: { type: "string" },
                    additional_headers: { type: "object", additionalProperties: { type: "string" } },
                    use_http_11: { type: "boolean" },
                    force: { type: "boolean" },
                    dry_run: { type: "boolean" },
                  },
                },
              },
            },
          },
        }),
      },
      "/deployments/{deployment}": {
        get: op("Describe a deployment", { "200": "the deployment", "404": "unknown deployment" }, { parameters: [idParam("deployment", "deployment id (dp_…)")] }),
        delete: op("Remove a deployment (only with force=true)", { "202": "removed", "501": "without force", "404": "unknown deployment" }, { parameters: [idParam("deployment", "deployment id (dp_…)")] }),
      },
      "/services": { get: op("List services", { "200": "the services" }) },
      "/services/{service}": {
        get: op("Describe a service", { "200": "the service", "404": "unknown service" }, { parameters: [idParam("service", "service name")] }),
        patch: op("Change a service's settings (retention, timeouts, public)", { "200": "the updated service", "404": "unknown service", "422": "bad value" }, { parameters: [idParam("service", "service name")] }),
      },
      "/services/{service}/handlers": { get: op("List a service's handlers", { "200": "the handlers" }, { parameters: [idParam("service", "service name")] }) },
      "/services/{service}/handlers/{handler}": {
        get: op("Describe a handler", { "200": "the handler", "404": "unknown service or handler" }, { parameters: [idParam("service", "service name"), idParam("handler", "handler name")] }),
      },
      "/services/{service}/openapi": { get: op("OpenAPI description of the service's ingress paths", { "200": "the document" }, { parameters: [idParam("service", "service name")] }) },
      "/invocations/{invocation_id}/cancel": { patch: invocationOp("Cancel", "202") },
      "/invocations/{invocation_id}/kill": { patch: invocationOp("Kill", "200") },
      "/invocations/{invocation_id}/purge": { patch: invocationOp("Purge", "200") },
      "/invocations/{invocation_id}/pause": { patch: invocationOp("Pause", "200") },
      "/invocations/{invocation_id}/resume": { patch: invocationOp("Resume", "200") },
      "/invocations/{invocation_id}/restart-as-new": { patch: invocationOp("Restart as a new invocation", "200") },
      "/health": { get: op("Health", { "200": "healthy" }) },
      "/version": { get: op("Version and supported admin API versions", { "200": "the version" }) },
    },
    components: { schemas: { Error: errorSchema } },
  };
}

function requestBody(h: HandlerDefinition): Doc | undefined {
  if (h.input.contentType === undefined) return undefined;
  return { required: h.input.required, content: { [h.input.contentType]: { schema: {} } } };
}

export function serviceOpenApi(svc: ServiceRecord, ingressUrl: string): Doc {
  const def = svc.definition;
  const keyed = def.ty !== "service";
  const keyParam = keyed ? [idParam("key", def.ty === "workflow" ? "workflow id" : "object key")] : [];
  const prefix = keyed ? `${def.name}/{key}` : def.name;
  const paths: Record<string, Doc> = {};
  const errors = { "400": "bad request", "404": "not found", "500": "the handler failed" };
  for (const h of def.handlers) {
    const body = requestBody(h);
    const output = h.output.contentType ? { content: { [h.output.contentType]: { schema: {} } } } : {};
    paths[`/restate/call/${prefix}/${h.name}`] = {
      post: {
        summary: h.documentation ?? `Call ${def.name}/${h.name}`,
        parameters: keyParam,
        ...(body ? { requestBody: body } : {}),
        responses: { "200": { description: "the handler's output", ...output }, ...Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, { description: v }])) },
      },
    };
    paths[`/restate/send/${prefix}/${h.name}`] = {
      post: {
        summary: `Send to ${def.name}/${h.name} without waiting`,
        parameters: [...keyParam, { name: "delay", in: "query", required: false, schema: { type: "string" }, description: "ISO 8601 or friendly duration" }],
        ...(body ? { requestBody: body } : {}),
        responses: { "202": { description: "accepted: {invocationId, status}" } },
      },
    };
    if (def.ty !== "workflow") {
      for (const action of ["attach", "output"]) {
        paths[`/restate/invocation/${prefix}/${h.name}/{idempotencyKey}/${action}`] = {
          get: {
            summary: `${action === "attach" ? "Wait for" : "Read"} the result of an idempotent call to ${h.name}`,
            parameters: [...keyParam, idParam("idempotencyKey", "idempotency key of the original request")],
            responses: { "200": { description: "the result", ...output }, "404": { description: "not found" }, ...(action === "output" ? { "470": { description: "the invocation exists but has not completed yet" } } : {}) },
          },
        };
      }
    }
  }
  if (def.ty === "workflow") {
    for (const action of ["attach", "output"]) {
      paths[`/restate/workflow/${def.name}/{key}/${action}`] = {
        get: {
          summary: `${action === "attach" ? "Wait for" : "Read"} the result of the workflow run`,
          parameters: keyParam,
          responses: { "200": { description: "the result" }, "404": { description: "not found" }, ...(action === "output" ? { "470": { description: "not ready" } } : {}) },
        },
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: def.name, version: String(svc.revision), ...(def.documentation ? { description: def.documentation } : {}) },
    servers: [{ url: ingressUrl }],
    paths,
    components: { schemas: { Error: errorSchema } },
  };
}
