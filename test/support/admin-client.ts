// Small helpers over an admin API (perdure's or the reference server's): register a deployment,
// and poll until a condition holds.
import { setTimeout as delay } from "node:timers/promises";

export type AdminResponse<T = unknown> = { status: number; headers: Headers; body: T };

/** POST /deployments {"uri": uri, ...extra}. The body is parsed as JSON when possible, else returned as text. */
export async function registerDeployment<T = unknown>(
  adminUrl: string,
  uri: string,
  extra: Record<string, unknown> = {},
): Promise<AdminResponse<T>> {
  const response = await fetch(new URL("/deployments", adminUrl), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ uri, ...extra }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

/**
 * Calls `fn` every `intervalMs` until it returns a value other than undefined/false (which is
 * returned) or `timeoutMs` passes. Exceptions count as "not yet"; the last one is in the timeout error.
 */
export async function waitFor<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`waitFor timed out after ${timeoutMs} ms${reason}`, { cause: lastError });
    }
    await delay(intervalMs);
  }
}
