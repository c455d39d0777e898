/**
 * Amazon ECR "ECR Image Action" events (docs.aws.amazon.com "Amazon ECR events and
 * EventBridge"), delivered whole by an EventBridge API destination: a `PUSH` with result
 * `SUCCESS` and an `image-tag` gives a push of that tag with `image-digest` to
 * `repository-name` on `<account>.dkr.ecr.<region>.amazonaws.com`, at the event's `time`.
 * Failed pushes, deletes, pushes without a tag and other event types are ignored.
 *
 * @module
 */

import { object, optionalText, pushOf, shapedObject, text, timeOf } from "./fields.ts";
import type { ParseResult, ReceiveContext } from "./types.ts";

/**
 * Parse an EventBridge event for ECR.
 *
 * @example
 * ```ts
 * import { parseEcr } from "./ecr.ts";
 * const ctx = { headers: new Headers(), aliases: new Map(), receivedAt: 0 };
 * parseEcr({ "detail-type": "ECR Image Action", source: "aws.ecr", account: "123456789012",
 *   region: "us-west-2", time: "2019-11-16T01:54:34Z", detail: { result: "SUCCESS",
 *   "action-type": "PUSH", "repository-name": "my-repository-name", "image-tag": "latest" } }, ctx);
 * // { pushes: [{ repository: "123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name", ... }], ignored: [] }
 * ```
 */
export function parseEcr(body: unknown, ctx: ReceiveContext): ParseResult {
  return shapedObject(body, (body) => {
    const type = text(body, "detail-type", "body");
    if (type !== "ECR Image Action") return { pushes: [], ignored: [`event ${type}`] };
    const detail = object(body, "detail", "body");
    const action = text(detail, "action-type", "body.detail");
    const result = text(detail, "result", "body.detail");
    const path = text(detail, "repository-name", "body.detail");
    if (action !== "PUSH" || result !== "SUCCESS") {
      return { pushes: [], ignored: [`${path}: ${action} ${result}`] };
    }
    const tag = optionalText(detail, "image-tag");
    if (tag === undefined) return { pushes: [], ignored: [`${path}: push by digest`] };
    const account = text(body, "account", "body");
    const region = text(body, "region", "body");
    if (!/^\d{12}$/.test(account) || !/^[a-z0-9-]+$/.test(region)) {
      return { refused: `body account "${account}" / region "${region}" name no ECR registry` };
    }
    const host = `${account}.dkr.ecr.${region}.amazonaws.com`;
    const digest = optionalText(detail, "image-digest");
    const pushedAt = timeOf(body.time, ctx.receivedAt);
    return { pushes: [pushOf(ctx, "ecr", { host, path, tag, digest, pushedAt })], ignored: [] };
  });
}
