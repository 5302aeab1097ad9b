// Facts about the machine recorded with every result: cores, CPU model, memory, kernel, versions of Node,
// Restate and the SDK, the perdure commit (and a hash of uncommitted src changes), and the sync latency of
// the data-dir disk.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, fdatasyncSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./paths.ts";

/**
 * Latency of 4 KiB write + sync on the data-dir disk. "overwrite" rewrites the same 64 blocks (no metadata
 * change); "append" grows the file each time (what a WAL or log does until it is recycled: the file system
 * must also commit the size change).
 */
function measureSyncLatency(dir: string, mode: "overwrite" | "append", sync: (fd: number) => void, n = 200): { p50Us: number; p99Us: number; meanUs: number } {
  const file = path.join(dir, `bench-fsync-${process.pid}.dat`);
  const fd = openSync(file, "w");
  const block = Buffer.alloc(4096, 7);
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      writeSync(fd, block, 0, block.length, (mode === "append" ? i : i % 64) * 4096);
      const t0 = performance.now();
      sync(fd);
      times.push((performance.now() - t0) * 1000);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  return { p50Us: times[Math.floor(n * 0.5)]!, p99Us: times[Math.floor(n * 0.99)]!, meanUs: times.reduce((a, b) => a + b, 0) / n };
}

export function machineFacts() {
  const cpus = os.cpus();
  const dir = os.tmpdir();
  const fsDesc = spawnSync("df", ["-T", dir], { encoding: "utf8" }).stdout.trim().split("\n").pop()?.split(/\s+/) ?? [];
  const version = (pkg: string) => {
    try {
      return (JSON.parse(readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      return "?";
    }
  };
  const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  // The working tree may carry uncommitted src changes: identify them by a hash of the diff.
  const diff = spawnSync("git", ["diff", "HEAD", "--", "src"], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20 }).stdout;
  const untracked = spawnSync("git", ["ls-files", "--others", "--exclude-standard", "src"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  const dirty = diff !== "" || untracked !== "" ? ` + uncommitted src changes (diff sha256 ${createHash("sha256").update(diff + untracked).digest("hex").slice(0, 12)})` : "";
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? "?",
    memoryGb: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    restateServer: version("@restatedev/restate-server"),
    restateSdk: version("@restatedev/restate-sdk"),
    autocannon: version("autocannon"),
    perdureCommit: `${git.stdout.trim() || "?"}${dirty}`,
    dataDir: { path: dir, device: fsDesc[0] ?? "?", fsType: fsDesc[1] ?? "?" },
    fdatasync4kOverwrite: measureSyncLatency(dir, "overwrite", fdatasyncSync),
    fsync4kAppend: measureSyncLatency(dir, "append", fsyncSync),
  };
}

export type MachineFacts = ReturnType<typeof machineFacts>;
