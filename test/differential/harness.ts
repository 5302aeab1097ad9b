// Starts what a differential test file needs, once per file: one SDK services endpoint (the test
// services plus the probes below), the reference server and perdure (both as child processes on
// free ports), registers the endpoint with both, and waits until both ingresses route to it.
import * as restate from "@restatedev/restate-sdk";
import { waitFor } from "../support/admin-client.ts";
import { startPerdure, type PerdureProcess } from "../support/perdure-process.ts";
import { startRestateServer, type RestateServerProcess } from "../support/restate-server.ts";
import { allServices, startServices, type ServicesServer } from "../services/index.ts";
import { Differ, Side, send, type Exchange } from "./compare.ts";

/** A virtual object that returns its key, to compare how path segments are decoded into keys. */
export const keyProbe = restate.object({
  name: "KeyProbe",
  handlers: {
    key: async (ctx: restate.ObjectContext) => ctx.key,
  },
});

/** A handler that always fails with a retry policy that pauses the invocation after two attempts. */
export const pauseProbe = restate.service({
  name: "PauseProbe",
  handlers: {
    failPause: restate.handlers.handler(
      { retryPolicy: { initialInterval: 50, exponentiationFactor: 1, maxAttempts: 2, onMaxAttempts: "pause" } },
      async (_ctx: restate.Context): Promise<void> => {
        throw new Error("always failing (pause)");
      },
    ),
  },
});

/** Awakeable ids created by AwakeProbe/{key}/wait, by object key (the services run in this process). */
export const awakeableIds = new Map<string, string>();

/** An object whose `wait` handler publishes an awakeable id (see awakeableIds) and returns what resolves it. */
export const awakeProbe = restate.object({
  name: "AwakeProbe",
  handlers: {
    wait: async (ctx: restate.ObjectContext) => {
      const { id, promise } = ctx.awakeable<unknown>();
      await ctx.run("publish", () => {
        awakeableIds.set(ctx.key, id);
      });
      return await promise;
    },
  },
});

export type Harness = {
  differ: Differ;
  services: ServicesServer;
  /** The first POST /deployments on each server (201 on a fresh server). */
  firstRegistration: { reference: Exchange; perdure: Exchange };
  dispose(): Promise<void>;
};

/**
 * Starts a server, retrying with fresh ports when a start fails: the free-port helper releases a
 * port before the server binds it, so another process (or an outgoing connection) can take it first.
 */
async function withRetries<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts) throw err;
    }
  }
}

export async function startHarness(exceptions: Readonly<Record<string, string>>): Promise<Harness> {
  const started: { services?: ServicesServer; reference?: RestateServerProcess; perdure?: PerdureProcess } = {};
  const dispose = async () => {
    await Promise.allSettled([started.reference?.dispose(), started.perdure?.dispose()]);
    await started.services?.close();
  };
  try {
    // Wait for all three to settle, so nothing that is still starting is left behind on failure.
    const settled = await Promise.allSettled([
      startServices(0, { quiet: true, services: [...allServices, keyProbe, pauseProbe, awakeProbe] }).then((s) => (started.services = s)),
      withRetries(() => startRestateServer()).then((s) => (started.reference = s)),
      withRetries(() => startPerdure({ extraArgs: ["--log-level", "error"] })).then((s) => (started.perdure = s)),
    ]);
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    const { services, reference, perdure } = started as Required<typeof started>;
    const register = (adminUrl: string) => send(adminUrl, "/deployments", { json: { uri: services.url } });
    const [refReg, perReg] = await Promise.all([register(reference.adminUrl), register(perdure.adminUrl)]);
    for (const [name, reg] of [["reference", refReg], ["perdure", perReg]] as const) {
      if (reg.status !== 201 && reg.status !== 200) throw new Error(`registering with ${name} failed: ${reg.status} ${reg.text}`);
    }
    // The reference's ingress learns the new schema asynchronously; its first call can also take a
    // moment while partitions start, so warm both up with one call.
    await Promise.all(
      [reference.ingressUrl, perdure.ingressUrl].map((url) =>
        waitFor(async () => {
          const health = await send(url, "/restate/health");
          return JSON.stringify(health.json ?? "").includes("AwakeProbe");
        }, 10_000),
      ),
    );
    await Promise.all(
      [reference.ingressUrl, perdure.ingressUrl].map((url) =>
        waitFor(async () => (await send(url, "/Steps/noop", { method: "POST" })).status === 200, 10_000),
      ),
    );
    const differ = new Differ(
      new Side("reference", reference.ingressUrl, reference.adminUrl),
      new Side("perdure", perdure.ingressUrl, perdure.adminUrl),
      exceptions,
    );
    return { differ, services, firstRegistration: { reference: refReg, perdure: perReg }, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
