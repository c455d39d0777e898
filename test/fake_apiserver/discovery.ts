/**
 * The unauthenticated `/version` and health endpoints, and minimal discovery
 * documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`).
 *
 * @module
 */

import { apiVersionOf } from "../../lib/kube/resource.ts";
import { API_RESOURCES } from "./resources.ts";
import type { JsonObject } from "./json_value.ts";

const VERSION = {
  major: "1",
  minor: "31",
  gitVersion: "v1.31.0",
  gitCommit: "fake",
  gitTreeState: "clean",
  buildDate: "2024-08-13T07:28:49Z",
  goVersion: "go1.22.5",
  compiler: "gc",
  platform: "linux/amd64",
};

/**
 * Whether a path is served without authentication (like the
 * `system:public-info-viewer` role allows).
 *
 * @example
 * ```ts
 * import { isPublicPath } from "./discovery.ts";
 * isPublicPath("/healthz"); // true
 * ```
 */
export function isPublicPath(pathname: string): boolean {
  return ["/version", "/healthz", "/livez", "/readyz"].includes(pathname);
}

/**
 * The body for a discovery, version or health path; undefined for other paths.
 *
 * @example
 * ```ts
 * import { discoveryDocument } from "./discovery.ts";
 * (discoveryDocument("/api") as { versions: string[] }).versions; // ["v1"]
 * ```
 */
export function discoveryDocument(pathname: string): JsonObject | string | undefined {
  if (pathname === "/version") return VERSION;
  if (pathname === "/healthz" || pathname === "/livez" || pathname === "/readyz") return "ok";
  if (pathname === "/api") {
    return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] };
  }
  if (pathname === "/apis") return groupList();
  const m = /^\/(?:api|apis\/([^/]+))\/([^/]+)$/.exec(pathname);
  if (!m) return undefined;
  const groupVersion = m[1] ? `${m[1]}/${m[2]}` : m[2];
  const resources = API_RESOURCES.filter((r) => apiVersionOf(r) === groupVersion);
  if (resources.length === 0) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion,
    resources: resources.flatMap((r) => [
      {
        name: r.resource,
        singularName: r.kind.toLowerCase(),
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
      },
      ...(r.statusSubresource
        ? [{
          name: `${r.resource}/status`,
          singularName: "",
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ["get", "patch", "update"],
        }]
        : []),
    ]),
  };
}

function groupList(): JsonObject {
  const groups = [...new Set(API_RESOURCES.filter((r) => r.group).map((r) => r.group))];
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: groups.map((name) => {
      const version = { groupVersion: `${name}/v1`, version: "v1" };
      return { name, versions: [version], preferredVersion: version };
    }),
  };
}
