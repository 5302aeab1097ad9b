// Counting the fsync/fdatasync/sync_file_range calls of a server process: perf syscall tracepoints over the
// measured window (no slowdown), or strace -c over a separate pass (slows the process), or not at all.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { children } from "./child-processes.ts";
import type { Options } from "./options.ts";

export type SyncCounts = { fsync: number; fdatasync: number; syncFileRange: number; method: "perf" | "strace" };

function perfUsable(): boolean {
  const r = spawnSync("perf", ["stat", "-x,", "-e", "syscalls:sys_enter_fsync", "--", "true"], { encoding: "utf8" });
  return r.status === 0 && /sys_enter_fsync/.test(r.stderr) && !/not supported|<not counted>/.test(r.stderr);
}

function straceUsable(): boolean {
  return spawnSync("strace", ["-V"], { encoding: "utf8" }).status === 0;
}

const SYNC_EVENTS = ["fsync", "fdatasync", "sync_file_range"];

/** Counts the sync syscalls of every thread of `pid` (present and future) until stop(). */
export async function perfCounter(pid: number): Promise<{ stop(): Promise<SyncCounts | undefined> }> {
  const child = spawn("perf", ["stat", "-x,", "-e", SYNC_EVENTS.map((e) => `syscalls:sys_enter_${e}`).join(","), "-p", String(pid)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.add(child);
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  await delay(150); // let perf attach
  return {
    async stop() {
      child.kill("SIGINT");
      await Promise.race([closed, delay(5000)]);
      children.delete(child);
      const count = (e: string) => {
        const m = new RegExp(`^(\\d+),[^\\n]*syscalls:sys_enter_${e}\\b`, "m").exec(err);
        return m ? Number(m[1]) : undefined;
      };
      const fsync = count("fsync");
      const fdatasync = count("fdatasync");
      if (fsync === undefined || fdatasync === undefined) return undefined;
      return { fsync, fdatasync, syncFileRange: count("sync_file_range") ?? 0, method: "perf" };
    },
  };
}

/** strace -c over every thread of `pid` while `during` runs. Slows the traced process a lot. */
export async function straceCount(pid: number, during: () => Promise<void>): Promise<SyncCounts | undefined> {
  const tids = readdirSync(`/proc/${pid}/task`);
  const outFile = path.join(os.tmpdir(), `bench-strace-${pid}-${Date.now()}.txt`);
  const args = ["-c", "-f", "-e", `trace=${SYNC_EVENTS.join(",")}`, "-o", outFile, ...tids.flatMap((t) => ["-p", t])];
  const child = spawn("strace", args, { stdio: ["ignore", "ignore", "pipe"] });
  children.add(child);
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  const deadline = Date.now() + 3000;
  while ((err.match(/attached/g) ?? []).length < tids.length && Date.now() < deadline) await delay(20);
  try {
    await during();
  } finally {
    child.kill("SIGINT");
    await Promise.race([closed, delay(10_000)]);
    children.delete(child);
  }
  if (!existsSync(outFile)) return undefined;
  const text = readFileSync(outFile, "utf8");
  rmSync(outFile, { force: true });
  const calls = (name: string): number => {
    const m = new RegExp(`^\\s*[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+(\\d+)\\s+(?:\\d+\\s+)?${name}\\s*$`, "m").exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { fsync: calls("fsync"), fdatasync: calls("fdatasync"), syncFileRange: calls("sync_file_range"), method: "strace" };
}

export type SyncMode = "perf" | "strace" | "off";

/** The counting method --fsync-count asks for, if usable here, and its description for the report. */
export function chooseSyncMode(requested: Options["fsyncCount"]): { syncMode: SyncMode; syncMethod: string } {
  let syncMode: SyncMode = "off";
  if (requested === "perf" || requested === "auto") syncMode = perfUsable() ? "perf" : "off";
  if (syncMode === "off" && (requested === "strace" || requested === "auto")) syncMode = straceUsable() ? "strace" : "off";
  if (requested !== "auto" && requested !== "off" && syncMode !== requested) throw new Error(`--fsync-count ${requested}: not usable on this machine`);
  const syncMethod =
    syncMode === "perf"
      ? "perf stat syscall tracepoints over the measured window (no slowdown)"
      : syncMode === "strace"
        ? "strace -c in a separate 3 s pass (strace slows the server, so batching differs)"
        : "nothing (neither perf nor strace usable): n/a";
  return { syncMode, syncMethod };
}
