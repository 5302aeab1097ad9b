// Round trips and exact-byte checks for every command, including oneof presence (void vs empty value vs
// absent), `optional` fields set to "", and wire-level variations an SDK may produce.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeCommand } from "./command-decode.ts";
import { encodeCommand, encodeCommandFrame } from "./command-encode.ts";
import { commandCompletionIds, commandName, type Command } from "./commands.ts";
import { ProtocolError } from "./errors.ts";
import { FrameDecoder } from "./frame.ts";
import { MessageType, messageTypeName } from "./message-types.ts";
import { ProtoWriter } from "./proto-wire.ts";
import { sampleCommands } from "./test-samples.ts";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

test("every sample command round trips (via a frame)", () => {
  const kinds = new Set<number>();
  for (const cmd of sampleCommands) {
    kinds.add(cmd.type);
    const [frame] = new FrameDecoder().push(encodeCommandFrame(cmd));
    assert.equal(frame!.type, cmd.type);
    assert.deepEqual(decodeCommand(frame!.type, frame!.payload), cmd, messageTypeName(cmd.type));
  }
  const all = Object.entries(MessageType).filter(([n]) => n.endsWith("Command")).map(([, id]) => id);
  assert.deepEqual([...kinds].sort(), all.sort(), "samples cover every command type");
});

test("oneof presence: GetEagerState void (13) vs empty value (14) vs absent", () => {
  const base = { type: MessageType.GetEagerStateCommand, key: Buffer.from("k"), name: "" } as const;
  assert.equal(encodeCommand({ ...base, result: { kind: "void" } }).toString("hex"), "0a016b6a00");
  assert.equal(encodeCommand({ ...base, result: { kind: "value", value: Buffer.alloc(0) } }).toString("hex"), "0a016b7200");
  assert.equal(encodeCommand({ ...base, result: undefined }).toString("hex"), "0a016b");
  assert.deepEqual(decodeCommand(base.type, hex("0a016b")), { ...base, result: undefined });
});

test("Output: Value{} for undefined return, Value{content} otherwise", () => {
  const empty: Command = { type: MessageType.OutputCommand, result: { kind: "value", value: Buffer.alloc(0) }, name: "" };
  assert.equal(encodeCommand(empty).toString("hex"), "7200");
  const seven: Command = { type: MessageType.OutputCommand, result: { kind: "value", value: Buffer.from("7") }, name: "" };
  assert.equal(encodeCommand(seven).toString("hex"), "72030a0137");
  const failed: Command = { type: MessageType.OutputCommand, result: { kind: "failure", code: 409, message: "Cancelled" }, name: "" };
  assert.equal(encodeCommand(failed).toString("hex"), "7a0e" + "0899031209" + Buffer.from("Cancelled").toString("hex"));
});

test("Value with explicit empty content field decodes as empty value", () => {
  assert.deepEqual(decodeCommand(MessageType.OutputCommand, hex("72020a00")), {
    type: MessageType.OutputCommand,
    result: { kind: "value", value: Buffer.alloc(0) },
    name: "",
  });
});

test("Call optional fields: set to empty string are kept, absent stay absent", () => {
  const call = sampleCommands.find((c) => c.type === MessageType.CallCommand && c.scope === "")!;
  const decoded = decodeCommand(call.type, encodeCommand(call));
  assert.ok(decoded.type === MessageType.CallCommand);
  assert.equal(decoded.scope, "");
  const bare = sampleCommands.find((c) => c.type === MessageType.CallCommand && c.idempotencyKey === undefined)!;
  const d2 = decodeCommand(bare.type, encodeCommand(bare));
  assert.equal("idempotencyKey" in d2 || "scope" in d2 || "limitKey" in d2, false);
});

test("Sleep wake-up time is a u64 ms varint", () => {
  const sleep: Command = { type: MessageType.SleepCommand, wakeUpTime: 1795844549162, resultCompletionId: 1, name: "nap" };
  assert.equal(encodeCommand(sleep).toString("hex"), "08aad4b485a234" + "5801" + "62036e6170");
});

test("decoding narrows: switch on type", () => {
  const cmd = decodeCommand(MessageType.RunCommand, hex("580162036c6f67"));
  switch (cmd.type) {
    case MessageType.RunCommand:
      assert.equal(cmd.resultCompletionId, 1);
      assert.equal(cmd.name, "log");
      break;
    default:
      assert.fail("expected Run");
  }
});

test("unknown fields are skipped; last value wins", () => {
  const w = new ProtoWriter();
  w.uint32(11, 1).string(99, "future field").fixed64(98, 1n).uint32(11, 2).string(12, "n");
  assert.deepEqual(decodeCommand(MessageType.RunCommand, w.finish()), {
    type: MessageType.RunCommand,
    resultCompletionId: 2,
    name: "n",
  });
});

test("SendSignal: last member of each oneof wins", () => {
  const w = new ProtoWriter();
  w.string(1, "inv").uint32(2, 1).string(3, "named").emptyMessage(4).fork(5).bytes(1, Buffer.from("v")).join();
  assert.deepEqual(decodeCommand(MessageType.SendSignalCommand, w.finish()), {
    type: MessageType.SendSignalCommand,
    targetInvocationId: "inv",
    signal: { signalName: "named" },
    result: { kind: "value", value: Buffer.from("v") },
    entryName: "",
  });
});

test("unknown and non-command types are rejected with ProtocolError", () => {
  assert.throws(() => decodeCommand(0x040f, Buffer.alloc(0)), ProtocolError);
  assert.throws(() => decodeCommand(0x8011, Buffer.alloc(0)), ProtocolError);
  assert.throws(() => decodeCommand(0xfc01, Buffer.alloc(0)), ProtocolError);
  assert.throws(() => decodeCommand(MessageType.SleepCommand, hex("0a01")), /Command: Sleep/);
});

test("commandName and commandCompletionIds", () => {
  const call = sampleCommands.find((c) => c.type === MessageType.CallCommand)!;
  assert.deepEqual(commandCompletionIds(call), [1, 2]);
  const send = sampleCommands.find((c) => c.type === MessageType.OneWayCallCommand)!;
  assert.deepEqual(commandCompletionIds(send), [3]);
  const sig = sampleCommands.find((c) => c.type === MessageType.SendSignalCommand && c.entryName === "sig")!;
  assert.equal(commandName(sig), "sig");
  assert.deepEqual(commandCompletionIds(sig), []);
  assert.equal(commandName(call), "call");
});
