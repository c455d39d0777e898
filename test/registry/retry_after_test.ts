import assert from "node:assert/strict";
import { parseRetryAfter } from "../../lib/registry/retry_after.ts";

const now = Date.UTC(2015, 9, 21, 7, 28, 0);

const cases: [string, string | null, number | undefined][] = [
  ["absent", null, undefined],
  ["empty", "", undefined],
  ["seconds", "120", 120_000],
  ["zero", "0", 0],
  ["padded", " 5 ", 5_000],
  ["http date ahead", "Wed, 21 Oct 2015 07:28:10 GMT", 10_000],
  ["http date past", "Wed, 21 Oct 2015 07:27:00 GMT", 0],
  ["negative", "-5", undefined],
  ["fraction", "1.5", undefined],
  ["garbage", "soon", undefined],
];

for (const [name, value, want] of cases) {
  Deno.test(`parseRetryAfter: ${name}`, () => {
    assert.equal(parseRetryAfter(value, now), want);
  });
}
