import assert from "node:assert/strict";
import { Logger } from "../../lib/log/logger.ts";

function logged(fields: Record<string, unknown>): Record<string, unknown> {
  const lines: string[] = [];
  new Logger({ sink: (line) => lines.push(line) }).info("m", fields);
  return JSON.parse(lines[0]);
}

Deno.test("Logger: an Error is written as its message, at the top or nested", () => {
  assert.equal(logged({ error: new Error("refused") }).error, "refused");
  assert.deepEqual(logged({ errors: [new Error("a"), { cause: new Error("b") }] }).errors, [
    "a",
    { cause: "b" },
  ]);
});

Deno.test("Logger: plain fields are written as they are, after time, level and message", () => {
  const line = logged({ workload: "default/web", count: 3, held: false, none: null });
  assert.deepEqual(Object.keys(line), [
    "time",
    "level",
    "msg",
    "workload",
    "count",
    "held",
    "none",
  ]);
  assert.deepEqual(
    { ...line, time: undefined },
    {
      time: undefined,
      level: "info",
      msg: "m",
      workload: "default/web",
      count: 3,
      held: false,
      none: null,
    },
  );
});

Deno.test("Logger: an Error deeper than a line's fields usually go is still its message", () => {
  const line = logged({ a: { b: { c: { d: { e: new Error("deep") } } } } });
  assert.deepEqual(line.a, { b: { c: { d: { e: "deep" } } } });
});

Deno.test("Logger: nested fields without an Error are written as they are", () => {
  const changes = [{ container: "app", from: "r/a:1.0.0", to: "r/a:1.0.1" }];
  const line = logged({ changes, counts: { applied: 1 } });
  assert.deepEqual([line.changes, line.counts], [changes, { applied: 1 }]);
});

Deno.test("Logger: each line is stamped with the time it was written", () => {
  logged({}); // a stamp of this millisecond, which the next line must not reuse
  const now = Date.now();
  while (Date.now() === now) { /* the next millisecond */ }
  const before = Date.now();
  const { time } = logged({});
  const after = Date.now();
  const ms = Date.parse(time as string);
  assert.ok(ms >= before && ms <= after, `${time} not within [${before}, ${after}]`);
  assert.equal(new Date(ms).toISOString(), time);
});
