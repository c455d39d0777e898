/**
 * Checking the `X-Argoos-Token` header without leaking, through timing, how
 * much of a guess was right.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/**
 * Compare a presented token with the expected one in constant time: both are
 * hashed first, so the comparison always runs over 32 bytes whatever their lengths.
 *
 * @example
 * ```ts
 * import { tokenMatches } from "./token.ts";
 * tokenMatches("s3cret", "s3cret"); // true
 * tokenMatches("s3cret", null); // false
 * ```
 */
export function tokenMatches(expected: string, presented: string | null): boolean {
  return presented !== null && timingSafeEqual(sha256(expected), sha256(presented));
}
