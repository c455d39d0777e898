/**
 * GitHub `package` and `registry_package` webhook events (docs.github.com "Webhook events and
 * payloads"), action `published`, for container packages on `ghcr.io`: one push of
 * `package_version.container_metadata.tag.name` with its digest, to the repository
 * `package_version.package_url` names (else `ghcr.io/<namespace>/<name>`). The `ping` event is
 * answered; other events, actions, package types and untagged versions are ignored.
 *
 * @module
 */

import { isObject } from "../../parse/object.ts";
import { object, optionalText, pushOf, shaped, splitImage, text, timeOf } from "./fields.ts";
import type { ParseResult, ReceiveContext } from "./types.ts";

const PACKAGE_EVENTS = new Set(["package", "registry_package"]);

/**
 * Parse a GitHub webhook body; the event name comes from the `X-GitHub-Event` header.
 *
 * @example
 * ```ts
 * import { parseGitHub } from "./github.ts";
 * const ctx = { headers: new Headers({ "x-github-event": "ping" }), aliases: new Map(), receivedAt: 0 };
 * parseGitHub({ zen: "Keep it logically awesome." }, ctx); // { ping: true }
 * ```
 */
export function parseGitHub(body: unknown, ctx: ReceiveContext): ParseResult {
  return shaped(() => {
    const event = ctx.headers.get("x-github-event") ?? "";
    if (event === "ping") return { ping: true };
    if (!PACKAGE_EVENTS.has(event)) return { pushes: [], ignored: [`event ${event || "unnamed"}`] };
    if (!isObject(body)) return { refused: "body must be a JSON object" };
    const action = text(body, "action", "body");
    if (action !== "published") return { pushes: [], ignored: [`${event} ${action}`] };
    const pkg = object(body, event, "body");
    const type = text(pkg, "package_type", `body.${event}`).toLowerCase();
    if (type !== "container") return { pushes: [], ignored: [`package type ${type}`] };
    const version = object(pkg, "package_version", `body.${event}`);
    const where = `body.${event}.package_version.container_metadata`;
    const metadata = object(version, "container_metadata", `body.${event}.package_version`);
    const tagInfo = isObject(metadata.tag) ? metadata.tag : {};
    const tag = optionalText(tagInfo, "name");
    const digest = optionalText(tagInfo, "digest");
    const name = `ghcr.io/${text(pkg, "namespace", `body.${event}`)}/${
      text(pkg, "name", `body.${event}`)
    }`;
    if (tag === undefined) {
      return { pushes: [], ignored: [`${name}: version without a tag (${where})`] };
    }
    const url = optionalText(version, "package_url");
    const { host, path } = splitImage(
      (url || name).toLowerCase(),
      `body.${event}.package_version.package_url`,
    );
    const pushedAt = timeOf(version.created_at ?? pkg.updated_at, ctx.receivedAt);
    return { pushes: [pushOf(ctx, "github", { host, path, tag, digest, pushedAt })], ignored: [] };
  });
}
