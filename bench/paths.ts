// Where the benchmark lives: the repository root (cwd of the child processes, node_modules lookups) and the
// bench/ directory (its scripts and the default results directory).
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const BENCH = path.join(ROOT, "bench");
