// Child processes of the runner (load generators, tracers): tracked so they are killed if the runner exits
// early, and the helper that runs a bench script as a child taking and printing one line of JSON.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { LoadResult, LoadSpec } from "./load.ts";
import { BENCH, ROOT } from "./paths.ts";

export const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => process.exit(130));

export function runJsonChild<T>(script: string, arg: unknown, timeoutS: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(BENCH, script), JSON.stringify(arg)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    const killer = setTimeout(() => child.kill("SIGKILL"), timeoutS * 1000);
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(killer);
      children.delete(child);
      const line = out.trim().split("\n").pop() ?? "";
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(line) as T);
      } catch (e) {
        reject(new Error(`${script} failed (${(e as Error).message}): ${err || out}`));
      }
    });
  });
}

export const runLoad = (s: LoadSpec) => runJsonChild<LoadResult>("load.ts", s, s.durationS + 60);
