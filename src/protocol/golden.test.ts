// Golden-bytes tests: frames captured on the wire between restate-server 1.7.12 and SDK 1.17.2
// (docs: restate-protocol.md §4.3). Encoders must produce these exact bytes; decoders must read exact fields.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeProposeRunCompletion, decodeProposeRunCompletionAck, decodeSuspension, encodeEnd } from "./control.ts";
import { encodeProposeRunCompletion, encodeProposeRunCompletionAck, encodeSuspension } from "./control.ts";
import { FrameDecoder, FrameFlags, encodeFrame } from "./frame.ts";
import { MessageType } from "./message-types.ts";
import { decodeNotification, encodeNotification, encodeNotificationFrame } from "./notifications.ts";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

function decodeOne(bytes: Buffer) {
  const frames = new FrameDecoder().push(bytes);
  assert.equal(frames.length, 1);
  return frames[0]!;
}

test("SleepCompletionNotification: completion_id=1, void", () => {
  const wire = hex("800c000000000004 08012200");
  const n = { id: { completionId: 1 }, result: { kind: "void" as const } };
  assert.deepEqual(encodeNotificationFrame(MessageType.SleepCompletion, n), wire);
  const frame = decodeOne(wire);
  assert.equal(frame.type, MessageType.SleepCompletion);
  assert.equal(frame.flags, 0);
  assert.deepEqual(decodeNotification(frame.type, frame.payload), n);
});

test("SignalNotification cancel: idx=1, void", () => {
  const wire = hex("fbff000000000004 10012200");
  const n = { id: { signalIndex: 1 }, result: { kind: "void" as const } };
  assert.deepEqual(encodeFrame(MessageType.Signal, encodeNotification(n)), wire);
  const frame = decodeOne(wire);
  assert.equal(frame.type, MessageType.Signal);
  assert.deepEqual(decodeNotification(frame.type, frame.payload), n);
});

test("V6 Suspension: waiting_completions=[1], waiting_signals=[1], packed", () => {
  const wire = hex("0001000000000006 0a0101120101");
  const m = { waitingCompletions: [1], waitingSignals: [1], waitingNamedSignals: [] };
  assert.deepEqual(encodeFrame(MessageType.Suspension, encodeSuspension(m)), wire);
  const frame = decodeOne(wire);
  assert.equal(frame.type, MessageType.Suspension);
  assert.deepEqual(decodeSuspension(frame.payload), m);
});

test('V7 ProposeRunCompletion: REQUESTED_ACK, result_completion_id=1, raw value "V7"', () => {
  const wire = hex("0005800000000008 0801720422563722");
  const m = { resultCompletionId: 1, result: { kind: "value" as const, value: Buffer.from('"V7"') } };
  assert.deepEqual(
    encodeFrame(MessageType.ProposeRunCompletion, encodeProposeRunCompletion(m), FrameFlags.RequestedAck),
    wire,
  );
  const frame = decodeOne(wire);
  assert.equal(frame.type, MessageType.ProposeRunCompletion);
  assert.equal(frame.flags, 0x8000);
  assert.ok(frame.flags & FrameFlags.RequestedAck);
  assert.deepEqual(decodeProposeRunCompletion(frame.payload), m);
});

test("V7 ProposeRunCompletionAck: completion_id=1", () => {
  const wire = hex("0007000000000002 0801");
  assert.deepEqual(encodeFrame(MessageType.ProposeRunCompletionAck, encodeProposeRunCompletionAck({ completionId: 1 })), wire);
  const frame = decodeOne(wire);
  assert.equal(frame.type, MessageType.ProposeRunCompletionAck);
  assert.deepEqual(decodeProposeRunCompletionAck(frame.payload), { completionId: 1 });
});

test("EndMessage: empty payload", () => {
  const wire = hex("0003000000000000");
  assert.deepEqual(encodeFrame(MessageType.End, encodeEnd()), wire);
  const frame = decodeOne(wire);
  assert.equal(frame.type, MessageType.End);
  assert.equal(frame.payload.length, 0);
});

test("all captured frames concatenated decode in order", () => {
  const stream = hex(
    "800c00000000000408012200 fbff00000000000410012200 00010000000000060a0101120101" +
      "00058000000000080801720422563722 00070000000000020801 0003000000000000",
  );
  const frames = new FrameDecoder().push(stream);
  assert.deepEqual(
    frames.map((f) => [f.type, f.flags, f.payload.toString("hex")]),
    [
      [0x800c, 0, "08012200"],
      [0xfbff, 0, "10012200"],
      [0x0001, 0, "0a0101120101"],
      [0x0005, 0x8000, "0801720422563722"],
      [0x0007, 0, "0801"],
      [0x0003, 0, ""],
    ],
  );
});

test("RunCompletion echo of an empty proposal keeps Value{} present (field 5, length 0)", () => {
  const proposal = decodeProposeRunCompletion(hex("08017200"));
  assert.deepEqual(proposal, { resultCompletionId: 1, result: { kind: "value", value: Buffer.alloc(0) } });
  assert.deepEqual(decodeProposeRunCompletion(hex("0801")), { resultCompletionId: 1, result: undefined });
  const echo = encodeNotification({ id: { completionId: 1 }, result: proposal.result! });
  assert.equal(echo.toString("hex"), "08012a00");
});
