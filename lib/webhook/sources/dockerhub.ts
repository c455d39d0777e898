/**
 * Docker Hub repository webhooks (docs.docker.com/docker-hub/repos/manage/webhooks): one push
 * per delivery, `push_data.tag` to `repository.repo_name` on `docker.io`, pushed at
 * `push_data.pushed_at` (epoch seconds). No digest is sent. A delivery without a tag is ignored.
 *
 * @module
 */

import { object, optionalText, pushOf, shaped, text, timeOf } from "./fields.ts";
import type { ParseResult, ReceiveContext } from "./types.ts";

/**
 * Parse a Docker Hub webhook body.
 *
 * @example
 * ```ts
 * import { parseDockerHub } from "./dockerhub.ts";
 * const ctx = { headers: new Headers(), aliases: new Map(), receivedAt: 0 };
 * parseDockerHub({
 *   push_data: { pushed_at: 1417566161, tag: "latest" },
 *   repository: { repo_name: "svendowideit/testhook" },
 * }, ctx);
 * // { pushes: [{ repository: "docker.io/svendowideit/testhook", tag: "latest", ... }], ignored: [] }
 * ```
 */
export function parseDockerHub(body: unknown, ctx: ReceiveContext): ParseResult {
  return shaped(() => {
    const pushData = object(body, "push_data", "body");
    const repository = object(body, "repository", "body");
    const path = text(repository, "repo_name", "body.repository");
    const tag = optionalText(pushData, "tag");
    if (tag === undefined) return { pushes: [], ignored: [`${path}: push without a tag`] };
    const pushedAt = timeOf(pushData.pushed_at, ctx.receivedAt);
    return {
      pushes: [pushOf(ctx, "dockerhub", { host: "docker.io", path, tag, pushedAt })],
      ignored: [],
    };
  });
}
