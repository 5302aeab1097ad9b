// The registry of deployments and services: registration (with discovery), lookups on the invocation path,
// and the settings an invocation runs with.
//
// Invariants:
// - Lookups are served from memory; every change is written to the store before the cache changes.
// - A service is served by exactly one deployment (the latest registered); invocations keep the deployment
//   they were pinned to.
// - Re-registering the same uri without `force` keeps the registered schema (as the reference does).

import type { Store } from "../storage/api/store.ts";
import type { DeploymentRecord, ServiceRecord } from "../storage/api/records.ts";
import type { HandlerDefinition, InvocationOptions, RetryPolicy } from "../core/types.ts";
import type { Clock, RandomSource } from "../core/environment.ts";
import { DEFAULT_RETRY_POLICY, mergeRetryPolicy } from "../core/retry-policy.ts";
import { encodeDeploymentId } from "../core/ids.ts";
import type { EndpointClient } from "../endpoint/client.ts";
import { discover } from "./discovery.ts";

export interface RegistrationRequest {
  readonly uri: URL;
  readonly additionalHeaders: Readonly<Record<string, string>>;
  readonly useHttp11: boolean;
  readonly force: boolean;
  readonly dryRun: boolean;
}

export interface RegistrationResult {
  readonly created: boolean;
  readonly deployment: DeploymentRecord;
  readonly services: readonly ServiceRecord[];
}

/** Memo key of the settings asked for without a handler (handler names are never empty). */
const NO_HANDLER = "";

export class RegistrationConflict extends Error {}

/** Defaults applied when neither the manifest nor an admin override sets a value. */
export interface InvocationDefaults {
  readonly inactivityTimeoutMs: number;
  readonly abortTimeoutMs: number;
  readonly journalRetentionMs: number;
  readonly idempotencyRetentionMs: number;
  readonly workflowCompletionRetentionMs: number;
  readonly retryPolicy: RetryPolicy;
}

export const DEFAULT_INVOCATION_SETTINGS: InvocationDefaults = Object.freeze({
  inactivityTimeoutMs: 60_000,
  abortTimeoutMs: 600_000,
  journalRetentionMs: 86_400_000,
  idempotencyRetentionMs: 86_400_000,
  workflowCompletionRetentionMs: 86_400_000,
  retryPolicy: DEFAULT_RETRY_POLICY,
});

/** The settings one handler runs with: manifest handler > manifest service > admin override > defaults. */
export interface HandlerSettings extends InvocationDefaults {
  readonly enableLazyState: boolean;
  readonly public: boolean;
}

export class Registry {
  private readonly deployments = new Map<string, DeploymentRecord>();
  private readonly services = new Map<string, ServiceRecord>();
  private readonly store: Store;
  private readonly client: EndpointClient;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly defaults: InvocationDefaults;
  private readonly settingsMemo = new WeakMap<ServiceRecord, Map<string, HandlerSettings>>();
  private readonly discoveryTimeoutMs: number;

  constructor(deps: { store: Store; client: EndpointClient; clock: Clock; random: RandomSource; defaults?: InvocationDefaults; discoveryTimeoutMs?: number }) {
    this.store = deps.store;
    this.client = deps.client;
    this.clock = deps.clock;
    this.random = deps.random;
    this.defaults = deps.defaults ?? DEFAULT_INVOCATION_SETTINGS;
    this.discoveryTimeoutMs = deps.discoveryTimeoutMs ?? 10_000;
  }

  async load(): Promise<void> {
    for (const d of await this.store.listDeployments()) this.deployments.set(d.id, d);
    for (const s of await this.store.listServices()) this.services.set(s.name, s);
  }

