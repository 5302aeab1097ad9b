// Tests of the generic notification codec: every id and result kind, exact bytes for presence-sensitive
// cases (void, empty Value, empty StateKeys, completion id 0), and strict decoding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProtocolError } from "./errors.ts";
import { MessageType } from "./message-types.ts";
import { decodeNotification, encodeNotification, encodeNotificationFrame, notificationIdString } from "./notifications.ts";
import { ProtoWriter } from "./proto-wire.ts";
import { sampleNotifications } from "./test-samples.ts";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

test("every sample notification round trips", () => {
  for (const { type, n } of sampleNotifications) {
    assert.deepEqual(decodeNotification(type, encodeNotification(n)), n, `${type.toString(16)}`);
  }
});

test("exact bytes for presence-sensitive notifications", () => {
  const cases: Array<[Parameters<typeof encodeNotification>[0], string]> = [
    [{ id: { completionId: 0 }, result: { kind: "void" } }, "08002200"],
    [{ id: { completionId: 1 }, result: { kind: "value", value: Buffer.alloc(0) } }, "08012a00"],
    [{ id: { completionId: 1 }, result: { kind: "value", value: Buffer.from("5") } }, "08012a030a0135"],
    [{ id: { completionId: 2 }, result: { kind: "stateKeys", keys: [] } }, "08028a0100"],
    [{ id: { completionId: 2 }, result: { kind: "stateKeys", keys: [Buffer.from("a"), Buffer.alloc(0)] } }, "08028a01050a01610a00"],
    [{ id: { completionId: 1 }, result: { kind: "invocationId", invocationId: "inv_1" } }, "0801820105696e765f31"],
    [{ id: { signalName: "go" }, result: { kind: "void" } }, "1a02676f2200"],
    [{ id: { signalIndex: 17 }, result: { kind: "failure", code: 500, message: "rejected!" } }, "1011320e08f403120972656a656374656421"],
    [
      { id: { signalIndex: 17 }, result: { kind: "failure", code: 1, message: "", metadata: [["k", "v"]] } },
      "1011320a08011a060a016b120176",
    ],
  ];
  for (const [n, expected] of cases) assert.equal(encodeNotification(n).toString("hex"), expected, JSON.stringify(n));
});

test("encodeNotificationFrame uses the given type id", () => {
  const frame = encodeNotificationFrame(MessageType.RunCompletion, { id: { completionId: 1 }, result: { kind: "value", value: Buffer.alloc(0) } });
  assert.equal(frame.toString("hex"), "801100000000000408012a00");
});

test("decoding keeps void distinct from an empty value", () => {
  assert.deepEqual(decodeNotification(MessageType.GetLazyStateCompletion, hex("08012200")).result, { kind: "void" });
  assert.deepEqual(decodeNotification(MessageType.GetLazyStateCompletion, hex("08012a00")).result, {
    kind: "value",
    value: Buffer.alloc(0),
  });
});

test("decoding rejects missing id, missing result, non-notification types", () => {
  assert.throws(() => decodeNotification(MessageType.SleepCompletion, hex("2200")), ProtocolError);
  assert.throws(() => decodeNotification(MessageType.SleepCompletion, hex("0801")), /without result/);
  assert.throws(() => decodeNotification(MessageType.RunCommand, hex("08012200")), ProtocolError);
  assert.throws(() => decodeNotification(MessageType.SleepCompletion, hex("08012201")), ProtocolError);
});

test("unknown fields inside Void, Value and Failure are skipped", () => {
  const w = new ProtoWriter();
  w.uint32(1, 3).fork(5).uint32(9, 1).bytes(1, Buffer.from("x")).join();
  assert.deepEqual(decodeNotification(MessageType.CallCompletion, w.finish()), {
    id: { completionId: 3 },
    result: { kind: "value", value: Buffer.from("x") },
  });
  const v = new ProtoWriter().uint32(2, 1).fork(4).string(7, "?").join().finish();
  assert.deepEqual(decodeNotification(MessageType.Signal, v), { id: { signalIndex: 1 }, result: { kind: "void" } });
});

test("notificationIdString", () => {
  assert.equal(notificationIdString({ completionId: 3 }), "CompletionId: 3");
  assert.equal(notificationIdString({ signalIndex: 1 }), "SignalIndex: 1");
  assert.equal(notificationIdString({ signalName: "x" }), "SignalName: x");
});
