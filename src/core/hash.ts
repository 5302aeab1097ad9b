// Hashing helpers for identifiers: SHA-256 digests and a stable 64-bit key hash.
// Invariants: pure and deterministic across processes, machines and releases — partition keys
// are derived from these values and persisted, so the algorithm must never change.
// Strings are hashed as their UTF-8 bytes.
import { hash } from "node:crypto";

/** SHA-256 of `data` (strings as UTF-8). One-shot: no Hash object per call. */
export function sha256(data: string | Uint8Array): Buffer {
  return hash("sha256", data, "buffer");
}

/**
 * SHA-256 over an unambiguous encoding of `parts`: each part is written as its UTF-8 byte
 * length (u32 big-endian) followed by the bytes, so ["ab","c"] and ["a","bc"] differ.
 */
export function sha256OfParts(parts: readonly string[]): Buffer {
  let size = 0;
  for (const part of parts) size += 4 + Buffer.byteLength(part, "utf8");
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (const part of parts) {
    const n = buf.write(part, at + 4, "utf8");
    buf.writeUInt32BE(n, at);
    at += 4 + n;
  }
  return sha256(buf);
}

/** Stable, well-distributed unsigned 64-bit hash: the first 8 bytes of SHA-256, big-endian. */
export function hash64(data: string | Uint8Array): bigint {
  return sha256(data).readBigUInt64BE(0);
}
