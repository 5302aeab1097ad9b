// Parses and validates the endpoint manifest (discovery response, versions v2-v4) into service definitions.
// Pure. Invariant: a manifest that would be unsafe to invoke (missing protocol mode, no overlap with the
// protocol versions perdure speaks, malformed names or types) is rejected with a message naming the field.

import type { HandlerDefinition, HandlerType, InvocationOptions, RetryPolicy, ServiceDefinition, ServiceType } from "../core/types.ts";

export const MIN_SERVICE_PROTOCOL_VERSION = 5;
export const MAX_SERVICE_PROTOCOL_VERSION = 7;
export const MANIFEST_CONTENT_TYPES = [2, 3, 4].map((v) => `application/vnd.restate.endpointmanifest.v${v}+json`);

export interface EndpointManifest {
  readonly protocolMode: "BIDI_STREAM" | "REQUEST_RESPONSE";
  readonly minProtocolVersion: number;
  readonly maxProtocolVersion: number;
  readonly services: readonly ServiceDefinition[];
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

const SERVICE_NAME = /^([a-zA-Z]|_[a-zA-Z0-9])[a-zA-Z0-9._-]*$/;
const HANDLER_NAME = /^([a-zA-Z]|_[a-zA-Z0-9])[a-zA-Z0-9_]*$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function optInt(o: Obj, field: string, where: string): number | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new ManifestError(`${where}: '${field}' must be a non-negative number`);
  return v;
}

function optBool(o: Obj, field: string, where: string): boolean | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw new ManifestError(`${where}: '${field}' must be a boolean`);
  return v;
}

function parseOptions(o: Obj, where: string): InvocationOptions {
  const retry: Partial<{ -readonly [K in keyof RetryPolicy]: RetryPolicy[K] }> = {};
  const initial = optInt(o, "retryPolicyInitialInterval", where);
  if (initial !== undefined) retry.initialIntervalMs = initial;
  const max = optInt(o, "retryPolicyMaxInterval", where);
  if (max !== undefined) retry.maxIntervalMs = max;
  const attempts = optInt(o, "retryPolicyMaxAttempts", where);
  if (attempts !== undefined) retry.maxAttempts = attempts;
  const factor = optInt(o, "retryPolicyExponentiationFactor", where);
  if (factor !== undefined) retry.exponentiationFactor = factor;
  const onMax = o.retryPolicyOnMaxAttempts;
  if (onMax !== undefined) {
    if (onMax !== "PAUSE" && onMax !== "KILL") throw new ManifestError(`${where}: 'retryPolicyOnMaxAttempts' must be PAUSE or KILL`);
    retry.onMaxAttempts = onMax === "PAUSE" ? "pause" : "kill";
  }
  const opts: { -readonly [K in keyof InvocationOptions]: InvocationOptions[K] } = {};
  const set = <K extends keyof InvocationOptions>(k: K, v: InvocationOptions[K] | undefined) => {
    if (v !== undefined) opts[k] = v;
  };
  set("inactivityTimeoutMs", optInt(o, "inactivityTimeout", where));
  set("abortTimeoutMs", optInt(o, "abortTimeout", where));
  set("journalRetentionMs", optInt(o, "journalRetention", where));
  set("idempotencyRetentionMs", optInt(o, "idempotencyRetention", where));
  set("workflowCompletionRetentionMs", optInt(o, "workflowCompletionRetention", where));
  set("enableLazyState", optBool(o, "enableLazyState", where));
  set("ingressPrivate", optBool(o, "ingressPrivate", where));
  if (Object.keys(retry).length > 0) opts.retryPolicy = retry;
  return opts;
}

function parseHandler(h: unknown, serviceTy: ServiceType, service: string): HandlerDefinition {
  if (!isObj(h)) throw new ManifestError(`service '${service}': every handler must be an object`);
  const name = h.name;
  if (typeof name !== "string" || !HANDLER_NAME.test(name)) throw new ManifestError(`service '${service}': invalid handler name ${JSON.stringify(name)}`);
  const where = `handler '${service}/${name}'`;
  let ty: HandlerType | undefined;
  if (h.ty === undefined || h.ty === null) {
    ty = serviceTy === "virtual_object" ? "exclusive" : serviceTy === "workflow" ? "shared" : undefined;
  } else if (h.ty === "EXCLUSIVE" || h.ty === "SHARED" || h.ty === "WORKFLOW") {
    if (serviceTy === "service") throw new ManifestError(`${where}: handlers of a plain service have no type`);
    ty = h.ty.toLowerCase() as HandlerType;
    if (ty === "workflow" && serviceTy !== "workflow") throw new ManifestError(`${where}: WORKFLOW handlers only exist in workflows`);
    if (ty === "exclusive" && serviceTy === "workflow") throw new ManifestError(`${where}: workflows have no EXCLUSIVE handlers`);
  } else {
    throw new ManifestError(`${where}: unknown handler type ${JSON.stringify(h.ty)}`);
  }
  const input = h.input === undefined ? { required: false, contentType: "*/*" } : h.input;
  const output = h.output === undefined ? { contentType: "application/json", setContentTypeIfEmpty: false } : h.output;
  if (!isObj(input) || !isObj(output)) throw new ManifestError(`${where}: 'input' and 'output' must be objects`);
  const def: HandlerDefinition = {
    name,
    ty,
    input: {
      required: input.required === true,
      contentType: typeof input.contentType === "string" ? input.contentType : undefined,
    },
    output: {
      contentType: typeof output.contentType === "string" ? output.contentType : undefined,
      setContentTypeIfEmpty: output.setContentTypeIfEmpty === true,
    },
    options: parseOptions(h, where),
    ...(typeof h.documentation === "string" ? { documentation: h.documentation } : {}),
    ...(isObj(h.metadata) ? { metadata: h.metadata as Record<string, string> } : {}),
  };
  return def;
}

