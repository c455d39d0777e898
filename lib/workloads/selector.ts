/**
 * A `metav1.LabelSelector` (`matchLabels` + `matchExpressions`) written as the label selector
 * string the API accepts in `?labelSelector=`.
 *
 * @module
 */

/** `metav1.LabelSelector` as it appears in a workload spec. */
export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * The selector string for `?labelSelector=`: `k=v` for matchLabels; `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k` for the In, NotIn, Exists and DoesNotExist expressions. An empty
 * or absent selector gives `""` (everything). An operator the API does not define throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelSelectorString } from "./selector.ts";
 * assert.equal(
 *   labelSelectorString({
 *     matchLabels: { app: "web" },
 *     matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }],
 *   }),
 *   "app=web,tier in (a,b)",
 * );
 * ```
 */
export function labelSelectorString(selector: LabelSelectorSpec | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const { key, operator, values = [] } of selector?.matchExpressions ?? []) {
    switch (operator) {
      case "In":
        parts.push(`${key} in (${values.join(",")})`);
        break;
      case "NotIn":
        parts.push(`${key} notin (${values.join(",")})`);
        break;
      case "Exists":
        parts.push(key);
        break;
      case "DoesNotExist":
        parts.push(`!${key}`);
        break;
      default:
        throw new Error(`label selector: unknown operator ${operator} for key ${key}`);
    }
  }
  return parts.join(",");
}
