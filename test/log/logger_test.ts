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
