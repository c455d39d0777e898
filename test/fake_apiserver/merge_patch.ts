/**
 * RFC 7386 JSON Merge Patch (`application/merge-patch+json`).
 *
 * @module
 */

import { isJsonObject, type JsonObject } from "./json_value.ts";

/**
 * Merge `patch` into `target` without modifying either: `null` deletes a
 * member, objects merge recursively, anything else (arrays too) replaces.
 * Untouched subtrees of `target` are shared with the result.
 *
 * @example
 * ```ts
 * import { applyMergePatch } from "./merge_patch.ts";
 * applyMergePatch({ a: 1, b: { c: 2 } }, { a: null, b: { d: 3 } }); // { b: { c: 2, d: 3 } }
 * ```
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch;
  const result: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
