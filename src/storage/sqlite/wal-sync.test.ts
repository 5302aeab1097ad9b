import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WalSync } from "./wal-sync.ts";

function tempDatabase(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "perdure-walsync-"));
  const path = join(dir, "db.sqlite");
  writeFileSync(`${path}-wal`, "frames");
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test("concurrent syncs share fdatasync calls: one running, at most one queued", async () => {
  const db = tempDatabase();
  const wal = new WalSync(db.path);
  try {
    await Promise.all(Array.from({ length: 10 }, () => wal.sync()));
    assert.ok(wal.syncs >= 1 && wal.syncs <= 2, `ten concurrent callers made ${wal.syncs} syncs`);
    await wal.sync();
    assert.equal(wal.syncs <= 3, true);
  } finally {
    wal.close();
    db.cleanup();
  }
});

test("a failed fdatasync poisons every later sync", async () => {
  const db = tempDatabase();
  const wal = new WalSync(db.path);
  try {
    await wal.sync();
    // Close the descriptor behind the WalSync's back so the next fdatasync fails (EBADF).
    const fd = (wal as unknown as { fd: number }).fd;
    closeSync(fd);
    const reused = openSync(`${db.path}-wal`, "r");
    closeSync(reused);
    await assert.rejects(wal.sync(), /fsync of .* failed/);
    await assert.rejects(wal.sync(), /fsync of .* failed/, "the store stays failed");
  } finally {
    (wal as unknown as { fd: number | undefined }).fd = undefined;
    db.cleanup();
  }
});

test("a missing WAL file is reported as a failure", async () => {
  const wal = new WalSync(join(tmpdir(), "perdure-walsync-missing", "db.sqlite"));
  await assert.rejects(wal.sync(), /failed/);
});
