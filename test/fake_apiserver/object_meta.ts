/**
 * The server-owned parts of an object: kind/apiVersion, uid,
 * creationTimestamp, generation, and status for types with a status
 * subresource. resourceVersion is left to the store.
 *
 * @module
 */

import { apiVersionOf } from "../../lib/kube/resource.ts";
import type { ApiResource } from "./resources.ts";
import { deepEqual, isJsonObject, type JsonObject } from "./json_value.ts";

/** How much of the incoming object the server trusts. */
export interface SystemFieldOptions {
  /** Seeding through `put`: keep an explicit uid, creationTimestamp and generation. */
  seeding?: boolean;
  /** Keep the stored status, as writes to the main resource of a status-subresource type do. */
  keepStatus?: boolean;
}

/**
 * `obj` with server-owned fields set: kept from `previous` when replacing,
 * freshly made when creating. Objects with a `spec` get a generation that
 * starts at 1 and grows whenever `spec` changes.
 *
 * @example
 * ```ts
 * import { withSystemFields } from "./object_meta.ts";
 * import { findByKind } from "./resources.ts";
 * const type = findByKind("apps/v1", "Deployment")!;
 * const created = withSystemFields(type, undefined, { metadata: { name: "web" }, spec: {} });
 * (created.metadata as { generation: number }).generation; // 1
 * ```
 */
export function withSystemFields(
  type: ApiResource,
  previous: JsonObject | undefined,
  obj: JsonObject,
  options: SystemFieldOptions = {},
): JsonObject {
  const prevMeta = (previous?.metadata ?? {}) as JsonObject;
  const meta: JsonObject = { ...(isJsonObject(obj.metadata) ? obj.metadata : {}) };
  delete meta.resourceVersion;
  const given = options.seeding ? meta : {};
  meta.uid = given.uid ?? prevMeta.uid ?? crypto.randomUUID();
  meta.creationTimestamp = given.creationTimestamp ?? prevMeta.creationTimestamp ?? now();
  if (given.generation === undefined) {
    const generation = nextGeneration(previous, obj);
    if (generation === undefined) delete meta.generation;
    else meta.generation = generation;
  }
  const result: JsonObject = {
    kind: type.kind,
    apiVersion: apiVersionOf(type),
    metadata: meta,
    ...obj,
  };
  result.kind = type.kind;
  result.apiVersion = apiVersionOf(type);
  result.metadata = meta;
  if (options.keepStatus && type.statusSubresource) {
    if (previous?.status === undefined) delete result.status;
    else result.status = previous.status;
  }
  return result;
}

/**
 * Whether two versions of an object differ in anything but resourceVersion;
 * the real server skips writes (no new resourceVersion, no event) when not.
 *
 * @example
 * ```ts
 * import { sameContent } from "./object_meta.ts";
 * sameContent({ metadata: { resourceVersion: "1" } }, { metadata: { resourceVersion: "2" } }); // true
 * ```
 */
export function sameContent(a: JsonObject, b: JsonObject): boolean {
  const strip = (o: JsonObject) => ({
    ...o,
    metadata: { ...o.metadata as JsonObject, resourceVersion: undefined },
  });
  return deepEqual(strip(a), strip(b));
}

function nextGeneration(previous: JsonObject | undefined, obj: JsonObject): number | undefined {
  if (!("spec" in obj)) return undefined;
  const prevGeneration = (previous?.metadata as JsonObject | undefined)?.generation;
  if (typeof prevGeneration !== "number") return 1;
  return deepEqual(previous?.spec, obj.spec) ? prevGeneration : prevGeneration + 1;
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}
