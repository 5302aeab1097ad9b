// CLI entry: serves the test services as a separate process for manual runs and benchmarks.
//   npx node test/services/main.ts [--port 9080] [--host 127.0.0.1] [--http1] [--request-response] [--quiet]
// Prints "listening on <port>" once ready; exits on SIGINT/SIGTERM after closing the server.
import { parseArgs } from "node:util";
import { startServices } from "./index.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "9080" },
    host: { type: "string", default: "127.0.0.1" },
    http1: { type: "boolean", default: false },
    "request-response": { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid --port ${values.port}`);
  process.exit(2);
}

const server = await startServices(port, {
  host: values.host,
  transport: values.http1 ? "http1" : "h2c",
  ...(values["request-response"] ? { bidirectional: false } : {}),
  quiet: values.quiet,
});
console.log(`listening on ${server.port}`);

const shutdown = () => {
  server.close().then(() => process.exit(0), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
};
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
