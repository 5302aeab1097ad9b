// Round trips and exact-byte checks for control messages: Start, Suspension (V6 and V7), Error, End,
// CommandAck, ProposeRunCompletion (value / empty value / failure / absent), AwaitingOn, ProposeRunCompletionAck.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ErrorBehavior,
  decodeAwaitingOn,
  decodeCommandAck,
  decodeEnd,
  decodeError,
  decodeProposeRunCompletion,
  decodeProposeRunCompletionAck,
  decodeSuspension,
  encodeAwaitingOn,
  encodeCommandAck,
  encodeError,
  encodeProposeRunCompletion,
  encodeProposeRunCompletionAck,
  encodeSuspension,
  suspensionAwaitedIds,
  type ErrorMessage,
  type ProposeRunCompletionMessage,
  type SuspensionMessage,
} from "./control.ts";
import { ProtocolError } from "./errors.ts";
import { CombinatorType, flattenFuture, type Future } from "./future.ts";
import { ProtoWriter } from "./proto-wire.ts";
import { decodeStart, encodeStart, type StartMessage } from "./start.ts";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

const fullStart: StartMessage = {
  id: Buffer.alloc(24, 0x11),
  debugId: "inv_1foAirY4KKzi0123456789abcdefABCDEF",
  knownEntries: 3,
  stateMap: [
    { key: Buffer.from("count"), value: Buffer.from("5") },
    { key: Buffer.from("empty"), value: Buffer.alloc(0) },
  ],
  partialState: true,
  key: "k1",
  retryCountSinceLastStoredEntry: 2,
  durationSinceLastStoredEntry: 1643,
  randomSeed: 9593312515145053547n,
  scope: "s",
  limitKey: "",
  idempotencyKey: "idem",
};

test("Start round trips with every field, including V7 optionals (even empty)", () => {
  assert.deepEqual(decodeStart(encodeStart(fullStart)), fullStart);
});

test("Start omits proto3 defaults (no partial_state, no key, no state map)", () => {
  const m: StartMessage = {
    id: Buffer.from([1, 2]),
    debugId: "inv_x",
    knownEntries: 1,
    stateMap: [],
    partialState: false,
    key: "",
    retryCountSinceLastStoredEntry: 0,
    durationSinceLastStoredEntry: 0,
    randomSeed: 5n,
  };
  const bytes = encodeStart(m);
  assert.equal(bytes.toString("hex"), "0a020102" + "1205696e765f78" + "1801" + "4805");
  assert.deepEqual(decodeStart(bytes), m);
  assert.equal("scope" in decodeStart(bytes), false);
});

test("Start state entry with empty value decodes as empty bytes", () => {
  const entry = decodeStart(encodeStart(fullStart)).stateMap[1]!;
  assert.equal(entry.value.length, 0);
});

test("V7 Suspension with a Future tree round trips and flattens", () => {
  const awaitingOn: Future = {
    waitingCompletions: [],
    waitingSignals: [1],
    waitingNamedSignals: ["go"],
    nestedFutures: [
      {
        waitingCompletions: [4, 5],
        waitingSignals: [],
        waitingNamedSignals: [],
        nestedFutures: [
          { waitingCompletions: [9], waitingSignals: [17], waitingNamedSignals: [], nestedFutures: [], combinatorType: 0 },
        ],
        combinatorType: CombinatorType.AllSucceededOrFirstFailed,
      },
    ],
    combinatorType: CombinatorType.FirstCompleted,
  };
  const m: SuspensionMessage = { waitingCompletions: [], waitingSignals: [], waitingNamedSignals: [], awaitingOn };
  const bytes = encodeSuspension(m);
  assert.equal(bytes[0], 0x22, "only field 4 on the wire");
  assert.deepEqual(decodeSuspension(bytes), m);
  const ids = suspensionAwaitedIds(m);
  assert.deepEqual([...ids.completionIds].sort(), [4, 5, 9]);
  assert.deepEqual([...ids.signalIndexes].sort((a, b) => a - b), [1, 17]);
  assert.deepEqual([...ids.signalNames], ["go"]);
  assert.deepEqual(flattenFuture(awaitingOn), ids);
});

