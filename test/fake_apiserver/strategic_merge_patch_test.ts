import assert from "node:assert/strict";
import { applyStrategicMergePatch } from "./strategic_merge_patch.ts";

const containers = [
  { name: "app", image: "app:1", env: [{ name: "A", value: "1" }] },
  { name: "side", image: "side:1" },
];

const cases: [name: string, target: unknown, patch: unknown, expected: unknown][] = [
  ["merges containers by name", { containers }, { containers: [{ name: "app", image: "app:2" }] }, {
    containers: [
      { name: "app", image: "app:2", env: [{ name: "A", value: "1" }] },
      { name: "side", image: "side:1" },
    ],
  }],
  ["appends a new name", { containers }, { containers: [{ name: "new", image: "n:1" }] }, {
    containers: [...containers, { name: "new", image: "n:1" }],
  }],
  ["deletes by $patch", { containers }, { containers: [{ name: "side", $patch: "delete" }] }, {
    containers: [containers[0]],
  }],
  ["merges nested named lists", { containers }, {
    containers: [{ name: "app", env: [{ name: "B", value: "2" }] }],
  }, {
    containers: [
      { name: "app", image: "app:1", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }] },
      containers[1],
    ],
  }],
  ["replaces lists without names", { args: ["a", "b"] }, { args: ["c"] }, { args: ["c"] }],
  ["null deletes", { a: 1, b: 2 }, { a: null }, { b: 2 }],
  ["$patch replace", { m: { a: 1, b: 2 } }, { m: { $patch: "replace", c: 3 } }, { m: { c: 3 } }],
  ["ignores $setElementOrder", { containers }, {
    "$setElementOrder/containers": [{ name: "side" }, { name: "app" }],
  }, { containers }],
];

for (const [name, target, patch, expected] of cases) {
  Deno.test(`strategic merge patch: ${name}`, () => {
    const before = structuredClone(target);
    assert.deepEqual(applyStrategicMergePatch(target, patch), expected);
    assert.deepEqual(target, before, "the target is not modified");
  });
}