function parseService(s: unknown): ServiceDefinition {
  if (!isObj(s)) throw new ManifestError("every service must be an object");
  const name = s.name;
  if (typeof name !== "string" || !SERVICE_NAME.test(name)) throw new ManifestError(`invalid service name ${JSON.stringify(name)}`);
  if (name.toLowerCase().startsWith("restate") || name.toLowerCase() === "openapi") {
    throw new ManifestError(`service name '${name}' is reserved`);
  }
  const tyMap: Record<string, ServiceType> = { SERVICE: "service", VIRTUAL_OBJECT: "virtual_object", WORKFLOW: "workflow" };
  const ty = typeof s.ty === "string" ? tyMap[s.ty] : undefined;
  if (!ty) throw new ManifestError(`service '${name}': unknown type ${JSON.stringify(s.ty)}`);
  if (!Array.isArray(s.handlers)) throw new ManifestError(`service '${name}': 'handlers' must be an array`);
  const handlers = s.handlers.map((h) => parseHandler(h, ty, name));
  const seen = new Set<string>();
  for (const h of handlers) {
    if (seen.has(h.name)) throw new ManifestError(`service '${name}': handler '${h.name}' is declared twice`);
    seen.add(h.name);
  }
  if (ty === "workflow" && handlers.filter((h) => h.ty === "workflow").length !== 1) {
    throw new ManifestError(`workflow '${name}' must have exactly one WORKFLOW handler`);
  }
  return {
    name,
    ty,
    handlers,
    options: parseOptions(s, `service '${name}'`),
    ...(typeof s.documentation === "string" ? { documentation: s.documentation } : {}),
    ...(isObj(s.metadata) ? { metadata: s.metadata as Record<string, string> } : {}),
  };
}

/** Parses a manifest document. Throws ManifestError with a precise reason. */
export function parseEndpointManifest(doc: unknown): EndpointManifest {
  if (!isObj(doc)) throw new ManifestError("the manifest must be a JSON object");
  const mode = doc.protocolMode;
  if (mode === undefined) throw new ManifestError("missing protocol mode");
  if (mode !== "BIDI_STREAM" && mode !== "REQUEST_RESPONSE") throw new ManifestError(`unknown protocol mode ${JSON.stringify(mode)}`);
  const min = doc.minProtocolVersion;
  const max = doc.maxProtocolVersion;
  if (typeof min !== "number" || typeof max !== "number" || !Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < 1) {
    throw new ManifestError("'minProtocolVersion' and 'maxProtocolVersion' must be positive integers");
  }
  if (min > max) throw new ManifestError(`minProtocolVersion ${min} is greater than maxProtocolVersion ${max}`);
  if (max < MIN_SERVICE_PROTOCOL_VERSION || min > MAX_SERVICE_PROTOCOL_VERSION) {
    throw new ManifestError(
      `the endpoint speaks service protocol versions [${min}, ${max}], perdure supports [${MIN_SERVICE_PROTOCOL_VERSION}, ${MAX_SERVICE_PROTOCOL_VERSION}]`,
    );
  }
  if (!Array.isArray(doc.services)) throw new ManifestError("'services' must be an array");
  const services = doc.services.map(parseService);
  const names = new Set<string>();
  for (const s of services) {
    if (names.has(s.name)) throw new ManifestError(`service '${s.name}' is declared twice`);
    names.add(s.name);
  }
  return { protocolMode: mode, minProtocolVersion: min, maxProtocolVersion: max, services };
}

/** The protocol version to use with an endpoint that speaks [min, max], at most `serverMax`. */
export function pickProtocolVersion(min: number, max: number, serverMax: number = MAX_SERVICE_PROTOCOL_VERSION): number | undefined {
  const v = Math.min(max, serverMax, MAX_SERVICE_PROTOCOL_VERSION);
  return v >= Math.max(min, MIN_SERVICE_PROTOCOL_VERSION) ? v : undefined;
}
