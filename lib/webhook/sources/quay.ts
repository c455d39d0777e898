/**
 * Quay `repo_push` notifications (Red Hat Quay "Repository Notifications", Repository Push): one
 * push per tag of `updated_tags` to the repository `docker_url` names (its host is quay.io or
 * the Quay instance's own). No digest and no push time are sent: the time received stands in.
 * Older Quay sent `updated_tags` as an object (tag to image id); its keys are the tags.
 *
 * @module
 */

import { isObject } from "../../parse/object.ts";
import { pushOf, shapedObject, splitHost, text } from "./fields.ts";
import type { ParseResult, ReceiveContext } from "./types.ts";

/**
 * Parse a Quay repository push notification body.
 *
 * @example
 * ```ts
 * import { parseQuay } from "./quay.ts";
 * const ctx = { headers: new Headers(), aliases: new Map(), receivedAt: 5 };
 * parseQuay({ docker_url: "quay.io/dgangaia/test", repository: "dgangaia/test", updated_tags: ["latest"] }, ctx);
 * // { pushes: [{ repository: "quay.io/dgangaia/test", tag: "latest", pushedAt: 5, source: "quay" }], ignored: [] }
 * ```
 */
export function parseQuay(body: unknown, ctx: ReceiveContext): ParseResult {
  return shapedObject(body, (body) => {
    const { host, path } = splitHost(text(body, "docker_url", "body"), "body.docker_url");
    const updated = body.updated_tags;
    const tags = Array.isArray(updated) ? updated : isObject(updated) ? Object.keys(updated) : null;
    if (tags === null || !tags.every((t) => typeof t === "string")) {
      return { refused: "body.updated_tags must be a list of tags" };
    }
    const pushes = tags.map((tag) =>
      pushOf(ctx, "quay", { host, path, tag, pushedAt: ctx.receivedAt })
    );
    return { pushes, ignored: pushes.length ? [] : [`${path}: push without tags`] };
  });
}
