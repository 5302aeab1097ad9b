// The version of a key's user state, as the restate CLI computes it before editing state: SHA-256 over the
// entries sorted by key, each written as (index u64 big-endian, 0x01, key, 0x02, value, 0x03), in URL-safe
// base64. Two versions are equal when they match ignoring base64 padding.

import { createHash } from "node:crypto";

export function stateVersion(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): string {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  const hash = createHash("sha256");
  const index = Buffer.alloc(8);
  sorted.forEach(([k, v], i) => {
    index.writeBigUInt64BE(BigInt(i));
    hash.update(index);
    hash.update(Buffer.of(1));
    hash.update(k);
    hash.update(Buffer.of(2));
    hash.update(v);
    hash.update(Buffer.of(3));
  });
  return hash.digest("base64url");
}

export function sameStateVersion(a: string, b: string): boolean {
  return a.replace(/=+$/, "") === b.replace(/=+$/, "");
}
