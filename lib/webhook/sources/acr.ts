/**
 * Azure Container Registry webhooks (learn.microsoft.com "Azure Container Registry webhook
 * reference", push event): action `push` gives a push of `target.tag` with `target.digest` to
 * `target.repository` on `request.host` (`<name>.azurecr.io`), at `timestamp`. Pushes without a
 * tag and the other actions (`delete`, `chart_push`, `quarantine`, ...) are ignored.
 *
 * @module
 */

import { object, optionalText, pushOf, shapedObject, text, timeOf } from "./fields.ts";
import type { ParseResult, ReceiveContext } from "./types.ts";

/**
 * Parse an ACR webhook body.
 *
 * @example
 * ```ts
 * import { parseAcr } from "./acr.ts";
 * const ctx = { headers: new Headers(), aliases: new Map(), receivedAt: 0 };
 * parseAcr({ action: "push", timestamp: "2017-11-17T16:52:01Z",
 *   target: { repository: "hello-world", tag: "v1", digest: "sha256:" + "a".repeat(64) },
 *   request: { host: "myregistry.azurecr.io" } }, ctx);
 * // { pushes: [{ repository: "myregistry.azurecr.io/hello-world", tag: "v1", ... }], ignored: [] }
 * ```
 */
export function parseAcr(body: unknown, ctx: ReceiveContext): ParseResult {
  return shapedObject(body, (body) => {
    const action = text(body, "action", "body");
    if (action !== "push") return { pushes: [], ignored: [`action ${action}`] };
    const target = object(body, "target", "body");
    const host = text(object(body, "request", "body"), "host", "body.request");
    const path = text(target, "repository", "body.target");
    const tag = optionalText(target, "tag");
    if (tag === undefined) return { pushes: [], ignored: [`${path}: push by digest`] };
    const digest = optionalText(target, "digest");
    const pushedAt = timeOf(body.timestamp, ctx.receivedAt);
    return { pushes: [pushOf(ctx, "acr", { host, path, tag, digest, pushedAt })], ignored: [] };
  });
}
