// Process metrics from /proc: CPU time of a process (utime+stime), peak RSS (VmHWM) and the machine-wide CPU
// accounting that tells whether other processes competed with the benchmark for the cores.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const CLK_TCK = 100; // USER_HZ; checked against getconf at start

/** Throws if the kernel's clock tick differs from the CLK_TCK the readings assume. */
export function checkClockTicks(): void {
  const tck = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim();
  if (tck && Number(tck) !== CLK_TCK) throw new Error(`CLK_TCK is ${tck}, the CPU readings assume ${CLK_TCK}`);
}

export function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/**
 * CPU accounting of the measured window, to tell whether other users of the machine competed for the cores.
 * foreign = machine-wide user+nice+system (/proc/stat; interrupts and softirq excluded, as our own loopback
 * traffic causes them) minus our processes (server, SDK, and this runner including its reaped children: the
 * load generator and perf) minus kernel threads (jbd2, kworkers: mostly journal commits and writeback the
 * servers cause themselves, reported separately).
 */
export type CpuSnapshot = { machineMs: number; runnerMs: number; kernelThreads: Map<number, number> };

function readTicks(pid: number | "self", withChildren: boolean): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
}

export function readCpuSnapshot(): CpuSnapshot {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const [user = 0, nice = 0, system = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const kernelThreads = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(f[1]);
    if (pid === 2 || ppid === 2 || (Number(f[6]) & 0x00200000) !== 0 /* PF_KTHREAD */) {
      kernelThreads.set(pid, ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK);
    }
  }
  return {
    machineMs: ((user + nice + system) * 1000) / CLK_TCK,
    runnerMs: ((readTicks("self", true) ?? 0) * 1000) / CLK_TCK,
    kernelThreads,
  };
}

export function foreignCpu(a: CpuSnapshot, b: CpuSnapshot, serverAndSdkMs: number): { userMs: number; kernelMs: number } {
  let kernelMs = 0;
  for (const [pid, ms] of b.kernelThreads) kernelMs += Math.max(0, ms - (a.kernelThreads.get(pid) ?? 0));
  const ours = serverAndSdkMs + (b.runnerMs - a.runnerMs);
  return { userMs: Math.max(0, b.machineMs - a.machineMs - ours - kernelMs), kernelMs };
}

/** Bytes the process (all threads) caused to be written to storage so far (/proc/PID/io write_bytes). */
export function readWriteBytes(pid: number): number | undefined {
  try {
    const m = /^write_bytes:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function readStatusKb(pid: number, key: string): number | undefined {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) : undefined;
}
