/**
 * Checking the `X-Argoos-Token` header without leaking, through timing, how
 * much of a guess was right.
 *
 * @module
 */

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * Compare a presented token with the expected one in constant time: both are
 * hashed first, so the comparison always runs over 32 bytes whatever their lengths.
 *
 * @example
 * ```ts
 * import { tokenMatches } from "./token.ts";
 * await tokenMatches("s3cret", "s3cret"); // true
 * await tokenMatches("s3cret", null); // false
 * ```
 */
export async function tokenMatches(expected: string, presented: string | null): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(expected), sha256(presented ?? "")]);
  let diff = presented === null ? 1 : 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
