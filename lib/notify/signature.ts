/**
 * Standard Webhooks signatures (standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`.
 *
 * @module
 */

import { Buffer } from "node:buffer";

const PREFIX = "whsec_";

/**
 * The HMAC key of a secret: a `whsec_<base64>` secret (the convention's own form) is the bytes
 * the base64 remainder decodes to; any other secret is used as its UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { secretKey } from "./signature.ts";
 * secretKey("whsec_aGVsbG8="); // the 5 bytes of "hello"
 * secretKey("hello"); // the same 5 bytes
 * ```
 */
export function secretKey(secret: string): Uint8Array {
  const s = secret.trim();
  if (!s.startsWith(PREFIX)) return new TextEncoder().encode(s);
  const b64 = s.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw new Error("a whsec_ secret must be base64 after whsec_");
  }
  return new Uint8Array(Buffer.from(b64, "base64"));
}

/**
 * The three Standard Webhooks headers for one delivery.
 *
 * @example
 * ```ts
 * import { signatureHeaders } from "./signature.ts";
 * const h = await signatureHeaders(new TextEncoder().encode("k"), "msg_1", 1700000000, "{}");
 * h["webhook-signature"].startsWith("v1,"); // true
 * ```
 */
export async function signatureHeaders(
  key: Uint8Array,
  id: string,
  timestampSeconds: number,
  body: string,
): Promise<Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string>> {
  const hmac = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signed = new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, signed));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": `v1,${Buffer.from(mac).toString("base64")}`,
  };
}
