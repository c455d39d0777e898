import assert from "node:assert/strict";
import { applyMergePatch } from "./merge_patch.ts";

// RFC 7386 appendix A.
const cases: [target: unknown, patch: unknown, expected: unknown][] = [
  [{ a: "b" }, { a: "c" }, { a: "c" }],
  [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
  [{ a: "b" }, { a: null }, {}],
  [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
  [{ a: ["b"] }, { a: "c" }, { a: "c" }],
  [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
  [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
  [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
  [["a", "b"], ["c", "d"], ["c", "d"]],
  [{ a: "b" }, ["c"], ["c"]],
  [{ a: "foo" }, null, null],
  [{ a: "foo" }, "bar", "bar"],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: "b", c: null }, { a: "b" }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

for (const [target, patch, expected] of cases) {
  Deno.test(`merge patch ${JSON.stringify(patch)} onto ${JSON.stringify(target)}`, () => {
    const before = structuredClone(target);
    assert.deepEqual(applyMergePatch(target, patch), expected);
    assert.deepEqual(target, before, "the target is not modified");
  });
}
