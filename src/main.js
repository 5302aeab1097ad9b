// Entry point of the `perdure` command. Plain JavaScript on purpose: it turns on Node's on-disk compile cache
// before any TypeScript is loaded, so on later starts every module comes from the cache and Node does not even
// load its type stripper (about 70 ms of a ~170 ms start). Then it runs the CLI.

import module from "node:module";

module.enableCompileCache?.();
const { run } = await import("./cli/run.ts");
await run();
