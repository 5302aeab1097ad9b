// StartMessage (0x0000): the first frame the server sends on every attempt.
// Fields: id 1 bytes, debug_id 2, known_entries 3, state_map 4 {key 1 bytes, value 2 bytes}, partial_state 5,
// key 6, retry_count_since_last_stored_entry 7, duration_since_last_stored_entry 8 (u64 ms),
// random_seed 9 (u64, ≥V6), optional scope 10 / limit_key 11 / idempotency_key 12 (V7).
// Invariants: proto3 defaults (0, "", false, empty bytes) are omitted on encode, as any proto3 encoder does;
// the V7 `optional` strings are written whenever defined (even ""), and decode back as defined only when
// present on the wire.
import { EMPTY_BYTES } from "./common.ts";
import { decodeWith, encodeWith } from "./proto-wire.ts";
import type { ProtoReader } from "./proto-wire.ts";

export type StateEntry = { key: Uint8Array; value: Uint8Array };

export type StartMessage = {
  /** Raw invocation id bytes (stable across attempts). */
  id: Uint8Array;
  /** Printable invocation id ("inv_1…"). */
  debugId: string;
  /** Number of journal entries (commands + notifications) that follow Start. ≥ 1. */
  knownEntries: number;
  stateMap: StateEntry[];
  partialState: boolean;
  /** Object / workflow key; "" for services. */
  key: string;
  retryCountSinceLastStoredEntry: number;
  /** Milliseconds. */
  durationSinceLastStoredEntry: number;
  /** u64; must be identical on every attempt of an invocation. */
  randomSeed: bigint;
  scope?: string;
  limitKey?: string;
  idempotencyKey?: string;
};

export function encodeStart(m: StartMessage): Buffer {
  return encodeWith((w) => {
    if (m.id.length !== 0) w.bytes(1, m.id);
    if (m.debugId !== "") w.string(2, m.debugId);
    if (m.knownEntries !== 0) w.uint32(3, m.knownEntries);
    for (const entry of m.stateMap) {
      w.fork(4);
      if (entry.key.length !== 0) w.bytes(1, entry.key);
      if (entry.value.length !== 0) w.bytes(2, entry.value);
      w.join();
    }
    if (m.partialState) w.bool(5, true);
    if (m.key !== "") w.string(6, m.key);
    if (m.retryCountSinceLastStoredEntry !== 0) w.uint32(7, m.retryCountSinceLastStoredEntry);
    if (m.durationSinceLastStoredEntry !== 0) w.uint64(8, m.durationSinceLastStoredEntry);
    if (m.randomSeed !== 0n) w.uint64(9, m.randomSeed);
    if (m.scope !== undefined) w.string(10, m.scope);
    if (m.limitKey !== undefined) w.string(11, m.limitKey);
    if (m.idempotencyKey !== undefined) w.string(12, m.idempotencyKey);
  });
}

function readStateEntry(r: ProtoReader): StateEntry {
  let key: Buffer = EMPTY_BYTES;
  let value: Buffer = EMPTY_BYTES;
  const token = r.enter();
  while (r.next()) {
    if (r.field === 1) key = r.bytes();
    else if (r.field === 2) value = r.bytes();
    else r.skip();
  }
  r.leave(token);
  return { key, value };
}

export function decodeStart(payload: Uint8Array): StartMessage {
  return decodeWith("StartMessage", payload, (r) => {
    const m: StartMessage = {
      id: EMPTY_BYTES,
      debugId: "",
      knownEntries: 0,
      stateMap: [],
      partialState: false,
      key: "",
      retryCountSinceLastStoredEntry: 0,
      durationSinceLastStoredEntry: 0,
      randomSeed: 0n,
    };
    while (r.next()) {
      switch (r.field) {
        case 1:
          m.id = r.bytes();
          break;
        case 2:
          m.debugId = r.string();
          break;
        case 3:
          m.knownEntries = r.uint32();
          break;
        case 4:
          m.stateMap.push(readStateEntry(r));
          break;
        case 5:
          m.partialState = r.bool();
          break;
        case 6:
          m.key = r.string();
          break;
        case 7:
          m.retryCountSinceLastStoredEntry = r.uint32();
          break;
        case 8:
          m.durationSinceLastStoredEntry = r.uint64Number();
          break;
        case 9:
          m.randomSeed = r.uint64();
          break;
        case 10:
          m.scope = r.string();
          break;
        case 11:
          m.limitKey = r.string();
          break;
        case 12:
          m.idempotencyKey = r.string();
          break;
        default:
          r.skip();
      }
    }
    return m;
  });
}
