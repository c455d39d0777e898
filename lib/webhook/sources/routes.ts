/**
 * Every webhook route as data: its path, how its sender authenticates and which receiver reads
 * its body, so the server mounts them all with one loop and logs them with tokens redacted.
 *
 * @module
 */

import { parseAcr } from "./acr.ts";
import { parseArtifactory } from "./artifactory.ts";
import { parseDistribution } from "./distribution.ts";
import { parseDockerHub } from "./dockerhub.ts";
import { parseEcr } from "./ecr.ts";
import { parseGar } from "./gar.ts";
import { parseGitHub } from "./github.ts";
import { parseHarbor } from "./harbor.ts";
import { parseQuay } from "./quay.ts";
import type { Parser } from "./types.ts";

/**
 * Where a route's sender puts the token.
 *
 * @example
 * ```ts
 * import type { AuthKind } from "./routes.ts";
 * const kind: AuthKind = "path-token";
 * ```
 */
export type AuthKind = "path-token" | "header-token" | "authorization" | "github-signature";

/**
 * One webhook route.
 *
 * @example
 * ```ts
 * import { RECEIVER_ROUTES, type ReceiverRoute } from "./routes.ts";
 * const quay: ReceiverRoute = RECEIVER_ROUTES.find((r) => r.source === "quay")!;
 * quay.path; // "/event/quay"
 * ```
 */
export interface ReceiverRoute {
  /** Source name: the `source` of its pushes and the `route` label of its metrics. */
  source: string;
  /** `POST` path; `path-token` routes take one more segment, the token. */
  path: string;
  /** How the sender proves it knows the token. */
  auth: AuthKind;
  /** The receiver of its bodies. */
  parse: Parser;
}

/** The routes, `POST /event` first. */
export const RECEIVER_ROUTES: readonly ReceiverRoute[] = [
  { source: "distribution", path: "/event", auth: "header-token", parse: parseDistribution },
  { source: "dockerhub", path: "/event/dockerhub", auth: "path-token", parse: parseDockerHub },
  { source: "quay", path: "/event/quay", auth: "path-token", parse: parseQuay },
  { source: "harbor", path: "/event/harbor", auth: "authorization", parse: parseHarbor },
  { source: "github", path: "/event/github", auth: "github-signature", parse: parseGitHub },
  { source: "acr", path: "/event/acr", auth: "header-token", parse: parseAcr },
  { source: "ecr", path: "/event/ecr", auth: "header-token", parse: parseEcr },
  { source: "gar", path: "/event/gar", auth: "path-token", parse: parseGar },
  {
    source: "artifactory",
    path: "/event/artifactory",
    auth: "header-token",
    parse: parseArtifactory,
  },
];

/**
 * The route a request path names, with the token segment of a `path-token` route (decoded);
 * undefined for any other path (a `path-token` route without its token included).
 *
 * @example
 * ```ts
 * import { matchRoute } from "./routes.ts";
 * matchRoute("/event/dockerhub/s3cret")?.pathToken; // "s3cret"
 * matchRoute("/event/dockerhub"); // undefined
 * matchRoute("/event")?.route.source; // "distribution"
 * ```
 */
export function matchRoute(
  pathname: string,
): { route: ReceiverRoute; pathToken?: string } | undefined {
  for (const route of RECEIVER_ROUTES) {
    if (route.auth !== "path-token") {
      if (pathname === route.path) return { route };
      continue;
    }
    const rest = pathname.startsWith(`${route.path}/`) ? pathname.slice(route.path.length + 1) : "";
    if (rest === "" || rest.includes("/")) continue;
    try {
      return { route, pathToken: decodeURIComponent(rest) };
    } catch {
      return { route, pathToken: rest };
    }
  }
  return undefined;
}

/**
 * The path as it may be logged: everything after a token-in-path route's own path replaced,
 * whatever follows it (a token, a token and more segments, an encoded slash), so no log line
 * holds a token.
 * Every log line that names a request path writes it through this.
 *
 * @example
 * ```ts
 * import { redactPath } from "./routes.ts";
 * redactPath("/event/dockerhub/s3cret"); // "/event/dockerhub/<redacted>"
 * redactPath("/event/gar/s3cret/extra"); // "/event/gar/<redacted>"
 * redactPath("/event/harbor"); // "/event/harbor"
 * ```
 */
export function redactPath(pathname: string): string {
  for (const route of RECEIVER_ROUTES) {
    // Any suffix: `/event/gar%2Fs3cret` carries a token too.
    const suffix = pathname.length > route.path.length && pathname.startsWith(route.path);
    if (route.auth === "path-token" && suffix) {
      return `${route.path}/<redacted>`;
    }
  }
  return pathname;
}
