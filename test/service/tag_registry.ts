/**
 * A stub registry on 127.0.0.1 that lists fixed tags per repository and answers manifest
 * HEADs and GETs (an image manifest) with a digest derived from repository and tag, counting
 * what it was asked.
 *
 * @module
 */

import { type SeenRequest, startStub, type Stub } from "../registry/stub_registry.ts";

/**
 * The digest the stub reports for `repository:tag`: stable, and different per tag.
 *
 * @example
 * ```ts
 * import { digestOf } from "./tag_registry.ts";
 * (await digestOf("myapp", "1.2.3")).startsWith("sha256:"); // true
 * ```
 */
export async function digestOf(repository: string, tag: string): Promise<string> {
  const hash = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${repository}:${tag}`),
  );
  return `sha256:${
    Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("")
  }`;
}

/** A running tag registry. */
export interface TagRegistry extends Stub {
  /** How many tags listings of `repository` were answered. */
  listings(repository: string): number;
}

/** An image manifest, for a GET (its digest header is the stub's, not the body's hash). */
const IMAGE_MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {
    mediaType: "application/vnd.oci.image.config.v1+json",
    digest: `sha256:${"0".repeat(64)}`,
    size: 2,
  },
  layers: [],
});

const notFound = (code: string) =>
  Response.json({ errors: [{ code, message: code.toLowerCase() }] }, { status: 404 });

/**
 * Start the stub; `tags` maps repository paths (`team/app`) to the tags it lists.
 *
 * @example
 * ```ts
 * import { startTagRegistry } from "./tag_registry.ts";
 * const reg = startTagRegistry({ myapp: ["1.2.3", "1.2.4"] });
 * const res = await fetch(`${reg.origin}/v2/myapp/tags/list`);
 * (await res.json()).tags; // ["1.2.3", "1.2.4"]
 * await reg.close();
 * ```
 */
export function startTagRegistry(tags: Record<string, string[]>): TagRegistry {
  const stub = startStub(async (req: SeenRequest) => {
    const path = req.url.pathname;
    if (path === "/v2/") return Response.json({});
    const list = /^\/v2\/(.+)\/tags\/list$/.exec(path);
    if (list && req.method === "GET") {
      const repo = list[1];
      return tags[repo]
        ? Response.json({ name: repo, tags: tags[repo] })
        : notFound("NAME_UNKNOWN");
    }
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    if (manifest && tags[manifest[1]]?.includes(manifest[2])) {
      return new Response(req.method === "HEAD" ? null : IMAGE_MANIFEST, {
        headers: {
          "docker-content-digest": await digestOf(manifest[1], manifest[2]),
          "content-type": "application/vnd.oci.image.manifest.v1+json",
        },
      });
    }
    return notFound("MANIFEST_UNKNOWN");
  });
  return {
    ...stub,
    listings: (repository) =>
      stub.requests.filter((r) => r.url.pathname === `/v2/${repository}/tags/list`).length,
  };
}
