// Durability of SQLite commits without blocking the event loop.
//
// SQLite runs with `synchronous=NORMAL` in WAL mode: a COMMIT appends its frames to the WAL without syncing.
// `sync()` then makes the WAL durable with an fdatasync on the libuv thread pool, so the event loop keeps
// serving requests (and commands pile up into the next, larger batch) while the disk works.
//
// Invariants:
// - When `sync()` resolves, every frame written to the WAL before the call is on stable storage.
// - Concurrent callers share syncs: at most one fdatasync runs, and at most one more is queued behind it
//   (for writes that happened after the running one started).
// - A failed fdatasync poisons the store: data written before it may not be durable, so every later sync
//   fails too and the process must be restarted (retrying an fsync is not safe).

import { closeSync, fdatasync, openSync } from "node:fs";

export class WalSync {
  private readonly walPath: string;
  private fd: number | undefined;
  private current: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private failure: Error | undefined;
  /** Number of fdatasync calls made (for benchmarks and tests). */
  syncs = 0;

  constructor(databasePath: string) {
    this.walPath = `${databasePath}-wal`;
  }

  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.current) {
      this.current = this.run().finally(() => {
        this.current = undefined;
      });
      return this.current;
    }
    this.queued ??= this.current
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.sync();
      });
    return this.queued;
  }

  private async run(): Promise<void> {
    try {
      this.fd ??= openSync(this.walPath, "r+");
      this.syncs++;
      const fd = this.fd;
      await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      this.failure = new Error(`fsync of '${this.walPath}' failed; committed data may not be durable, restart perdure: ${(err as Error).message}`, { cause: err });
      throw this.failure;
    }
  }

  /** Releases the file descriptor; call when no sync is running (the store is idle). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
