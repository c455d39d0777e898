/**
 * Which objects a list or watch request selects: namespace, label and field selectors.
 *
 * @module
 */

import type { JsonObject } from "./json_value.ts";
import { type LabelRequirement, matchLabels, parseLabelSelector } from "./label_selector.ts";
import { type FieldRequirement, matchFields, parseFieldSelector } from "./field_selector.ts";
import type { ApiResource } from "./resources.ts";

/** The parsed selection of a request. */
export interface Selection {
  type: ApiResource;
  /** Only this namespace; all when undefined. */
  namespace?: string;
  labels: readonly LabelRequirement[];
  fields: readonly FieldRequirement[];
}

/**
 * Parse `labelSelector` and `fieldSelector`; throws SelectorError when malformed.
 *
 * @example
 * ```ts
 * import { parseSelection } from "./selection.ts";
 * import { findByKind } from "./resources.ts";
 * const q = new URLSearchParams("labelSelector=app%3Dweb");
 * parseSelection(findByKind("apps/v1", "Deployment")!, "default", q).labels.length; // 1
 * ```
 */
export function parseSelection(
  type: ApiResource,
  namespace: string | undefined,
  query: URLSearchParams,
): Selection {
  return {
    type,
    namespace,
    labels: parseLabelSelector(query.get("labelSelector") ?? ""),
    fields: parseFieldSelector(query.get("fieldSelector") ?? "", type),
  };
}

/**
 * Whether the selection includes `obj`.
 *
 * @example
 * ```ts
 * import { selects } from "./selection.ts";
 * import { findByKind } from "./resources.ts";
 * const type = findByKind("v1", "Pod")!;
 * selects({ type, labels: [], fields: [] }, { metadata: { name: "p" } }); // true
 * ```
 */
export function selects(selection: Selection, obj: JsonObject): boolean {
  const meta = obj.metadata as JsonObject;
  return (selection.namespace === undefined || meta.namespace === selection.namespace) &&
    matchLabels(selection.labels, meta.labels as Record<string, string> | undefined) &&
    matchFields(selection.fields, obj);
}
