// JSON shapes of the admin API (deployments, services, handlers), as clients of the reference expect them.
// Pure functions from registry records to plain objects. Durations are humantime strings ("1d", "500ms").

import type { DeploymentRecord, ServiceRecord } from "../storage/api/records.ts";
import type { HandlerDefinition, RetryPolicy } from "../core/types.ts";
import type { HandlerSettings, Registry } from "../deployments/registry.ts";
import { formatDuration, formatRfc3339Nanos } from "../core/durations.ts";

const SERVICE_TY = { service: "Service", virtual_object: "VirtualObject", workflow: "Workflow" } as const;
const HANDLER_TY = { exclusive: "Exclusive", shared: "Shared", workflow: "Workflow" } as const;

function retryPolicyJson(p: RetryPolicy): Record<string, unknown> {
  return {
    initial_interval: formatDuration(p.initialIntervalMs),
    exponentiation_factor: p.exponentiationFactor,
    max_attempts: p.maxAttempts,
    max_interval: formatDuration(p.maxIntervalMs),
    on_max_attempts: p.onMaxAttempts === "pause" ? "Pause" : "Kill",
  };
}

function handlerRetryPolicyJson(h: HandlerDefinition): Record<string, unknown> {
  const r = h.options.retryPolicy;
  if (!r) return { max_attempts: null };
  const out: Record<string, unknown> = {};
  if (r.initialIntervalMs !== undefined) out.initial_interval = formatDuration(r.initialIntervalMs);
  if (r.exponentiationFactor !== undefined) out.exponentiation_factor = r.exponentiationFactor;
  out.max_attempts = r.maxAttempts ?? null;
  if (r.maxIntervalMs !== undefined) out.max_interval = formatDuration(r.maxIntervalMs);
  if (r.onMaxAttempts !== undefined) out.on_max_attempts = r.onMaxAttempts === "pause" ? "Pause" : "Kill";
  return out;
}

export function handlerJson(registry: Registry, svc: ServiceRecord, h: HandlerDefinition): Record<string, unknown> {
  const settings: HandlerSettings = registry.settings(svc, h);
  const out: Record<string, unknown> = { name: h.name };
  if (h.ty !== undefined) out.ty = HANDLER_TY[h.ty];
  if (h.documentation) out.documentation = h.documentation;
  if (h.metadata) out.metadata = h.metadata;
  out.public = settings.public;
  out.input_description = h.input.contentType ?? "none";
  out.output_description = h.output.contentType ?? "none";
  if (h.options.journalRetentionMs !== undefined) out.journal_retention = formatDuration(h.options.journalRetentionMs);
  if (h.options.idempotencyRetentionMs !== undefined) out.idempotency_retention = formatDuration(h.options.idempotencyRetentionMs);
  if (h.options.workflowCompletionRetentionMs !== undefined) out.workflow_completion_retention = formatDuration(h.options.workflowCompletionRetentionMs);
  if (h.options.inactivityTimeoutMs !== undefined) out.inactivity_timeout = formatDuration(h.options.inactivityTimeoutMs);
  if (h.options.abortTimeoutMs !== undefined) out.abort_timeout = formatDuration(h.options.abortTimeoutMs);
  if (h.options.enableLazyState !== undefined) out.enable_lazy_state = h.options.enableLazyState;
  out.retry_policy = handlerRetryPolicyJson(h);
  return out;
}

export function serviceJson(registry: Registry, svc: ServiceRecord): Record<string, unknown> {
  const def = svc.definition;
  const settings = registry.settings(svc, undefined);
  const out: Record<string, unknown> = {
    name: def.name,
    ty: SERVICE_TY[def.ty],
    handlers: def.handlers.map((h) => handlerJson(registry, svc, h)),
  };
  if (def.documentation) out.documentation = def.documentation;
  if (def.metadata) out.metadata = def.metadata;
  Object.assign(out, {
    deployment_id: svc.deploymentId,
    revision: svc.revision,
    public: settings.public,
    idempotency_retention: formatDuration(settings.idempotencyRetentionMs),
  });
  if (def.ty === "workflow") out.workflow_completion_retention = formatDuration(settings.workflowCompletionRetentionMs);
  Object.assign(out, {
    journal_retention: formatDuration(settings.journalRetentionMs),
    inactivity_timeout: formatDuration(settings.inactivityTimeoutMs),
    abort_timeout: formatDuration(settings.abortTimeoutMs),
    enable_lazy_state: settings.enableLazyState,
    retry_policy: retryPolicyJson(settings.retryPolicy),
  });
  return out;
}

function deploymentBase(d: DeploymentRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: d.id,
    uri: d.uri,
    protocol_type: d.protocolType,
    http_version: d.httpVersion,
  };
  if (Object.keys(d.additionalHeaders).length > 0) out.additional_headers = d.additionalHeaders;
  out.created_at = formatRfc3339Nanos(d.createdAt);
  out.min_protocol_version = d.minProtocolVersion;
  out.max_protocol_version = d.maxProtocolVersion;
  if (d.sdkVersion) out.sdk_version = d.sdkVersion;
  return out;
}

/** List entry: services as name and revision. */
export function deploymentListJson(registry: Registry, d: DeploymentRecord): Record<string, unknown> {
  return { ...deploymentBase(d), services: registry.servicesOf(d.id).map((s) => ({ name: s.name, revision: s.revision })) };
}

/** Detail: full service metadata. */
export function deploymentDetailJson(registry: Registry, d: DeploymentRecord): Record<string, unknown> {
  return { ...deploymentBase(d), services: registry.servicesOf(d.id).map((s) => serviceJson(registry, s)) };
}
