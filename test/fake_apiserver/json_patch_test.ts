import assert from "node:assert/strict";
import {
  applyJsonPatch,
  decodeJsonPatch,
  type JsonPatchOperation,
  MalformedPatchError,
  PatchApplyError,
} from "./json_patch.ts";

// Mostly the examples of RFC 6902 appendix A.
const applies: [name: string, doc: unknown, ops: JsonPatchOperation[], expected: unknown][] = [
  ["add object member", { foo: "bar" }, [{ op: "add", path: "/baz", value: "qux" }], {
    foo: "bar",
    baz: "qux",
  }],
  ["add array element", { foo: ["bar", "baz"] }, [{ op: "add", path: "/foo/1", value: "qux" }], {
    foo: ["bar", "qux", "baz"],
  }],
  ["add to array end", { a: [1] }, [{ op: "add", path: "/a/-", value: 2 }], { a: [1, 2] }],
  ["add at array length", { a: [1] }, [{ op: "add", path: "/a/1", value: 2 }], { a: [1, 2] }],
  ["add replaces member", { a: 1 }, [{ op: "add", path: "/a", value: 2 }], { a: 2 }],
  ["add nested object", { foo: "bar" }, [{ op: "add", path: "/child", value: { g: "c" } }], {
    foo: "bar",
    child: { g: "c" },
  }],
  ["add null value", { a: 1 }, [{ op: "add", path: "/b", value: null }], { a: 1, b: null }],
  ["add whole document", { a: 1 }, [{ op: "add", path: "", value: { b: 2 } }], { b: 2 }],
  ["remove member", { baz: "qux", foo: "bar" }, [{ op: "remove", path: "/baz" }], { foo: "bar" }],
  ["remove element", { foo: ["bar", "qux", "baz"] }, [{ op: "remove", path: "/foo/1" }], {
    foo: ["bar", "baz"],
  }],
  ["replace", { baz: "qux", foo: "bar" }, [{ op: "replace", path: "/baz", value: "boo" }], {
    baz: "boo",
    foo: "bar",
  }],
  ["replace element", { a: [1, 2, 3] }, [{ op: "replace", path: "/a/1", value: 9 }], {
    a: [1, 9, 3],
  }],
  ["move member", { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } }, [{
    op: "move",
    from: "/foo/waldo",
    path: "/qux/thud",
  }], { foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } }],
  ["move element", { foo: ["all", "grass", "cows", "eat"] }, [{
    op: "move",
    from: "/foo/1",
    path: "/foo/3",
  }], { foo: ["all", "cows", "eat", "grass"] }],
  ["copy", { a: { b: 1 } }, [{ op: "copy", from: "/a", path: "/c" }], { a: { b: 1 }, c: { b: 1 } }],
  ["test passes", { baz: "qux", foo: ["a", 2, "c"] }, [
    { op: "test", path: "/baz", value: "qux" },
    { op: "test", path: "/foo/1", value: 2 },
  ], { baz: "qux", foo: ["a", 2, "c"] }],
  ["test compares structurally", { a: { x: [1, { y: 2 }], z: 3 } }, [
    { op: "test", path: "/a", value: { z: 3, x: [1, { y: 2 }] } },
  ], { a: { x: [1, { y: 2 }], z: 3 } }],
  ["test absent member equals null", { a: {} }, [{ op: "test", path: "/a/b", value: null }], {
    a: {},
  }],
  ["escaped pointer tokens", { "a/b": 1, "m~n": 2 }, [
    { op: "replace", path: "/a~1b", value: 3 },
    { op: "remove", path: "/m~0n" },
  ], { "a/b": 3 }],
  ["label key with slash", { metadata: { labels: {} } }, [{
    op: "add",
    path: "/metadata/labels/argoos.io~1policy",
    value: "minor",
  }], { metadata: { labels: { "argoos.io/policy": "minor" } } }],
  ["operations apply in order", { a: 1 }, [
    { op: "test", path: "/a", value: 1 },
    { op: "replace", path: "/a", value: 2 },
    { op: "test", path: "/a", value: 2 },
  ], { a: 2 }],
];

for (const [name, doc, ops, expected] of applies) {
  Deno.test(`json patch applies: ${name}`, () => {
    assert.deepEqual(applyJsonPatch(structuredClone(doc), decodeJsonPatch(ops)), expected);
  });
}

const failures: [name: string, doc: unknown, ops: JsonPatchOperation[]][] = [
  ["test value differs", { baz: "qux" }, [{ op: "test", path: "/baz", value: "bar" }]],
  ["test number vs string", { a: 1 }, [{ op: "test", path: "/a", value: "1" }]],
  ["test absent member vs value", { a: {} }, [{ op: "test", path: "/a/b", value: 1 }]],
  ["test missing parent", {}, [{ op: "test", path: "/a/b", value: null }]],
  ["remove missing member", { a: 1 }, [{ op: "remove", path: "/b" }]],
  ["remove out of range", { a: [1] }, [{ op: "remove", path: "/a/1" }]],
  ["replace missing member", { a: 1 }, [{ op: "replace", path: "/b", value: 1 }]],
  ["add under missing parent", { foo: "bar" }, [{ op: "add", path: "/baz/bat", value: "qux" }]],
  ["add beyond array end", { a: [1] }, [{ op: "add", path: "/a/5", value: 2 }]],
  ["add with leading-zero index", { a: [1, 2] }, [{ op: "add", path: "/a/01", value: 2 }]],
  ["move from missing", { a: 1 }, [{ op: "move", from: "/b", path: "/c" }]],
  ["move into own child", { a: { b: {} } }, [{ op: "move", from: "/a", path: "/a/b/c" }]],
  ["unknown op", { a: 1 }, [{ op: "frobnicate", path: "/a" }]],
  ["add without value", { a: 1 }, [{ op: "add", path: "/b" }]],
  ["path without slash", { a: 1 }, [{ op: "remove", path: "a" }]],
  ["missing path", { a: 1 }, [{ op: "remove" }]],
];

for (const [name, doc, ops] of failures) {
  Deno.test(`json patch fails to apply: ${name}`, () => {
    assert.throws(
      () => applyJsonPatch(structuredClone(doc), decodeJsonPatch(ops)),
      PatchApplyError,
    );
  });
}

for (const body of [{}, "x", null, [1], [[]], [null]]) {
  Deno.test(`json patch body ${JSON.stringify(body)} is malformed`, () => {
    assert.throws(() => decodeJsonPatch(body), MalformedPatchError);
  });
}
