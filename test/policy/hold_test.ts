/**
 * `argoos.io/hold`: what reads as held, until when, and what `argoos hold` writes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Hold, holdAnnotations, holdProblem, readHold } from "../../lib/policy/hold.ts";
import { validateWorkload } from "../../lib/policy/rules.ts";

const NOW = Date.parse("2026-12-06T10:00:00Z");
const INVALID = 'neither "true" nor an RFC 3339 time (2030-01-01T00:00:00Z); held until corrected';

Deno.test("readHold: true, a time ahead, a time past, false, absent, and what does not read", () => {
  const cases: [string | undefined, Hold][] = [
    [undefined, { held: false }],
    ["true", { held: true }],
    [" true ", { held: true }],
    ["false", { held: false }],
    ["2026-12-06T11:00:00Z", { held: true, until: NOW + 3_600_000 }],
    ["2026-12-06T12:00:00+02:00", { held: false }], // 10:00Z: ended now
    ["2026-12-06T10:00:00.500Z", { held: true, until: NOW + 500 }],
    ["2026-12-05T10:00:00Z", { held: false }],
    ["True", { held: true, invalid: INVALID }],
    ["yes", { held: true, invalid: INVALID }],
    ["", { held: true, invalid: INVALID }],
    ["2026-12-06", { held: true, invalid: INVALID }],
    ["2026-13-45T10:00:00Z", { held: true, invalid: INVALID }],
    ["24h", { held: true, invalid: INVALID }],
  ];
  for (const [value, want] of cases) {
    const annotations: Record<string, string> = value === undefined
      ? {}
      : { "argoos.io/hold": value };
    assert.deepEqual(readHold(annotations, NOW), want, JSON.stringify(value));
    assert.equal(holdProblem(value ?? "true") !== undefined, want.held && !!want.invalid);
  }
});

Deno.test("an unreadable hold is an InvalidPolicy of the workload; a readable one is not", () => {
  const errors = (hold: string) =>
    validateWorkload({ policyLabel: "patch", annotations: { "argoos.io/hold": hold } }, ["app"]);
  assert.deepEqual(errors("someday"), [{
    key: "argoos.io/hold",
    value: "someday",
    reason: INVALID,
  }]);
  assert.deepEqual(errors("true"), []);
  assert.deepEqual(errors("2030-01-01T00:00:00Z"), []);
});

Deno.test("holdAnnotations: until released, for a while with a reason, released", () => {
  assert.deepEqual(holdAnnotations({}, NOW), {
    "argoos.io/hold": "true",
    "argoos.io/hold-reason": null,
  });
  assert.deepEqual(holdAnnotations({ forMs: 90 * 60_000, reason: "incident 123" }, NOW), {
    "argoos.io/hold": "2026-12-06T11:30:00Z",
    "argoos.io/hold-reason": "incident 123",
  });
  assert.deepEqual(holdAnnotations(undefined, NOW), {
    "argoos.io/hold": null,
    "argoos.io/hold-reason": null,
  });
  // What hold writes reads back as the hold it meant.
  const written = holdAnnotations({ forMs: 1_000 }, NOW)["argoos.io/hold"]!;
  assert.deepEqual(readHold({ "argoos.io/hold": written }, NOW), {
    held: true,
    until: NOW + 1_000,
  });
});
