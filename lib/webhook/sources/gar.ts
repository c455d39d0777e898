/**
 * Google Artifact Registry (and Container Registry) notifications (cloud.google.com
 * "Configuring Pub/Sub notifications", topic `gcr`), delivered by a Pub/Sub push subscription
 * (cloud.google.com "Push subscriptions", wrapped JSON): `message.data` is the base64 of
 * `{action, digest, tag}`. An `INSERT` with a `tag` (`<host>/<project>/<repo>/<image>:<tag>`)
 * gives a push of that tag, with the digest of `digest`, on the host the tag names, at the
 * message's `publishTime`. `DELETE`s and untagged inserts are ignored; Pub/Sub takes any 2xx as
 * the acknowledgement.
 *
 * @module
 */

import { isObject } from "../../parse/object.ts";
import {
  object,
  optionalText,
  pushOf,
  shaped,
  ShapeError,
  splitHost,
  text,
  timeOf,
} from "./fields.ts";
import type { ParseResult, ReceiveContext } from "./types.ts";

function decodeData(data: string): unknown {
  try {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new ShapeError("body.message.data is not base64 of a JSON notification");
  }
}

/**
 * Parse a Pub/Sub push delivery of an Artifact Registry notification.
 *
 * @example
 * ```ts
 * import { parseGar } from "./gar.ts";
 * const ctx = { headers: new Headers(), aliases: new Map(), receivedAt: 0 };
 * const note = { action: "INSERT", tag: "us-east1-docker.pkg.dev/my-project/my-repo/hello-world:1.1" };
 * parseGar({ message: { data: btoa(JSON.stringify(note)), messageId: "1" }, subscription: "s" }, ctx);
 * // { pushes: [{ repository: "us-east1-docker.pkg.dev/my-project/my-repo/hello-world", tag: "1.1", ... }], ignored: [] }
 * ```
 */
export function parseGar(body: unknown, ctx: ReceiveContext): ParseResult {
  return shaped(() => {
    const message = object(body, "message", "body");
    const note = decodeData(text(message, "data", "body.message"));
    if (!isObject(note)) return { refused: "body.message.data must hold a JSON object" };
    const action = text(note, "action", "notification");
    const tagged = optionalText(note, "tag");
    if (action !== "INSERT") return { pushes: [], ignored: [`action ${action}`] };
    if (tagged === undefined) {
      return { pushes: [], ignored: [`${optionalText(note, "digest") ?? "image"}: untagged`] };
    }
    const colon = tagged.lastIndexOf(":");
    if (colon <= tagged.lastIndexOf("/")) {
      return { refused: `notification tag "${tagged}" has no tag` };
    }
    const { host, path } = splitHost(tagged.slice(0, colon), "notification.tag");
    const digestRef = optionalText(note, "digest");
    const digest = digestRef?.includes("@")
      ? digestRef.slice(digestRef.indexOf("@") + 1)
      : undefined;
    const pushedAt = timeOf(message.publishTime, ctx.receivedAt);
    return {
      pushes: [pushOf(ctx, "gar", { host, path, tag: tagged.slice(colon + 1), digest, pushedAt })],
      ignored: [],
    };
  });
}
