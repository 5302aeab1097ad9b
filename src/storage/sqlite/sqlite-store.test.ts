// The storage contract against the SQLite adapter (a fresh database per test under one temp dir per suite),
// plus what only a durable adapter has: reopening a data dir, refusing newer schemas and unusable dirs,
// and recovering from a failed COMMIT.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ErrorCode, PerdureError } from "../../core/errors.ts";
import { storeContract } from "../contract/store-contract.ts";
import { assertSameRecord, deployment, entry, fullInvocation, serviceRecord, timer } from "../contract/fixtures.ts";
import { SqliteStore } from "./sqlite-store.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";
import { encodeInvocation } from "../api/invocation-codec.ts";

const root = mkdtempSync(join(tmpdir(), "perdure-sqlite-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `store-${++n}`);

// fsync off: the contract is about semantics, and every commit would otherwise wait for the disk. Durability
// across a reopen is tested below with the default (fsync on).
storeContract("sqlite", async () => {
  const store = new SqliteStore({ dataDir: freshDir(), fsync: false });
  return { store, cleanup: async () => store.close() };
});

const isStorageError = (pattern: RegExp) => (err: unknown) =>
  err instanceof PerdureError && err.code === ErrorCode.Storage && pattern.test(err.message);

/** How many descriptors of this process are open on `path` (Linux only; undefined elsewhere). */
function openDescriptors(path: string): number | undefined {
  if (!existsSync("/proc/self/fd")) return undefined;
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count++;
    } catch {
      // closed while listing
    }
  }
  return count;
}

