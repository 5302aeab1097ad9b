// Journal entries as sys_journal shows them. The fixtures are rows of the reference server's sys_journal
// (restate-server 1.7.12 with the SDK 1.17.2 test services): the raw protobuf payload and the entry_json /
// entry_lite_json the reference printed for it. perdure stores the same payloads, so decoding them must give
// the same JSON, byte for byte (the `restate` CLI parses entry_json to describe an invocation).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { decodeEntry, entryFacts, entryJson, notificationInvocationId, type ServiceTypes } from "../../src/query/journal-json.ts";
import { encodeCommand, MessageType } from "../../src/protocol/index.ts";

interface Fixture {
  entry_type: string;
  raw: string;
  invoked_id: string | null;
  entry_json: string;
  entry_lite_json: string;
}

const fixtures = JSON.parse(readFileSync(new URL("./fixtures/reference-journal.json", import.meta.url), "utf8")) as Fixture[];

/** "Command: Sleep" -> 0x040c, "Notification: Run" -> 0x8011, "Notification: Signal" -> 0xfbff. */
function typeOf(entryType: string): number {
  const [kind, name] = entryType.split(": ") as [string, string];
  const ids = MessageType as Record<string, number>;
  const id = kind === "Command" ? ids[`${name}Command`] : name === "Signal" ? MessageType.Signal : ids[`${name}Completion`];
  assert.ok(id !== undefined, entryType);
  return id;
}

const types: ServiceTypes = { serviceType: () => "service", handlerType: () => undefined };

describe("entry_json and entry_lite_json are the reference's", () => {
  for (const f of fixtures) {
    test(`${f.entry_type} (${f.raw.length / 2} bytes)`, () => {
      const entry = decodeEntry(typeOf(f.entry_type), Buffer.from(f.raw, "hex"));
      assert.equal(entryJson(entry, f.invoked_id, types, false), f.entry_json);
      assert.equal(entryJson(entry, f.invoked_id, types, true), f.entry_lite_json);
    });
  }
});

describe("entry facts", () => {
  test("calls: the target and the completion ids of the invocation id and the result", () => {
    const call = fixtures.find((f) => f.entry_type === "Command: Call")!;
    const facts = entryFacts(decodeEntry(MessageType.CallCommand, Buffer.from(call.raw, "hex")));
    assert.equal(facts.invokedTarget, "Greeter/greet");
    assert.equal(facts.invocationIdCompletion, 1);
    assert.equal(facts.completion, 2);
    const idNotification = fixtures.find((f) => f.entry_type === "Notification: CallInvocationId")!;
    assert.equal(notificationInvocationId(decodeEntry(MessageType.CallInvocationIdCompletion, Buffer.from(idNotification.raw, "hex"))), call.invoked_id);
  });

  test("sleeps, promises and runs", () => {
    const sleep = entryFacts(decodeEntry(MessageType.SleepCommand, encodeCommand({ type: MessageType.SleepCommand, wakeUpTime: 1_795_858_031_465, resultCompletionId: 3, name: "nap" })));
    assert.deepEqual([sleep.name, sleep.sleepWakeupAt, sleep.completion], ["nap", 1_795_858_031_465, 3]);
    const promise = entryFacts(decodeEntry(MessageType.PeekPromiseCommand, encodeCommand({ type: MessageType.PeekPromiseCommand, key: "confirm", resultCompletionId: 4, name: "" })));
    assert.deepEqual([promise.promiseName, promise.completion], ["confirm", 4]);
  });

  test("a keyed call target names the handler type from the registry", () => {
    const payload = encodeCommand({
      type: MessageType.CallCommand,
      serviceName: "Counter",
      handlerName: "get",
      parameter: Buffer.alloc(0),
      headers: [],
      key: "k1",
      invocationIdNotificationIdx: 1,
      resultCompletionId: 2,
      name: "",
    });
    const keyed: ServiceTypes = { serviceType: () => "virtual_object", handlerType: () => "shared" };
    const lite = JSON.parse(entryJson(decodeEntry(MessageType.CallCommand, payload), "inv_1", keyed, true)!) as { Command: { Call: { invocation_target: unknown } } };
    assert.deepEqual(lite.Command.Call.invocation_target, { VirtualObject: { name: "Counter", key: "k1", handler: "get", handler_ty: "Shared", scope: null } });
  });

  test("what does not decode has no facts and no JSON", () => {
    const broken = decodeEntry(MessageType.SleepCommand, Buffer.from([0xff, 0xff, 0xff]));
    assert.equal(broken.kind, "other");
    assert.equal(entryJson(broken, null, types, false), undefined);
    assert.equal(entryFacts(broken).name, undefined);
    assert.equal(entryJson(decodeEntry(0xfc01, Buffer.from([1, 2])), null, types, false), undefined, "custom entries");
  });
});
