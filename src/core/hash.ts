// Hashing helpers for identifiers: SHA-256 digests and a stable 64-bit key hash.
// Invariants: pure and deterministic across processes, machines and releases — partition keys
// are derived from these values and persisted, so the algorithm must never change.
// Strings are hashed as their UTF-8 bytes.
import { createHash } from "node:crypto";

/** SHA-256 of `data` (strings as UTF-8). */
export function sha256(data: string | Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

/**
 * SHA-256 over an unambiguous encoding of `parts`: each part is written as its UTF-8 byte
 * length (u32 big-endian) followed by the bytes, so ["ab","c"] and ["a","bc"] differ.
 */
export function sha256OfParts(parts: readonly string[]): Buffer {
  const hash = createHash("sha256");
  const len = Buffer.alloc(4);
  for (const part of parts) {
    const bytes = Buffer.from(part, "utf8");
    len.writeUInt32BE(bytes.length, 0);
    hash.update(len);
    hash.update(bytes);
  }
  return hash.digest();
}

/** Stable, well-distributed unsigned 64-bit hash: the first 8 bytes of SHA-256, big-endian. */
export function hash64(data: string | Uint8Array): bigint {
  return sha256(data).readBigUInt64BE(0);
}
