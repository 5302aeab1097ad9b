// Identifiers in Restate's wire/string formats: invocation ids, deployment ids, awakeable ids,
// and the partition keys that invocation ids carry.
// Invariants:
// - An invocation id is 24 raw bytes: partition key (u64 big-endian) ‖ 16-byte uuid. Its string is
//   "inv_1" + base62(width 11) of the 8 key bytes read little-endian + base62(width 22) of the 16
//   uuid bytes read little-endian (alphabet 0-9a-zA-Z, most significant digit first, "0"-padded).
//   So every id with the same partition key starts with the same 16 characters.
// - A deployment id is 16 raw bytes; its string is "dp_1" + base62(width 22) of them read little-endian.
// - An awakeable id is "sign_1" + base64url(24 id bytes ‖ u32 BE signal index); legacy "prom_1" ids
//   carry a journal entry index instead. Encoding never pads; parsing accepts padding.
// - formatting then parsing gives back the same bytes, and parsing then formatting gives back the same
//   string (encodings are canonical; non-canonical strings are rejected).
// - Pure: randomness comes in as arguments; hashing is deterministic (see hash.ts).
import { hash64, sha256OfParts } from "./hash.ts";

/** A malformed id string. `message` is one of Restate's short reasons (e.g. "bad format"). */
export class InvalidIdError extends Error {
  override name = "InvalidIdError";
}

export const INVOCATION_ID_BYTES = 24;
export const PARTITION_KEY_BYTES = 8;
export const INVOCATION_UUID_BYTES = 16;
export const DEPLOYMENT_ID_BYTES = 16;

export const MAX_PARTITION_KEY = (1n << 64n) - 1n;
const MAX_U32 = 0xffff_ffff;

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const WIDTH_U64 = 11; // ceil(64 / 6)
const WIDTH_U128 = 22; // ceil(128 / 6)
const CODEC_VERSION = "1";

// Resource-type prefixes Restate uses; used to tell "wrong type" from "unknown type".
const KNOWN_RESOURCE_TYPES = new Set(["inv", "dp", "sub", "sign", "prom"]);

// Reasons, worded as Restate words them (they surface as e.g. "bad invocation id 'abc': bad format").
const BAD_FORMAT = "bad format";
const BAD_LENGTH = "bad length";
const BAD_BASE62 = "base62 decode error";
const BAD_VERSION = "unrecognized codec version";
const TYPE_MISMATCH = "id doesn't match the expected type";

// ---------------------------------------------------------------------------------------------
// base62 / byte helpers

// Numbers are handled as 32-bit limbs in plain doubles (no BigInt): a limb times 62 plus a carry stays far below
// 2^53, so every step is exact. Limbs are little-endian: limbs[0] holds bytes 0..3.

const DIGIT_OF = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT_OF[ALPHABET.charCodeAt(i)] = i;
const LIMB = 0x1_0000_0000;

/** base62 (most significant digit first, "0"-padded to `width`) of `bytes` read as a little-endian number. */
function base62EncodeLE(bytes: Uint8Array, width: number): string {
  const n = bytes.length >> 2;
  const limbs = new Array<number>(n);
  for (let i = 0; i < n; i++) limbs[i] = (bytes[4 * i]! | (bytes[4 * i + 1]! << 8) | (bytes[4 * i + 2]! << 16) | (bytes[4 * i + 3]! << 24)) >>> 0;
  const digits = new Array<string>(width);
  for (let d = width - 1; d >= 0; d--) {
    let rem = 0;
    for (let i = n - 1; i >= 0; i--) {
      const cur = rem * LIMB + limbs[i]!;
      limbs[i] = Math.floor(cur / 62);
      rem = cur - limbs[i]! * 62;
    }
    digits[d] = ALPHABET[rem]!;
  }
  for (let i = 0; i < n; i++) if (limbs[i] !== 0) throw new RangeError(`value does not fit in ${width} base62 digits`);
  return digits.join("");
}

/** The inverse of base62EncodeLE into `out` (its length fixes the maximum); InvalidIdError when malformed. */
function base62DecodeLE(text: string, out: Uint8Array): void {
  const n = out.length >> 2;
  const limbs = new Array<number>(n).fill(0);
  for (let c = 0; c < text.length; c++) {
    const code = text.charCodeAt(c);
    let carry = code < 128 ? DIGIT_OF[code]! : -1;
    if (carry < 0) throw new InvalidIdError(BAD_BASE62);
    for (let i = 0; i < n; i++) {
      const v = limbs[i]! * 62 + carry;
      carry = Math.floor(v / LIMB);
      limbs[i] = v - carry * LIMB;
    }
    if (carry !== 0) throw new InvalidIdError(BAD_BASE62);
  }
  for (let i = 0; i < n; i++) {
    const v = limbs[i]!;
    out[4 * i] = v & 0xff;
    out[4 * i + 1] = (v >>> 8) & 0xff;
    out[4 * i + 2] = (v >>> 16) & 0xff;
    out[4 * i + 3] = (v >>> 24) & 0xff;
  }
}

