/**
 * Constant-time token comparison.
 *
 * @module
 */

import assert from "node:assert/strict";
import { tokenMatches } from "../../lib/webhook/token.ts";

Deno.test("tokenMatches accepts only the exact token", async () => {
  const cases: [string, string | null, boolean][] = [
    ["s3cret", "s3cret", true],
    ["s3cret", "s3creT", false],
    ["s3cret", "s3cre", false],
    ["s3cret", "s3crets", false],
    ["s3cret", "x".repeat(10_000), false],
    ["s3cret", "", false],
    ["s3cret", null, false],
    ["s3cret", " s3cret", false],
    ["ünïcode-🔑", "ünïcode-🔑", true],
    ["ünïcode-🔑", "unicode-🔑", false],
    // An empty expected token still refuses a missing header.
    ["", null, false],
    ["", "", true],
  ];
  for (const [expected, presented, want] of cases) {
    assert.equal(await tokenMatches(expected, presented), want, `${expected} vs ${presented}`);
  }
});
