// perdure as a child process that a crash test takes down again and again on one data dir and fixed ports:
// SIGKILL from outside at a moment of the test's choosing, or a crash perdure does to itself at a named fault
// point (`--test-fault-point batch-applied@N|batch-committed@N`: right before the N-th batch of that process
// commits, or right after it committed and before its effects ran), which may even hit during recovery, before
// perdure is ready. Every crash is recorded with when it happened and when perdure was up again.
import { setTimeout as delay } from "node:timers/promises";
import type { FaultPointName } from "../../src/faults/fault-points.ts";
import { spawnManaged, waitUntilHealthy, type ManagedChild } from "../support/child-process.ts";
import { freePorts } from "../support/free-port.ts";
import { REPO_ROOT } from "../support/perdure-process.ts";
import type { Interruption } from "./load.ts";

export type CrashKind = "sigkill" | "sigterm" | `fault:${FaultPointName}` | `fault-at-start:${FaultPointName}`;
export type Crash = Interruption & { kind: CrashKind };

export class CrashingServer {
  readonly dataDir: string;
  readonly ingressPort: number;
  readonly adminPort: number;
  readonly ingressUrl: string;
  readonly adminUrl: string;
  /** Every time perdure went down, in order. */
  readonly crashes: Crash[] = [];
  private readonly extraArgs: readonly string[];
  private child: ManagedChild | undefined;
  private readonly earlierLogs: string[] = [];
  private runs = 0;
  /** The fault point the current process is armed with. */
  private arm: { point: FaultPointName; n: number } | undefined;

  private constructor(dataDir: string, ingressPort: number, adminPort: number, extraArgs: readonly string[]) {
    this.dataDir = dataDir;
    this.ingressPort = ingressPort;
    this.adminPort = adminPort;
    this.ingressUrl = `http://127.0.0.1:${ingressPort}`;
    this.adminUrl = `http://127.0.0.1:${adminPort}`;
    this.extraArgs = extraArgs;
  }

  static async start(dataDir: string, extraArgs: readonly string[] = []): Promise<CrashingServer> {
    const [ingressPort, adminPort] = (await freePorts(2)) as [number, number];
    const server = new CrashingServer(dataDir, ingressPort, adminPort, extraArgs);
    await server.launch([]);
    return server;
  }

  /** Output of every process so far, separated by marker lines. */
  logs(): string {
    return [...this.earlierLogs, this.child?.logs() ?? ""].join("\n");
  }

  /** Starts a process; throws (with its logs) if it exits or does not become ready. */
  private async launch(more: readonly string[]): Promise<ManagedChild> {
    this.runs++;
    const args = [
      "src/main.js",
      "--ingress-port",
      String(this.ingressPort),
      "--admin-port",
      String(this.adminPort),
      "--data-dir",
      this.dataDir,
      ...this.extraArgs,
      ...more,
    ];
    const child = spawnManaged(`perdure#${this.runs}`, process.execPath, args, { cwd: REPO_ROOT });
    this.child = child;
    await waitUntilHealthy(child, [`${this.adminUrl}/health`, `${this.ingressUrl}/restate/health`]);
    return child;
  }

  private retire(child: ManagedChild, note: string): void {
    this.earlierLogs.push(child.logs(), `----- ${child.name} ${note} -----`);
  }

  /** Throws, with the logs, if the current process exited without being told to. */
  assertRunning(): void {
    this.running();
  }

  private running(): ManagedChild {
    const child = this.child;
    if (!child) throw new Error("perdure is not running");
    const status = child.exitStatus();
    if (status) {
      throw new Error(`perdure exited on its own (code ${status.code}, signal ${status.signal}):\n${this.logs().slice(-6000)}`);
    }
    return child;
  }

  /**
   * One crash: waits `gapMs` (less if the current process crashes at its fault point first), SIGKILLs the
   * process if it is still alive, and starts the next one, armed with `nextArm` if given. A process that
   * crashes at its fault point before it is ready (during recovery) counts as a crash too, and a plain process
   * is started after it. `poll` runs every 10 ms while waiting and right before the kill.
   */
  async crashAfter(gapMs: number, poll: () => void, nextArm?: { point: FaultPointName; n: number }): Promise<void> {
    const child = this.running();
    const deadline = Date.now() + gapMs;
    while (!child.exitStatus() && Date.now() < deadline) {
      poll();
      await Promise.race([child.exited, delay(Math.min(10, Math.max(0, deadline - Date.now())))]);
    }
    poll();
    const selfCrashed = child.exitStatus();
    if (selfCrashed && (!this.arm || selfCrashed.signal !== "SIGKILL")) {
      throw new Error(`perdure exited on its own (code ${selfCrashed.code}, signal ${selfCrashed.signal}):\n${this.logs().slice(-6000)}`);
    }
    const sentAt = Date.now();
    await child.kill("SIGKILL");
    const kind: CrashKind = selfCrashed ? `fault:${this.arm!.point}` : "sigkill";
    this.crashes.push({ kind, sentAt, exitedAt: Date.now(), restartedAt: Infinity });
    this.retire(child, selfCrashed ? `crashed at ${this.arm!.point}@${this.arm!.n}` : "killed (SIGKILL)");
    try {
      await this.relaunch(nextArm);
    } catch (err) {
      const failed = this.child!;
      if (!nextArm || failed.exitStatus()?.signal !== "SIGKILL" || !/exited before it was ready/.test((err as Error).message)) throw err;
      // Crashed at its fault point before it was ready: during recovery, or on the first requests.
      const at = Date.now();
      this.crashes.at(-1)!.restartedAt = at;
      this.crashes.push({ kind: `fault-at-start:${nextArm.point}`, sentAt: at, exitedAt: at, restartedAt: Infinity });
      this.retire(failed, `crashed at ${nextArm.point}@${nextArm.n} while starting`);
      await this.relaunch(undefined);
    }
  }

  /** Starts a process after a crash and records when perdure was up again. */
  private async relaunch(arm: { point: FaultPointName; n: number } | undefined): Promise<void> {
    this.arm = arm;
    await this.launch(arm ? ["--test-fault-point", `${arm.point}@${arm.n}`] : []);
    this.crashes.at(-1)!.restartedAt = Date.now();
  }

  /** SIGTERM (SIGKILL after 10 s); resolves with the exit code (null if it had to be killed). */
  async sigterm(beforeStop: () => void = () => {}): Promise<number | null> {
    const child = this.running();
    beforeStop();
    const sentAt = Date.now();
    const status = await child.stop();
    this.crashes.push({ kind: "sigterm", sentAt, exitedAt: Date.now(), restartedAt: Infinity });
    this.retire(child, `stopped (code ${status.code}, signal ${status.signal})`);
    return status.code;
  }

  /** Starts a plain process again after sigterm(). */
  async restart(): Promise<void> {
    await this.relaunch(undefined);
  }

  /** Stops the current process (SIGTERM); resolves with its exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    return (await child.stop()).code;
  }
}
