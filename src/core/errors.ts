// Stable error codes of perdure and the error type that carries them.
// Every error that crosses a module boundary is a PerdureError with a code; the HTTP edges map codes to statuses.
// `retryable` tells whether trying the same thing again may succeed.

export const ErrorCode = {
  /** Input from a client was malformed. */
  BadRequest: "PD0400",
  NotFound: "PD0404",
  Conflict: "PD0409",
  /** Discovery of a deployment failed (unreachable, bad status, invalid manifest). */
  DiscoveryFailed: "META0003",
  /** The manifest of a deployment is invalid. */
  InvalidManifest: "META0004",
  /** A deployment answered with something that breaks the invocation protocol. */
  ProtocolViolation: "RT0012",
  /** The deployment could not be reached or the stream broke. */
  DeploymentUnavailable: "RT0010",
  /** The endpoint reported a failed attempt (ErrorMessage). */
  AttemptFailed: "RT0007",
  /** No deployment serves the invocation's target anymore. */
  NoDeployment: "RT0011",
  /** A command the handler's kind may not issue (state writes from shared handlers, promises outside workflows). */
  CommandNotAllowed: "RT0017",
  /** A call or send to a service or handler that is not registered. */
  UnknownTarget: "RT0018",
  /** Inactivity or abort timeout. */
  Timeout: "RT0001",
  Storage: "PD0500",
  Internal: "PD0501",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class PerdureError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "PerdureError";
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message && !err.message.includes(cause.message)) {
      return `${err.message}: ${cause.message}`;
    }
    return err.message;
  }
  return String(err);
}
