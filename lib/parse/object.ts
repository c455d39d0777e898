/**
 * Reading untrusted JSON: the text parsed without throwing, and the one test every parser uses
 * before reading fields.
 *
 * @module
 */

/** A JSON object: what `JSON.parse` gives for `{…}`. */
export type JsonObject = Record<string, unknown>;

/**
 * Whether a parsed JSON value is an object (not null, not an array).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isObject } from "./object.ts";
 * assert.equal(isObject({ a: 1 }), true);
 * assert.equal(isObject([1]), false);
 * assert.equal(isObject(null), false);
 * ```
 */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The value of a JSON text, or undefined when it is not JSON (no JSON text means undefined).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJson } from "./object.ts";
 * assert.deepEqual(parseJson('{"a":1}'), { a: 1 });
 * assert.equal(parseJson("{"), undefined);
 * assert.equal(parseJson(""), undefined);
 * ```
 */
export function parseJson(text: string): unknown {
  // Most annotations read are absent: a thrown SyntaxError costs tens of µs (its stack).
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The entries of a per-container JSON annotation (`{"<container>": {…}}`) whose values are
 * objects; none when the text is not a JSON object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { containerEntries } from "./object.ts";
 * assert.deepEqual(containerEntries('{"app":{"image":"a:2"},"bad":1}'), [["app", { image: "a:2" }]]);
 * assert.deepEqual(containerEntries("{"), []);
 * ```
 */
export function containerEntries(text: string): [string, Record<string, unknown>][] {
  const doc = parseJson(text);
  if (!isObject(doc)) return [];
  return Object.entries(doc).filter((e): e is [string, Record<string, unknown>] => isObject(e[1]));
}