  listDeployments(): DeploymentRecord[] {
    return [...this.deployments.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  deployment(id: string): DeploymentRecord | undefined {
    return this.deployments.get(id);
  }

  listServices(): ServiceRecord[] {
    return [...this.services.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  service(name: string): ServiceRecord | undefined {
    return this.services.get(name);
  }

  handler(service: string, handler: string): HandlerDefinition | undefined {
    return this.services.get(service)?.definition.handlers.find((h) => h.name === handler);
  }

  /**
   * Effective settings for a handler, resolving every layer. Memoised per service record: records are replaced,
   * never changed, when a deployment or an admin override changes them.
   */
  settings(service: ServiceRecord, handler: HandlerDefinition | undefined): HandlerSettings {
    let perHandler = this.settingsMemo.get(service);
    if (!perHandler) {
      perHandler = new Map();
      this.settingsMemo.set(service, perHandler);
    }
    const memoKey = handler?.name ?? NO_HANDLER;
    let settings = perHandler.get(memoKey);
    if (!settings) {
      settings = Object.freeze(this.resolveSettings(service, handler));
      perHandler.set(memoKey, settings);
    }
    return settings;
  }

  /** Whether attempts of an invocation get its object's state with Start: keyed, and lazy state not enabled. */
  sendsEagerState(inv: { readonly service: string; readonly handler: string; readonly key: string | undefined }): boolean {
    if (inv.key === undefined) return false;
    const svc = this.services.get(inv.service);
    return !(svc && this.settings(svc, this.handler(inv.service, inv.handler)).enableLazyState);
  }

  private resolveSettings(service: ServiceRecord, handler: HandlerDefinition | undefined): HandlerSettings {
    const svc = service.definition.options;
    const ov = service.overrides;
    const h: InvocationOptions = handler?.options ?? {};
    const pick = <K extends keyof InvocationOptions>(k: K): InvocationOptions[K] => h[k] ?? ov[k] ?? svc[k];
    const publicService = ov.public ?? !(svc.ingressPrivate ?? false);
    return {
      inactivityTimeoutMs: pick("inactivityTimeoutMs") ?? this.defaults.inactivityTimeoutMs,
      abortTimeoutMs: pick("abortTimeoutMs") ?? this.defaults.abortTimeoutMs,
      journalRetentionMs: pick("journalRetentionMs") ?? this.defaults.journalRetentionMs,
      idempotencyRetentionMs: pick("idempotencyRetentionMs") ?? this.defaults.idempotencyRetentionMs,
      workflowCompletionRetentionMs: pick("workflowCompletionRetentionMs") ?? this.defaults.workflowCompletionRetentionMs,
      retryPolicy: mergeRetryPolicy(this.defaults.retryPolicy, svc.retryPolicy, ov.retryPolicy, h.retryPolicy),
      enableLazyState: pick("enableLazyState") ?? false,
      public: publicService && !(h.ingressPrivate ?? false),
    };
  }

  async register(req: RegistrationRequest): Promise<RegistrationResult> {
    const uri = normaliseUri(req.uri);
    const { manifest, sdkVersion } = await discover(this.client, {
      uri: new URL(uri),
      additionalHeaders: req.additionalHeaders,
      useHttp11: req.useHttp11,
      timeoutMs: this.discoveryTimeoutMs,
    });
    const existing = [...this.deployments.values()].find((d) => d.uri === uri);
    if (existing && !req.force) {
      return { created: false, deployment: existing, services: this.servicesOf(existing.id) };
    }
    for (const s of manifest.services) {
      const current = this.services.get(s.name);
      if (current && current.definition.ty !== s.ty && !req.force) {
        throw new RegistrationConflict(
          `service '${s.name}' changed its type from ${current.definition.ty} to ${s.ty}; register with "force": true to replace it`,
        );
      }
    }
    const deployment: DeploymentRecord = {
      id: existing?.id ?? encodeDeploymentId(this.random.bytes(16)),
      uri,
      protocolType: manifest.protocolMode === "BIDI_STREAM" ? "BidiStream" : "RequestResponse",
      httpVersion: req.useHttp11 ? "HTTP/1.1" : "HTTP/2.0",
      additionalHeaders: req.additionalHeaders,
      minProtocolVersion: manifest.minProtocolVersion,
      maxProtocolVersion: manifest.maxProtocolVersion,
      sdkVersion,
      createdAt: existing?.createdAt ?? this.clock.now(),
      services: manifest.services,
    };
    const services: ServiceRecord[] = manifest.services.map((def) => {
      const current = this.services.get(def.name);
      return {
        name: def.name,
        revision: (current?.revision ?? 0) + 1,
        deploymentId: deployment.id,
        definition: def,
        // A new revision starts from its manifest: settings changed through the admin API do not carry over.
        overrides: {},
      };
    });
    if (req.dryRun) return { created: !existing, deployment, services };
    await this.store.putDeployment(deployment);
    await this.store.putServices(services);
    this.deployments.set(deployment.id, deployment);
    for (const s of services) this.services.set(s.name, s);
    return { created: !existing, deployment, services };
  }

  servicesOf(deploymentId: string): ServiceRecord[] {
    return this.listServices().filter((s) => s.deploymentId === deploymentId);
  }

  /** Removes a deployment and the services it currently serves. */
  async removeDeployment(id: string): Promise<boolean> {
    if (!this.deployments.has(id)) return false;
    const names = this.servicesOf(id).map((s) => s.name);
    await this.store.deleteServices(names);
    await this.store.deleteDeployment(id);
    this.deployments.delete(id);
    for (const n of names) this.services.delete(n);
    return true;
  }

  async updateService(name: string, overrides: ServiceRecord["overrides"]): Promise<ServiceRecord | undefined> {
    const current = this.services.get(name);
    if (!current) return undefined;
    const next: ServiceRecord = { ...current, overrides };
    await this.store.putServices([next]);
    this.services.set(name, next);
    return next;
  }
}

export function normaliseUri(uri: URL): string {
  const u = new URL(uri.href);
  if (!u.pathname.endsWith("/")) u.pathname += "/";
  return u.href;
}

