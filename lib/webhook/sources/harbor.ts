/**
 * Harbor webhooks (goharbor.io "Configure Webhook Notifications"), payload format Default or
 * CloudEvents: `PUSH_ARTIFACT` (`harbor.artifact.pushed`) gives one push per resource with a
 * tag, to the repository of its `resource_url` on the Harbor host that URL names, with the
 * resource's digest, pushed at `occur_at` (CloudEvents: `time`). Resources pushed by digest (Harbor
 * then repeats the digest as `tag`) and every other event type are ignored.
 *
 * @module
 */

import { isObject } from "../../parse/object.ts";
import { object, optionalText, pushOf, shapedObject, splitImage, text, timeOf } from "./fields.ts";
import type { RecordedPush } from "../../image/push.ts";
import type { ParseResult, ReceiveContext } from "./types.ts";

const PUSH_TYPES = new Set(["PUSH_ARTIFACT", "harbor.artifact.pushed"]);

/**
 * Parse a Harbor webhook body.
 *
 * @example
 * ```ts
 * import { parseHarbor } from "./harbor.ts";
 * const ctx = { headers: new Headers(), aliases: new Map(), receivedAt: 0 };
 * parseHarbor({ type: "PUSH_ARTIFACT", occur_at: 1680501893, event_data: {
 *   resources: [{ digest: "sha256:" + "a".repeat(64), tag: "3.8", resource_url: "harbor.example.com/harbor/alpine:3.8" }],
 * } }, ctx);
 * // { pushes: [{ repository: "harbor.example.com/harbor/alpine", tag: "3.8", digest: "sha256:aaa…", ... }], ignored: [] }
 * ```
 */
export function parseHarbor(body: unknown, ctx: ReceiveContext): ParseResult {
  return shapedObject(body, (body) => {
    const type = text(body, "type", "body");
    if (!PUSH_TYPES.has(type)) return { pushes: [], ignored: [`event type ${type}`] };
    const cloudEvent = typeof body.specversion === "string";
    const data = object(body, cloudEvent ? "data" : "event_data", "body");
    const pushedAt = timeOf(cloudEvent ? body.time : body.occur_at, ctx.receivedAt);
    if (!Array.isArray(data.resources)) {
      return { refused: "body event data must hold a resources list" };
    }
    const pushes: RecordedPush[] = [];
    const ignored: string[] = [];
    data.resources.forEach((resource, i) => {
      const where = `resources[${i}]`;
      if (!isObject(resource)) return ignored.push(`${where} is not an object`);
      const url = text(resource, "resource_url", where);
      const tag = optionalText(resource, "tag");
      const digest = optionalText(resource, "digest");
      if (tag === undefined || tag === digest || url.includes("@")) {
        return ignored.push(`${url}: pushed by digest`);
      }
      const { host, path } = splitImage(url, `${where}.resource_url`);
      pushes.push(pushOf(ctx, "harbor", { host, path, tag, digest, pushedAt }));
    });
    return { pushes, ignored };
  });
}
