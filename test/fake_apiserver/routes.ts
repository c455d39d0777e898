/**
 * Mapping a request path onto a resource type, namespace, name and subresource.
 *
 * @module
 */

import { type ApiResource, findByPath } from "./resources.ts";

/** What a resource path addresses. */
export interface Route {
  type: ApiResource;
  /** Set for namespaced paths; undefined for all-namespace collections and cluster-scoped kinds. */
  namespace?: string;
  /** Set when one object is addressed. */
  name?: string;
  /** `status` for the status subresource. */
  subresource?: "status";
  /** The deprecated `/watch/` path form was used. */
  watch: boolean;
}

/**
 * Parse `/api/v1/...` or `/apis/<group>/<version>/...`; undefined when nothing is served there.
 *
 * @example
 * ```ts
 * import { parseRoute } from "./routes.ts";
 * parseRoute("/apis/apps/v1/namespaces/default/deployments/web")?.name; // "web"
 * parseRoute("/apis/apps/v1/deployments")?.namespace; // undefined
 * ```
 */
export function parseRoute(pathname: string): Route | undefined {
  let segments: string[];
  try {
    segments = pathname.split("/").slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  let group: string;
  let rest: string[];
  if (segments[0] === "api" && segments.length >= 3) {
    group = "";
    rest = segments.slice(1);
  } else if (segments[0] === "apis" && segments.length >= 4) {
    group = segments[1];
    rest = segments.slice(2);
  } else {
    return undefined;
  }
  const [version, ...path] = rest;
  const watch = path[0] === "watch";
  if (watch) path.shift();
  if (path[0] === "namespaces" && path.length >= 3) {
    const type = findByPath(group, version, path[2]);
    if (type?.namespaced) return objectRoute(type, path[1], path.slice(3), watch);
  }
  const type = findByPath(group, version, path[0]);
  if (!type) return undefined;
  if (type.namespaced && path.length > 1) return undefined;
  return objectRoute(type, undefined, path.slice(1), watch);
}

function objectRoute(
  type: ApiResource,
  namespace: string | undefined,
  rest: string[],
  watch: boolean,
): Route | undefined {
  if (rest.length === 0) return { type, namespace, watch };
  if (rest[0] === "" || rest.length > 2) return undefined;
  if (rest.length === 2 && (rest[1] !== "status" || !type.statusSubresource || watch)) {
    return undefined;
  }
  return { type, namespace, name: rest[0], subresource: rest[1] ? "status" : undefined, watch };
}
