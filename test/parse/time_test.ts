import assert from "node:assert/strict";
import { isoSeconds } from "../../lib/parse/time.ts";

Deno.test("isoSeconds: RFC 3339 in UTC to the second, milliseconds dropped", () => {
  const cases: [ms: number, text: string][] = [
    [0, "1970-01-01T00:00:00Z"],
    [Date.UTC(2026, 11, 12, 2, 0, 0), "2026-12-12T02:00:00Z"],
    [Date.UTC(2026, 11, 12, 2, 0, 0, 999), "2026-12-12T02:00:00Z"],
    [Date.UTC(2026, 2, 29, 1, 30, 5, 1), "2026-03-29T01:30:05Z"],
  ];
  for (const [ms, text] of cases) assert.equal(isoSeconds(ms), text, String(ms));
});
