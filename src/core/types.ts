// Service, handler and invocation vocabulary shared by every module.
// Pure data types: no behaviour, no I/O. Names follow Restate's vocabulary.

export type ServiceType = "service" | "virtual_object" | "workflow";
export type HandlerType = "exclusive" | "shared" | "workflow";

/** Retry policy for failed attempts. Durations in milliseconds. */
export interface RetryPolicy {
  readonly initialIntervalMs: number;
  readonly exponentiationFactor: number;
  readonly maxIntervalMs: number;
  /** Attempts in total, including the first. `null` means unlimited. */
  readonly maxAttempts: number | null;
  readonly onMaxAttempts: "pause" | "kill";
}

/** Options a service or handler may set in its manifest; `undefined` means "inherit". */
export interface InvocationOptions {
  readonly inactivityTimeoutMs?: number;
  readonly abortTimeoutMs?: number;
  readonly journalRetentionMs?: number;
  readonly idempotencyRetentionMs?: number;
  readonly workflowCompletionRetentionMs?: number;
  readonly enableLazyState?: boolean;
  readonly ingressPrivate?: boolean;
  readonly retryPolicy?: Partial<RetryPolicy>;
}

export interface HandlerDefinition {
  readonly name: string;
  /** `undefined` for handlers of plain services. */
  readonly ty: HandlerType | undefined;
  readonly input: { readonly required: boolean; readonly contentType: string | undefined };
  readonly output: { readonly contentType: string | undefined; readonly setContentTypeIfEmpty: boolean };
  readonly options: InvocationOptions;
  readonly documentation?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface ServiceDefinition {
  readonly name: string;
  readonly ty: ServiceType;
  readonly handlers: readonly HandlerDefinition[];
  readonly options: InvocationOptions;
  readonly documentation?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What an invocation targets. `key` is the object key or workflow id; absent for plain services. */
export interface InvocationTarget {
  readonly service: string;
  readonly handler: string;
  readonly key: string | undefined;
}

export function formatTarget(t: InvocationTarget): string {
  return t.key === undefined ? `${t.service}/${t.handler}` : `${t.service}/${t.key}/${t.handler}`;
}

/** A terminal failure as carried by the protocol and reported to callers. */
export interface Failure {
  readonly code: number;
  readonly message: string;
  readonly metadata?: ReadonlyArray<readonly [string, string]>;
  readonly stacktrace?: string;
}

/** The outcome of a completed invocation. */
export type InvocationResult =
  | { readonly kind: "success"; readonly value: Buffer }
  | { readonly kind: "failure"; readonly failure: Failure };
