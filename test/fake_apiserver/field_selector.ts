/**
 * Field selector strings (`?fieldSelector=`): parsing, and reading the
 * selectable fields of an object.
 *
 * @module
 */

import type { ApiResource } from "./resources.ts";
import { isJsonObject, type JsonObject } from "./json_value.ts";
import { SelectorError } from "./label_selector.ts";

/** One parsed `field=value` or `field!=value` term. */
export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

const TERM_RE = /^([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*)$/;

/**
 * Parse a selector and check every field is selectable on `type`.
 *
 * @example
 * ```ts
 * import { parseFieldSelector } from "./field_selector.ts";
 * import { findByKind } from "./resources.ts";
 * parseFieldSelector("metadata.name=web", findByKind("apps/v1", "Deployment")!);
 * // [{ field: "metadata.name", op: "=", value: "web" }]
 * ```
 */
export function parseFieldSelector(selector: string, type: ApiResource): FieldRequirement[] {
  if (selector.trim() === "") return [];
  return selector.split(",").map((term) => {
    const m = TERM_RE.exec(term.trim());
    if (!m) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = m[1];
    if (
      field !== "metadata.name" && field !== "metadata.namespace" && !type.fields.includes(field)
    ) {
      throw new SelectorError(`field label not supported: ${field}`);
    }
    return { field, op: m[2] === "!=" ? "!=" : "=", value: m[3].trim() };
  });
}

/**
 * Whether an object satisfies every term; absent fields read as `""`.
 *
 * @example
 * ```ts
 * import { matchFields } from "./field_selector.ts";
 * matchFields([{ field: "metadata.name", op: "=", value: "web" }], { metadata: { name: "web" } }); // true
 * ```
 */
export function matchFields(requirements: readonly FieldRequirement[], obj: JsonObject): boolean {
  return requirements.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === "="));
}

function fieldValue(obj: JsonObject, path: string): string {
  let cur: unknown = obj;
  for (const key of path.split(".")) cur = isJsonObject(cur) ? cur[key] : undefined;
  return cur === undefined || cur === null ? "" : String(cur);
}