test("V6 Suspension: unpacked repeated fields and named signals", () => {
  const w = new ProtoWriter();
  w.uint32(1, 3).uint32(1, 4).uint32(2, 17).uint32(2, 1).string(3, "a").string(3, "b");
  const m = decodeSuspension(w.finish());
  assert.deepEqual(m, { waitingCompletions: [3, 4], waitingSignals: [17, 1], waitingNamedSignals: ["a", "b"] });
  const ids = suspensionAwaitedIds(m);
  assert.deepEqual([...ids.completionIds], [3, 4]);
  assert.deepEqual([...ids.signalIndexes], [17, 1]);
  assert.deepEqual([...ids.signalNames], ["a", "b"]);
  assert.deepEqual(decodeSuspension(encodeSuspension(m)), m);
});

test("Future with unpacked leaves decodes like packed", () => {
  const w = new ProtoWriter();
  w.fork(4).uint32(1, 7).uint32(1, 8).uint32(2, 1).uint32(5, 2).join();
  assert.deepEqual(decodeSuspension(w.finish()).awaitingOn, {
    waitingCompletions: [7, 8],
    waitingSignals: [1],
    waitingNamedSignals: [],
    nestedFutures: [],
    combinatorType: CombinatorType.AllCompleted,
  });
});

test("Error round trips; optional fields present only when set", () => {
  const full: ErrorMessage = {
    code: 500,
    message: "boom",
    stacktrace: "Error: boom\n  at x",
    relatedCommandIndex: 0,
    relatedCommandName: "",
    relatedCommandType: 0x0411,
    nextRetryDelay: 10_000,
    behavior: ErrorBehavior.Pause,
  };
  assert.deepEqual(decodeError(encodeError(full)), full);
  const minimal: ErrorMessage = { code: 570, message: "mismatch", stacktrace: "", behavior: 0 };
  const decoded = decodeError(encodeError(minimal));
  assert.deepEqual(decoded, minimal);
  assert.equal("relatedCommandIndex" in decoded, false);
  assert.equal(encodeError({ code: 1, message: "", stacktrace: "", relatedCommandIndex: 0, behavior: 0 }).toString("hex"), "08012000");
});

test("End payload validates; unknown fields are ignored", () => {
  decodeEnd(Buffer.alloc(0));
  decodeEnd(hex("0801"));
  assert.throws(() => decodeEnd(hex("08")), ProtocolError);
});

test("CommandAck and ProposeRunCompletionAck round trip", () => {
  assert.deepEqual(decodeCommandAck(encodeCommandAck({ commandIndex: 7 })), { commandIndex: 7 });
  assert.deepEqual(decodeCommandAck(Buffer.alloc(0)), { commandIndex: 0 });
  assert.deepEqual(decodeProposeRunCompletionAck(encodeProposeRunCompletionAck({ completionId: 300 })), { completionId: 300 });
});

test("ProposeRunCompletion: value, empty value, failure with metadata, absent result", () => {
  const cases: ProposeRunCompletionMessage[] = [
    { resultCompletionId: 1, result: { kind: "value", value: Buffer.from("{}") } },
    { resultCompletionId: 2, result: { kind: "value", value: Buffer.alloc(0) } },
    { resultCompletionId: 3, result: { kind: "failure", code: 500, message: "nope", metadata: [["k", "v"], ["", ""]] } },
    { resultCompletionId: 4, result: { kind: "failure", code: 0, message: "" } },
    { resultCompletionId: 5, result: undefined },
  ];
  for (const m of cases) assert.deepEqual(decodeProposeRunCompletion(encodeProposeRunCompletion(m)), m);
  assert.equal(encodeProposeRunCompletion(cases[1]!).toString("hex"), "08027200");
  assert.equal(encodeProposeRunCompletion(cases[3]!).toString("hex"), "08047a00");
  // Last oneof member wins, as in protobuf.
  assert.deepEqual(decodeProposeRunCompletion(hex("7a00 720131 0801")), {
    resultCompletionId: 1,
    result: { kind: "value", value: Buffer.from("1") },
  });
});

test("AwaitingOn round trips", () => {
  const m = {
    awaitingOn: { waitingCompletions: [1], waitingSignals: [1], waitingNamedSignals: [], nestedFutures: [], combinatorType: 1 },
    executingSideEffects: true,
  };
  assert.deepEqual(decodeAwaitingOn(encodeAwaitingOn(m)), m);
  assert.deepEqual(decodeAwaitingOn(Buffer.alloc(0)), { executingSideEffects: false });
});
