/**
 * The CNCF distribution registry's notification envelope (the `POST /event` route), read by
 * {@linkcode parseEnvelope} and turned into the same pushes as every other source: the tag and
 * digest of each tagged manifest push, on the registry its `request.host` (or
 * `X-Argoos-Registry-Name` / REGISTRY_ALIASES) names, at the event's `timestamp`.
 *
 * @module
 */

import { EnvelopeError, parseEnvelope } from "./envelope.ts";
import { pushOf, shaped, ShapeError, timeOf } from "./fields.ts";
import type { ParseResult, ReceiveContext } from "./types.ts";

/**
 * Parse a distribution notification envelope.
 *
 * @example
 * ```ts
 * import { parseDistribution } from "./distribution.ts";
 * const ctx = { headers: new Headers(), aliases: new Map(), receivedAt: 0 };
 * parseDistribution({ events: [{ id: "e1", action: "push", timestamp: "2026-11-25T09:17:38Z",
 *   target: { mediaType: "application/vnd.oci.image.manifest.v1+json", repository: "myapp",
 *     digest: "sha256:" + "8".repeat(64), tag: "1.2.3" }, request: { host: "127.0.0.1:5000" } }] }, ctx);
 * // { pushes: [{ repository: "127.0.0.1:5000/myapp", tag: "1.2.3", digest: "sha256:888…", ... }], ignored: [] }
 * ```
 */
export function parseDistribution(body: unknown, ctx: ReceiveContext): ParseResult {
  return shaped(() => {
    let envelope;
    try {
      envelope = parseEnvelope(body);
    } catch (err) {
      if (err instanceof EnvelopeError) throw new ShapeError(err.message, err.reason);
      throw err;
    }
    return {
      pushes: envelope.pushes.map((e) =>
        pushOf(ctx, "distribution", {
          host: e.requestHost,
          path: e.repository,
          tag: e.tag,
          digest: e.digest,
          pushedAt: timeOf(e.timestamp, ctx.receivedAt),
        })
      ),
      ignored: envelope.ignored.map((e) => `${e.id}: ${e.reason}`),
    };
  });
}
