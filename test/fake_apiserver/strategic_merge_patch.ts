/**
 * An approximation of Kubernetes strategic merge patch
 * (`application/strategic-merge-patch+json`).
 *
 * The real server reads per-field merge keys from the Go types. This fake
 * uses one rule instead: a list is merged by `name` when every item on both
 * sides is an object with a string `name` (containers, env, volumes,
 * volumeMounts, imagePullSecrets...); an item `{"name": x, "$patch": "delete"}`
 * removes x. Every other list is replaced, `null` deletes a member, an object
 * with `"$patch": "replace"` replaces instead of merging, and other `$`
 * directives (`$setElementOrder/...`, `$retainKeys`) are ignored.
 *
 * @module
 */

import { isJsonObject, type JsonObject } from "./json_value.ts";

/**
 * Apply a strategic merge patch without modifying `target` or `patch`.
 *
 * @example
 * ```ts
 * import { applyStrategicMergePatch } from "./strategic_merge_patch.ts";
 * applyStrategicMergePatch(
 *   { containers: [{ name: "app", image: "a:1" }, { name: "side", image: "s:1" }] },
 *   { containers: [{ name: "app", image: "a:2" }] },
 * ); // { containers: [{ name: "app", image: "a:2" }, { name: "side", image: "s:1" }] }
 * ```
 */
export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (Array.isArray(patch) && Array.isArray(target) && isNamedList(patch) && isNamedList(target)) {
    return mergeByName(target, patch);
  }
  if (!isJsonObject(patch)) return patch;
  if (patch.$patch === "replace") return withoutDirectives(patch);
  const result: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith("$")) continue;
    if (value === null) delete result[key];
    else result[key] = applyStrategicMergePatch(result[key], value);
  }
  return result;
}

function isNamedList(list: unknown[]): list is JsonObject[] {
  return list.every((item) => isJsonObject(item) && typeof item.name === "string");
}

function mergeByName(target: JsonObject[], patch: JsonObject[]): JsonObject[] {
  const result = [...target];
  for (const item of patch) {
    const at = result.findIndex((t) => t.name === item.name);
    if (item.$patch === "delete") {
      if (at >= 0) result.splice(at, 1);
    } else if (at >= 0) {
      result[at] = applyStrategicMergePatch(result[at], item) as JsonObject;
    } else {
      result.push(withoutDirectives(item));
    }
  }
  return result;
}

function withoutDirectives(obj: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !k.startsWith("$")));
}