/** Splits "<type>_<version><payload>" and checks type, version and payload length. */
function resourcePayload(text: string, expectedType: string, payloadLength: number): string {
  const sep = text.indexOf("_");
  if (sep < 0) throw new InvalidIdError(BAD_FORMAT);
  const type = text.slice(0, sep);
  if (type !== expectedType) {
    throw new InvalidIdError(KNOWN_RESOURCE_TYPES.has(type) ? TYPE_MISMATCH : BAD_FORMAT);
  }
  const rest = text.slice(sep + 1);
  if (rest.length === 0) throw new InvalidIdError(BAD_LENGTH);
  if (rest[0] !== CODEC_VERSION) throw new InvalidIdError(BAD_VERSION);
  const payload = rest.slice(1);
  if (payload.length !== payloadLength) throw new InvalidIdError(BAD_LENGTH);
  return payload;
}

function checkPartitionKey(partitionKey: bigint): void {
  if (partitionKey < 0n || partitionKey > MAX_PARTITION_KEY) {
    throw new RangeError(`partition key out of range: ${partitionKey}`);
  }
}

function checkLength(bytes: Uint8Array, expected: number, what: string): void {
  if (bytes.length !== expected) {
    throw new RangeError(`${what} must be ${expected} bytes, got ${bytes.length}`);
  }
}

// ---------------------------------------------------------------------------------------------
// invocation ids

/** The 24 raw bytes of an invocation id. */
export type InvocationId = Buffer;

/** Formats 24 raw bytes as `inv_1…` (38 characters). */
export function encodeInvocationId(raw: Uint8Array): string {
  checkLength(raw, INVOCATION_ID_BYTES, "invocation id");
  return `inv_${CODEC_VERSION}${base62EncodeLE(raw.subarray(0, PARTITION_KEY_BYTES), WIDTH_U64)}${base62EncodeLE(raw.subarray(PARTITION_KEY_BYTES), WIDTH_U128)}`;
}

/** Parses an `inv_1…` string into its 24 raw bytes; throws InvalidIdError when malformed. */
export function parseInvocationId(text: string): InvocationId {
  const payload = resourcePayload(text, "inv", WIDTH_U64 + WIDTH_U128);
  const raw = Buffer.alloc(INVOCATION_ID_BYTES);
  base62DecodeLE(payload.slice(0, WIDTH_U64), raw.subarray(0, PARTITION_KEY_BYTES));
  base62DecodeLE(payload.slice(WIDTH_U64), raw.subarray(PARTITION_KEY_BYTES));
  return raw;
}

/** Like parseInvocationId, but returns undefined instead of throwing. */
export function tryParseInvocationId(text: string): InvocationId | undefined {
  try {
    return parseInvocationId(text);
  } catch (err) {
    if (err instanceof InvalidIdError) return undefined;
    throw err;
  }
}

/** The partition key (u64) stored in the first 8 bytes of an invocation id. */
export function partitionKeyOf(raw: Uint8Array): bigint {
  checkLength(raw, INVOCATION_ID_BYTES, "invocation id");
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).readBigUInt64BE(0);
}

/** Builds an invocation id from a partition key and 16 caller-supplied random bytes. */
export function newInvocationId(partitionKey: bigint, random16: Uint8Array): InvocationId {
  checkPartitionKey(partitionKey);
  checkLength(random16, INVOCATION_UUID_BYTES, "invocation uuid");
  const raw = Buffer.alloc(INVOCATION_ID_BYTES);
  raw.writeBigUInt64BE(partitionKey, 0);
  raw.set(random16, PARTITION_KEY_BYTES);
  return raw;
}

/**
 * 16 uuid bytes for a new invocation id whose little-endian value starts with the 48-bit millisecond time
 * (bytes 10..15) followed by 80 random bits (bytes 0..9): ids made later differ from earlier ones in the leading
 * digits of their uuid part, so storage keyed by the uuid part inserts new invocations next to each other
 * instead of at random places. 80 random bits per millisecond keep ids unique.
 */
export function timeOrderedUuid(nowMs: number, random10: Uint8Array): Buffer {
  checkLength(random10, INVOCATION_UUID_BYTES - 6, "random part of the invocation uuid");
  const out = Buffer.alloc(INVOCATION_UUID_BYTES);
  out.set(random10, 0);
  out.writeUIntLE(Math.max(0, Math.min(Math.floor(nowMs), 2 ** 48 - 1)), INVOCATION_UUID_BYTES - 6, 6);
  return out;
}

/**
 * An invocation id derived from `parts` alone (e.g. [service, key, handler, idempotencyKey] or
 * [workflow, workflowId]): the uuid is the first 16 bytes of SHA-256 over a length-prefixed
 * encoding of a domain tag and the parts, so equal parts always give the same id and no lookup
 * table is needed. Callers should include a tag of their own among the parts when two id families
 * could otherwise collide.
 */
