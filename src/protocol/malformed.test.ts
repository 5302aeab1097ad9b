// Robustness: every decoder, fed truncated, bit-flipped or random payloads, either decodes or throws
// ProtocolError — never another error type, never a hang. Uses a seeded PRNG so failures reproduce.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeCommand } from "./command-decode.ts";
import { encodeCommand } from "./command-encode.ts";
import {
  decodeAwaitingOn,
  decodeCommandAck,
  decodeEnd,
  decodeError,
  decodeProposeRunCompletion,
  decodeProposeRunCompletionAck,
  decodeSuspension,
  encodeAwaitingOn,
  encodeError,
  encodeProposeRunCompletion,
  encodeSuspension,
} from "./control.ts";
import { ProtocolError } from "./errors.ts";
import { FrameDecoder } from "./frame.ts";
import { MessageType } from "./message-types.ts";
import { decodeNotification, encodeNotification } from "./notifications.ts";
import { ProtoWriter } from "./proto-wire.ts";
import { decodeStart, encodeStart } from "./start.ts";
import { sampleCommands, sampleNotifications } from "./test-samples.ts";

type Case = { name: string; payload: Buffer; decode: (p: Buffer) => unknown };

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const future = {
  waitingCompletions: [1, 2],
  waitingSignals: [17],
  waitingNamedSignals: ["n"],
  nestedFutures: [{ waitingCompletions: [3], waitingSignals: [], waitingNamedSignals: [], nestedFutures: [], combinatorType: 4 }],
  combinatorType: 1,
};

const cases: Case[] = [
  {
    name: "Start",
    payload: encodeStart({
      id: Buffer.alloc(24, 1),
      debugId: "inv_1",
      knownEntries: 2,
      stateMap: [{ key: Buffer.from("k"), value: Buffer.from("v") }],
      partialState: true,
      key: "k",
      retryCountSinceLastStoredEntry: 1,
      durationSinceLastStoredEntry: 595,
      randomSeed: 123456789012345n,
      scope: "s",
    }),
    decode: decodeStart,
  },
  { name: "Suspension", payload: encodeSuspension({ waitingCompletions: [1], waitingSignals: [1, 17], waitingNamedSignals: ["a"], awaitingOn: future }), decode: decodeSuspension },
  {
    name: "Error",
    payload: encodeError({ code: 500, message: "m", stacktrace: "s", relatedCommandIndex: 1, relatedCommandName: "r", relatedCommandType: 0x411, nextRetryDelay: 100, behavior: 1 }),
    decode: decodeError,
  },
  { name: "End", payload: Buffer.from("0801", "hex"), decode: decodeEnd },
  { name: "CommandAck", payload: Buffer.from("0805", "hex"), decode: decodeCommandAck },
  { name: "ProposeRunCompletion", payload: encodeProposeRunCompletion({ resultCompletionId: 1, result: { kind: "failure", code: 500, message: "x", metadata: [["a", "b"]] } }), decode: decodeProposeRunCompletion },
  { name: "AwaitingOn", payload: encodeAwaitingOn({ awaitingOn: future, executingSideEffects: true }), decode: decodeAwaitingOn },
  { name: "ProposeRunCompletionAck", payload: Buffer.from("0801", "hex"), decode: decodeProposeRunCompletionAck },
  ...sampleCommands.map((c) => ({ name: `command 0x${c.type.toString(16)}`, payload: encodeCommand(c), decode: (p: Buffer) => decodeCommand(c.type, p) })),
  ...sampleNotifications.map(({ type, n }) => ({ name: `notification 0x${type.toString(16)}`, payload: encodeNotification(n), decode: (p: Buffer) => decodeNotification(type, p) })),
];

function attempt(c: Case, payload: Buffer, what: string): "ok" | "rejected" {
  try {
    c.decode(payload);
    return "ok";
  } catch (err) {
    if (!(err instanceof ProtocolError)) {
      assert.fail(`${c.name} (${what}) threw a non-ProtocolError: ${String(err)} on ${payload.toString("hex")}`);
    }
    return "rejected";
  }
}

test("every truncation of every message decodes or throws ProtocolError", () => {
  for (const c of cases) {
    for (let len = 0; len < c.payload.length; len++) attempt(c, c.payload.subarray(0, len), `truncated to ${len}`);
  }
});

test("cutting inside a length-delimited field is always rejected", () => {
  // A prefix that ends one byte short of the full payload cuts the last field; here the last field is LEN.
  const payload = encodeProposeRunCompletion({ resultCompletionId: 1, result: { kind: "value", value: Buffer.from("abc") } });
  assert.throws(() => decodeProposeRunCompletion(payload.subarray(0, payload.length - 1)), ProtocolError);
  const call = encodeCommand(sampleCommands.find((c) => c.type === MessageType.CallCommand)!);
  assert.throws(() => decodeCommand(MessageType.CallCommand, call.subarray(0, call.length - 1)), ProtocolError);
});

test("random byte mutations decode or throw ProtocolError", () => {
  const rand = mulberry32(0xc0ffee);
  for (const c of cases) {
    for (let i = 0; i < 300; i++) {
      const p = Buffer.from(c.payload);
      const flips = 1 + Math.floor(rand() * 3);
      for (let f = 0; f < flips && p.length > 0; f++) p[Math.floor(rand() * p.length)] = Math.floor(rand() * 256);
      attempt(c, p, `mutation ${i}`);
    }
  }
});

test("random garbage decodes or throws ProtocolError", () => {
  const rand = mulberry32(42);
  for (let i = 0; i < 3000; i++) {
    const p = Buffer.alloc(Math.floor(rand() * 40));
    for (let j = 0; j < p.length; j++) p[j] = Math.floor(rand() * 256);
    attempt(cases[i % cases.length]!, p, `garbage ${i}`);
  }
});

test("deeply nested Future trees are rejected, not a stack overflow", () => {
  const w = new ProtoWriter();
  for (let i = 0; i < 10_000; i++) w.fork(4);
  for (let i = 0; i < 10_000; i++) w.join();
  assert.throws(() => decodeSuspension(w.finish()), ProtocolError);
});

test("a frame stream of garbage never throws anything but ProtocolError", () => {
  const rand = mulberry32(7);
  for (let i = 0; i < 200; i++) {
    const d = new FrameDecoder({ maxFrameSize: 1024 });
    try {
      for (let k = 0; k < 10; k++) {
        const chunk = Buffer.alloc(Math.floor(rand() * 64));
        for (let j = 0; j < chunk.length; j++) chunk[j] = rand() < 0.7 ? 0 : Math.floor(rand() * 256);
        d.push(chunk);
      }
    } catch (err) {
      assert.ok(err instanceof ProtocolError, String(err));
    }
  }
});