describe("SqliteStore: data dir", () => {
  test("reopening the same data dir sees committed data, and counters carry on", async () => {
    const dataDir = freshDir();
    const inv = fullInvocation();
    const first = new SqliteStore({ dataDir });
    const { timerId, inboxSeq } = await first.transaction(async (t) => {
      await t.putInvocation(inv);
      await t.appendJournal(inv.id, entry(0));
      await t.appendJournal(inv.id, entry(1, { notificationKey: "c:1" }));
      await t.setState(inv.partitionKey, "Counter", "k", Buffer.from([0xff, 0]), Buffer.from("v"));
      await t.setLock(inv.partitionKey, "Counter", "k", inv.id);
      await t.putPromise(inv.partitionKey, "Signup", "w", "p", { kind: "value", value: Buffer.from("yes") });
      await t.addCallback(inv.partitionKey, "inv_target", { invocationId: inv.id, completionId: 3, notificationType: 7 });
      return { timerId: (await t.addTimer(timer({ partitionKey: inv.partitionKey }))).id, inboxSeq: await t.nextInboxSeq() };
    });
    await first.putDeployment(deployment("dp_1"));
    await first.putServices([serviceRecord("Counter")]);
    first.close();

    const second = new SqliteStore({ dataDir });
    try {
      assertSameRecord(await second.readInvocation(inv.id), inv);
      assertSameRecord(await second.readJournal(inv.id), [entry(0), entry(1, { notificationKey: "c:1" })]);
      assert.deepEqual(await second.readAllState("Counter", "k"), [[Buffer.from([0xff, 0]), Buffer.from("v")]]);
      assertSameRecord(await second.listTimers(), [{ ...timer({ partitionKey: inv.partitionKey }), id: timerId }]);
      assertSameRecord(await second.listDeployments(), [deployment("dp_1")]);
      assertSameRecord(await second.listServices(), [serviceRecord("Counter")]);
      assert.deepEqual(await second.listInvocationsByStatus("completed"), [inv.id]);
      await second.transaction(async (t) => {
        assert.equal(await t.getLock("Counter", "k"), inv.id);
        assertSameRecord(await t.getPromise("Signup", "w", "p"), { kind: "value", value: Buffer.from("yes") });
        assert.deepEqual(await t.takeCallbacks("inv_target"), [{ invocationId: inv.id, completionId: 3, notificationType: 7 }]);
        assert.deepEqual(await t.findNotifications(inv.id, ["c:1"]), ["c:1"]);
        assert.ok((await t.nextInboxSeq()) > inboxSeq, "inbox sequence continues");
        assert.ok((await t.addTimer(timer())).id > timerId, "timer ids continue");
      });
    } finally {
      second.close();
    }
  });

  test("a data dir of schema version 1 is migrated: invocations, journals and notifications stay readable", async () => {
    const dataDir = freshDir();
    mkdirSync(dataDir, { recursive: true });
    const inv = fullInvocation();
    const other = fullInvocation({ id: "inv_1aaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbb", status: "running", result: undefined });
    const v1 = new DatabaseSync(join(dataDir, "perdure.sqlite"));
    v1.exec(MIGRATIONS[0]!);
    v1.exec("PRAGMA user_version = 1");
    const insert = v1.prepare(
      `INSERT INTO invocations (id, partition_key, status, service, service_key, handler, idempotency_key, created_at, modified_at, expires_at, inbox_seq, record, result_value)
       VALUES (?, 0, ?, ?, ?, ?, NULL, ?, ?, NULL, NULL, ?, ?)`,
    );
    for (const r of [inv, other]) {
      const { json, resultValue } = encodeInvocation(r);
      insert.run(r.id, r.status, r.service, r.key ?? null, r.handler, r.createdAt, r.modifiedAt, json, resultValue);
    }
    const journal = v1.prepare("INSERT INTO journal (invocation_id, idx, type, payload, notification_key, appended_at) VALUES (?, ?, ?, ?, ?, ?)");
    for (const e of [entry(0), entry(1, { notificationKey: "c:1" })]) journal.run(inv.id, e.index, e.type, e.payload, e.notificationKey ?? null, e.appendedAt);
    journal.run(other.id, 0, entry(0).type, entry(0).payload, null, entry(0).appendedAt);
    v1.close();

    const store = new SqliteStore({ dataDir });
    try {
      assertSameRecord(await store.readInvocation(inv.id), inv);
      assertSameRecord(await store.readInvocation(other.id), other);
      assertSameRecord(await store.readJournal(inv.id), [entry(0), entry(1, { notificationKey: "c:1" })]);
      assertSameRecord(await store.readJournal(other.id), [entry(0)]);
      assert.deepEqual(await store.listInvocationsByStatus("running"), [other.id]);
      await store.transaction(async (t) => {
        assert.deepEqual(await t.findNotifications(inv.id, ["c:1", "c:2"]), ["c:1"]);
        await t.deleteJournal(other.id);
        await t.deleteInvocation(other.id);
      });
      assert.equal(await store.readInvocation(other.id), undefined);
      assertSameRecord(await store.readJournal(inv.id), [entry(0), entry(1, { notificationKey: "c:1" })]);
    } finally {
      store.close();
    }
    const check = new DatabaseSync(join(dataDir, "perdure.sqlite"), { readOnly: true });
    try {
      assert.equal((check.prepare("PRAGMA user_version").get() as { user_version: number }).user_version, SCHEMA_VERSION);
    } finally {
      check.close();
    }
  });

  test("a store opened without fsync works the same", async () => {
    const store = new SqliteStore({ dataDir: freshDir(), fsync: false });
    try {
      await store.transaction((t) => t.setState(1n, "S", "k", Buffer.from("a"), Buffer.from("b")));
      assert.deepEqual(await store.readAllState("S", "k"), [[Buffer.from("a"), Buffer.from("b")]]);
    } finally {
      store.close();
    }
  });

  test("a data dir with a newer schema version is refused, untouched and not held open", () => {
    const dataDir = freshDir();
    mkdirSync(dataDir);
    const path = join(dataDir, "perdure.sqlite");
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const fdsBefore = openDescriptors(path);
    assert.throws(
      () => new SqliteStore({ dataDir }),
      isStorageError(new RegExp(`newer perdure.*schema version ${SCHEMA_VERSION + 1}.*${SCHEMA_VERSION}`)),
    );
    assert.equal(openDescriptors(path), fdsBefore, "no connection left open");
    const check = new DatabaseSync(path, { readOnly: true });
    try {
      assert.equal((check.prepare("PRAGMA user_version").get() as { user_version: number }).user_version, SCHEMA_VERSION + 1);
      assert.equal((check.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode, "delete", "not switched to WAL");
      assert.equal(check.prepare("SELECT count(*) AS n FROM sqlite_schema").get()?.n, 0, "no tables created");
    } finally {
      check.close();
    }
  });

  test("a data dir path that is a regular file is refused with a clear error", () => {
    const file = join(root, `not-a-dir-${++n}`);
    writeFileSync(file, "I am a file");
    assert.throws(() => new SqliteStore({ dataDir: file }), isStorageError(/data dir '.*not-a-dir-\d+' cannot be written/));
    assert.throws(() => new SqliteStore({ dataDir: join(file, "below") }), isStorageError(/data dir '.*below' cannot be written/));
  });

  test("a database file that is not SQLite is refused with a clear error", () => {
    const dataDir = freshDir();
    mkdirSync(dataDir);
    const path = join(dataDir, "perdure.sqlite");
    writeFileSync(path, Buffer.alloc(4096, "garbage "));
    const fdsBefore = openDescriptors(path);
    assert.throws(() => new SqliteStore({ dataDir }), isStorageError(/perdure\.sqlite/));
    assert.equal(openDescriptors(path), fdsBefore, "no connection left open");
  });
});

describe("SqliteStore: failed COMMIT", () => {
  test("a transaction whose COMMIT fails is rolled back and the store keeps working", async () => {
    const store = new SqliteStore({ dataDir: freshDir() });
    try {
      // A deferred foreign key fails at COMMIT time, which leaves SQLite's transaction open.
      const db = (store as unknown as { db: DatabaseSync }).db;
      db.exec(`PRAGMA foreign_keys = ON;
        CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY);
        CREATE TEMP TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);`);
      await assert.rejects(
        store.transaction(async (t) => {
          await t.setState(1n, "S", "k", Buffer.from("lost"), Buffer.from("x"));
          db.exec("INSERT INTO child VALUES (1)");
        }),
        /FOREIGN KEY/,
      );
      assert.deepEqual(await store.readAllState("S", "k"), []);
      await store.transaction((t) => t.setState(1n, "S", "k", Buffer.from("kept"), Buffer.from("y")));
      assert.deepEqual(await store.readAllState("S", "k"), [[Buffer.from("kept"), Buffer.from("y")]]);
    } finally {
      store.close();
    }
  });
});
