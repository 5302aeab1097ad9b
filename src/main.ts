// Entry point of the `perdure` command. Turns on Node's on-disk compile cache before loading the rest, so
// that later starts skip parsing and type-stripping the sources (startup time), then runs the CLI.

import module from "node:module";

module.enableCompileCache?.();
const { run } = await import("./cli/run.ts");
await run();
