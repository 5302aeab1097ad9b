// Request identity: signs requests to endpoints with an Ed25519 key so endpoints started with `identityKeys`
// accept them (JWT v1: header `x-restate-jwt-v1`, scheme header `x-restate-signature-scheme: v1`).
// The key id is `publickeyv1_` + base58 of the raw 32-byte public key, which is what endpoints are given.
// Tokens are valid from one minute before to one minute after signing; the audience is the request path
// suffix (`/discover`, `/invoke/{service}/{handler}`).

import { createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

export function base58(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = "";
  while (n > 0n) {
    out = BASE58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = "1" + out;
  }
  return out;
}

const b64url = (v: Buffer | string) => Buffer.from(v).toString("base64url");

export class RequestSigner {
  readonly keyId: string;
  private readonly key: KeyObject;
  private readonly now: () => number;

  constructor(privateKeyPem: string, now: () => number) {
    this.key = createPrivateKey(privateKeyPem);
    if (this.key.asymmetricKeyType !== "ed25519") throw new Error("the request identity key must be an Ed25519 private key (PEM)");
    const der = createPublicKey(this.key).export({ format: "der", type: "spki" });
    this.keyId = `publickeyv1_${base58(der.subarray(der.length - 32))}`;
    this.now = now;
  }

  static fromFile(path: string, now: () => number): RequestSigner {
    return new RequestSigner(readFileSync(path, "utf8"), now);
  }

  /** Headers that prove the request comes from this server. */
  headers(audience: string, subject?: string): Record<string, string> {
    const iat = Math.floor(this.now() / 1000);
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "EdDSA", kid: this.keyId }));
    const claims: Record<string, unknown> = { aud: audience, iat, nbf: iat - 60, exp: iat + 60 };
    if (subject !== undefined) claims.sub = subject;
    const payload = b64url(JSON.stringify(claims));
    const signature = sign(null, Buffer.from(`${header}.${payload}`), this.key);
    return { "x-restate-signature-scheme": "v1", "x-restate-jwt-v1": `${header}.${payload}.${b64url(signature)}` };
  }
}