export function deterministicInvocationId(partitionKey: bigint, parts: readonly string[]): InvocationId {
  const digest = sha256OfParts(["perdure/invocation-id/v1", ...parts]);
  return newInvocationId(partitionKey, digest.subarray(0, INVOCATION_UUID_BYTES));
}

/**
 * The partition key of a keyed target (virtual object or workflow): a stable 64-bit hash of the
 * key alone, so every service and handler addressed with key k shares one partition key.
 */
export function partitionKeyForKey(key: string): bigint {
  if (key.length > MAX_REMEMBERED_KEY) return hash64(key);
  let pk = recentKeys.get(key);
  if (pk === undefined) {
    if (recentKeys.size >= RECENT_KEYS) recentKeys.clear();
    pk = hash64(key);
    recentKeys.set(key, pk);
  }
  return pk;
}

/**
 * Partition keys of recently seen keys (objects are addressed again and again, and one request hashes its key
 * twice); at most RECENT_KEYS keys of up to MAX_REMEMBERED_KEY characters, so at most ~1 MiB.
 */
const recentKeys = new Map<string, bigint>();
const RECENT_KEYS = 4_096;
const MAX_REMEMBERED_KEY = 128;

// ---------------------------------------------------------------------------------------------
// deployment ids

/** Formats 16 raw bytes as `dp_1…` (26 characters), e.g. `dp_149C9ia9wAS9AYMwDmuUS09`. */
export function encodeDeploymentId(raw16: Uint8Array): string {
  checkLength(raw16, DEPLOYMENT_ID_BYTES, "deployment id");
  return `dp_${CODEC_VERSION}${base62EncodeLE(raw16, WIDTH_U128)}`;
}

/** Parses a `dp_1…` string into its 16 raw bytes; throws InvalidIdError when malformed. */
export function parseDeploymentId(text: string): Buffer {
  const payload = resourcePayload(text, "dp", WIDTH_U128);
  const raw = Buffer.alloc(DEPLOYMENT_ID_BYTES);
  base62DecodeLE(payload, raw);
  return raw;
}

// ---------------------------------------------------------------------------------------------
// awakeable ids

export type ParsedAwakeableId =
  | { legacy: false; invocationId: InvocationId; signalIndex: number }
  | { legacy: true; invocationId: InvocationId; entryIndex: number };

const AWAKEABLE_PREFIX = "sign_1";
const LEGACY_AWAKEABLE_PREFIX = "prom_1";
const AWAKEABLE_BYTES = INVOCATION_ID_BYTES + 4;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** `sign_1` + unpadded base64url of (24 invocation id bytes ‖ u32 BE signal index). */
export function encodeAwakeableId(invocationId: Uint8Array, signalIndex: number): string {
  checkLength(invocationId, INVOCATION_ID_BYTES, "invocation id");
  if (!Number.isInteger(signalIndex) || signalIndex < 0 || signalIndex > MAX_U32) {
    throw new RangeError(`signal index out of range: ${signalIndex}`);
  }
  const raw = Buffer.alloc(AWAKEABLE_BYTES);
  raw.set(invocationId, 0);
  raw.writeUInt32BE(signalIndex, INVOCATION_ID_BYTES);
  return AWAKEABLE_PREFIX + raw.toString("base64url");
}

/**
 * Parses `sign_1…` (signal index) or legacy `prom_1…` (journal entry index) awakeable ids, with
 * or without base64 padding; throws InvalidIdError when malformed.
 */
export function parseAwakeableId(text: string): ParsedAwakeableId {
  let legacy: boolean;
  if (text.startsWith(AWAKEABLE_PREFIX)) legacy = false;
  else if (text.startsWith(LEGACY_AWAKEABLE_PREFIX)) legacy = true;
  else throw new InvalidIdError(BAD_FORMAT);
  const encoded = text.slice(AWAKEABLE_PREFIX.length);
  if (!BASE64URL.test(encoded)) throw new InvalidIdError(BAD_FORMAT);
  const unpadded = encoded.replace(/=+$/, "");
  // 28 bytes → 38 base64 characters, plus "==" when padded.
  const paddedLength = Math.ceil(unpadded.length / 4) * 4;
  if (encoded.length !== unpadded.length && encoded.length !== paddedLength) {
    throw new InvalidIdError(BAD_FORMAT);
  }
  const raw = Buffer.from(unpadded, "base64url");
  if (raw.length !== AWAKEABLE_BYTES) throw new InvalidIdError(BAD_LENGTH);
  // Reject non-canonical encodings (stray bits in the last character).
  if (raw.toString("base64url") !== unpadded) throw new InvalidIdError(BAD_FORMAT);
  const invocationId = Buffer.from(raw.subarray(0, INVOCATION_ID_BYTES));
  const index = raw.readUInt32BE(INVOCATION_ID_BYTES);
  return legacy
    ? { legacy: true, invocationId, entryIndex: index }
    : { legacy: false, invocationId, signalIndex: index };
}
