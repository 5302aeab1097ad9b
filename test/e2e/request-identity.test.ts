// Request identity: perdure signs its requests to endpoints with an Ed25519 key; an endpoint started with the
// matching `identityKeys` accepts perdure's discovery and invocations and rejects unsigned requests.

import { test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as restate from "@restatedev/restate-sdk";
import { startPerdure } from "../../src/perdure.ts";
import { DEFAULTS } from "../../src/config/config.ts";
import { createLogger } from "../../src/log/logger.ts";
import { RequestSigner } from "../../src/endpoint/request-identity.ts";
import { makeTempDir, removeTempDir } from "../support/temp-dir.ts";
import { registerDeployment } from "../support/admin-client.ts";
import { http } from "../support/http.ts";

const signed = restate.service({
  name: "Signed",
  handlers: {
    hello: async (ctx: restate.Context, name: string) => `hello ${await ctx.run("upper", () => name.toUpperCase())}`,
  },
});

test("an endpoint with identity keys accepts perdure's signed requests and rejects unsigned ones", async (t) => {
  const dir = await makeTempDir("perdure-identity-");
  const keyFile = join(dir, "identity.pem");
  writeFileSync(keyFile, generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }));
  const keyId = RequestSigner.fromFile(keyFile, Date.now).keyId;
  assert.match(keyId, /^publickeyv1_[1-9A-HJ-NP-Za-km-z]+$/);

  const server = http2.createServer(restate.createEndpointHandler({ services: [signed], identityKeys: [keyId], logger: () => {} }));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const perdure = await startPerdure({
    config: { ...DEFAULTS, ingressPort: 0, adminPort: 0, bindAddress: "127.0.0.1", dataDir: join(dir, "data"), requestIdentityKeyFile: keyFile },
    logger: createLogger(process.env.PERDURE_TEST_ECHO_LOGS === "1" ? "debug" : "error"),
  });
  t.after(async () => {
    await perdure.stop();
    const closed = new Promise((resolve) => server.close(resolve));
    for (const session of sessions) session.destroy();
    await closed;
    await removeTempDir(dir);
  });

  const reg = await registerDeployment(`http://127.0.0.1:${perdure.adminPort}`, `http://127.0.0.1:${port}`);
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const call = await http(`http://127.0.0.1:${perdure.ingressPort}/Signed/hello`, { json: "mary" });
  assert.equal(call.status, 200, call.text);
  assert.equal(call.json, "hello MARY");

  // The same discovery request without a signature is refused by the endpoint.
  const client = http2.connect(`http://127.0.0.1:${port}`);
  const status = await new Promise<number>((resolve, reject) => {
    const req = client.request({ ":path": "/discover", accept: "application/vnd.restate.endpointmanifest.v4+json" });
    req.on("response", (h) => resolve(Number(h[":status"])));
    req.on("error", reject);
    req.end();
  });
  client.destroy();
  assert.equal(status, 401);
});
