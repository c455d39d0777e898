/**
 * JFrog Artifactory docker webhooks (jfrog.com "Webhooks", domain docker, event `pushed`): a push
 * of `tag` with the digest `sha256:<sha256>` to `<repo_key>/<image_name>` on the Artifactory
 * host of `jpd_origin` (the "repository path" access method). Artifactory sends no push time.
 * A body that is only the event data (as the event reference shows it) is read the same way;
 * then the host must come from `X-Argoos-Registry-Name`. Other event types are ignored.
 *
 * @module
 */

import { isObject } from "../../parse/object.ts";
import { optionalText, pushOf, shapedObject, text } from "./fields.ts";
import type { ParseResult, ReceiveContext } from "./types.ts";

/**
 * Parse an Artifactory docker webhook body.
 *
 * @example
 * ```ts
 * import { parseArtifactory } from "./artifactory.ts";
 * const ctx = { headers: new Headers(), aliases: new Map(), receivedAt: 3 };
 * parseArtifactory({ domain: "docker", event_type: "pushed", jpd_origin: "https://acme.jfrog.io",
 *   data: { repo_key: "docker-local", image_name: "team/app", tag: "1.0" } }, ctx);
 * // { pushes: [{ repository: "acme.jfrog.io/docker-local/team/app", tag: "1.0", pushedAt: 3, ... }], ignored: [] }
 * ```
 */
export function parseArtifactory(body: unknown, ctx: ReceiveContext): ParseResult {
  return shapedObject(body, (body) => {
    const data = isObject(body.data) ? body.data : body;
    const event = text(data, "event_type", isObject(body.data) ? "body.data" : "body");
    if (event !== "pushed") return { pushes: [], ignored: [`event ${event}`] };
    const where = isObject(body.data) ? "body.data" : "body";
    const path = `${text(data, "repo_key", where)}/${text(data, "image_name", where)}`;
    const tag = optionalText(data, "tag");
    if (tag === undefined) return { pushes: [], ignored: [`${path}: push without a tag`] };
    const origin = optionalText(body, "jpd_origin");
    let host: string;
    try {
      host = origin ? new URL(origin).host : "";
    } catch {
      return { refused: `body.jpd_origin "${origin}" is not a URL` };
    }
    if (!host && !ctx.headers.get("x-argoos-registry-name")) {
      return { refused: "no jpd_origin in the body: send X-Argoos-Registry-Name" };
    }
    const sha = optionalText(data, "sha256");
    const digest = sha === undefined ? undefined : `sha256:${sha}`;
    return {
      pushes: [
        pushOf(ctx, "artifactory", {
          host: host || "artifactory",
          path,
          tag,
          digest,
          pushedAt: ctx.receivedAt,
        }),
      ],
      ignored: [],
    };
  });
}
