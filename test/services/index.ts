// The test services in one place, and a server that serves them with the real SDK on a port of
// our choosing (0 = any free port) that can be closed again: h2c by default (BIDI_STREAM, the
// mode restate-server uses for http:// deployments) or HTTP/1.1 request-response.
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as restate from "@restatedev/restate-sdk";
import { counter } from "./counter.ts";
import { greeter, privateService } from "./greeter.ts";
import { quickWf, signup } from "./signup.ts";
import { steps } from "./steps.ts";

export const allServices = [greeter, privateService, counter, signup, quickWf, steps];

export type ServeOptions = {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** "h2c" (default) or "http1" (HTTP/1.1 via the SDK's http1Handler). */
  transport?: "h2c" | "http1";
  /**
   * Protocol mode. Default: BIDI_STREAM over h2c, REQUEST_RESPONSE over HTTP/1.1.
   * `false` forces REQUEST_RESPONSE, `true` forces BIDI_STREAM.
   */
  bidirectional?: boolean;
  /** Services to serve; default allServices. */
  services?: restate.EndpointOptions["services"];
  /** Drop all SDK log output (the SDK logs every retryable error). */
  quiet?: boolean;
  /** Custom SDK logger; takes precedence over `quiet`. */
  logger?: restate.LoggerTransport;
};

export type ServicesServer = {
  port: number;
  /** Base URL to register as a deployment, e.g. http://127.0.0.1:9080 */
  url: string;
  /** Stops listening and ends open connections (in-flight streams get 500 ms, then are destroyed). */
  close(): Promise<void>;
};

const CLOSE_GRACE_MS = 500;

export async function startServices(port = 0, opts: ServeOptions = {}): Promise<ServicesServer> {
  const host = opts.host ?? "127.0.0.1";
  const logger = opts.logger ?? (opts.quiet ? () => {} : undefined);
  const handler = restate.createEndpointHandler({
    services: opts.services ?? allServices,
    ...(logger ? { logger } : {}),
    ...(opts.bidirectional !== undefined ? { bidirectional: opts.bidirectional } : {}),
  });

  let server: http.Server | http2.Http2Server;
  let endConnections: () => void;
  if (opts.transport === "http1") {
    const h1 = http.createServer(handler);
    server = h1;
    endConnections = () => {
      h1.closeIdleConnections();
      setTimeout(() => h1.closeAllConnections(), CLOSE_GRACE_MS).unref();
    };
  } else {
    const h2 = http2.createServer(handler);
    const sessions = new Set<http2.ServerHttp2Session>();
    h2.on("session", (session: http2.ServerHttp2Session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    });
    server = h2;
    endConnections = () => {
      for (const session of sessions) {
        session.close();
        setTimeout(() => session.destroy(), CLOSE_GRACE_MS).unref();
      }
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    port: actualPort,
    url: `http://${urlHost}:${actualPort}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        endConnections();
      });
      return closing;
    },
  };
}
