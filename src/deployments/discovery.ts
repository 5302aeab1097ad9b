// Discovery: asks an endpoint for its manifest (`GET {uri}/discover`) and validates the answer.
// Invariant: either returns a validated manifest or throws a DiscoveryError whose message says what to fix;
// it never registers anything itself.

import type { EndpointClient } from "../endpoint/client.ts";
import { MANIFEST_CONTENT_TYPES, ManifestError, parseEndpointManifest, type EndpointManifest } from "../protocol/endpoint-manifest.ts";

export class DiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DiscoveryError";
  }
}

export interface DiscoveryRequest {
  readonly uri: URL;
  readonly additionalHeaders: Readonly<Record<string, string>>;
  readonly useHttp11: boolean;
  readonly timeoutMs: number;
}

export interface DiscoveryResult {
  readonly manifest: EndpointManifest;
  readonly sdkVersion: string | undefined;
}

/** Joins a path suffix to a deployment uri that may itself carry a path prefix. */
export function endpointUrl(base: URL, suffix: string): URL {
  const url = new URL(base.href);
  url.pathname = url.pathname.replace(/\/+$/, "") + suffix;
  return url;
}

export async function discover(client: EndpointClient, req: DiscoveryRequest): Promise<DiscoveryResult> {
  const url = endpointUrl(req.uri, "/discover");
  let res;
  try {
    res = await client.request(url, {
      method: "GET",
      audience: "/discover",
      http11: req.useHttp11,
      timeoutMs: req.timeoutMs,
      headers: { accept: MANIFEST_CONTENT_TYPES.join(", "), ...req.additionalHeaders },
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DiscoveryError(`error when calling '${req.uri.href}': ${reason}`);
  }
  const body = res.body.toString("utf8");
  if (res.status === 404) {
    throw new DiscoveryError(`'${url.href}' answered 404: check that the uri points to the endpoint serving the services (the path must end where '/discover' is served)`);
  }
  if (res.status !== 200) {
    throw new DiscoveryError(`'${url.href}' answered ${res.status}: ${body.slice(0, 500)}`);
  }
  const contentType = String(res.headers["content-type"] ?? "").split(";")[0]!.trim();
  if (!MANIFEST_CONTENT_TYPES.includes(contentType)) {
    throw new DiscoveryError(`'${url.href}' answered with content-type '${contentType}', expected one of ${MANIFEST_CONTENT_TYPES.join(", ")}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw new DiscoveryError(`'${url.href}' answered a manifest that is not valid JSON`);
  }
  try {
    const manifest = parseEndpointManifest(doc);
    const server = res.headers["x-restate-server"];
    return { manifest, sdkVersion: typeof server === "string" ? server : undefined };
  } catch (err) {
    if (err instanceof ManifestError) throw new DiscoveryError(`invalid manifest from '${url.href}': ${err.message}`);
    throw err;
  }
}
