import assert from "node:assert/strict";
import { parseDuration } from "../../lib/parse/duration.ts";

const valid: [text: string, ms: number][] = [
  ["0", 0],
  [" 0 ", 0],
  ["250ms", 250],
  ["30s", 30_000],
  ["1.5s", 1_500],
  ["5m", 300_000],
  ["1h", 3_600_000],
  ["1h30m", 5_400_000],
  ["2m30s", 150_000],
  ["1h0m5s", 3_605_000],
  ["0s", 0],
  [" 10s ", 10_000],
];

const invalid = ["", "10", "5 m", "m", "1d", "-5s", "1h 30m", "1hour", "s5", "1.s", "abc", "30S"];

for (const [text, ms] of valid) {
  Deno.test(`parseDuration: "${text}" is ${ms} ms`, () => {
    assert.equal(parseDuration(text), ms);
  });
}

for (const text of invalid) {
  Deno.test(`parseDuration: "${text}" is refused with an example`, () => {
    assert.throws(() => parseDuration(text), /is not a duration \(examples: 30s, 5m, 1h30m, 0\)/);
  });
}
