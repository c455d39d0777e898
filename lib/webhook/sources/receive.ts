/**
 * One delivery on one route, from raw request to what it announces: authenticate, read JSON,
 * parse. What to record and enqueue, and the final status, stay with the server.
 *
 * @module
 */

import type { RegistryAliases } from "../registry_name.ts";
import { authorized, authRefusal } from "./auth.ts";
import type { ReceiverRoute } from "./routes.ts";
import type { RecordedPush } from "../../image/push.ts";

/**
 * A delivery as the server read it (the body already capped in size).
 *
 * @example
 * ```ts
 * import type { Delivery } from "./receive.ts";
 * const d: Delivery = { headers: new Headers(), body: "{}", receivedAt: 0, aliases: new Map() };
 * ```
 */
export interface Delivery {
  headers: Headers;
  body: string;
  /** Token segment of a `path-token` route, from {@linkcode matchRoute}. */
  pathToken?: string;
  receivedAt: number;
  aliases: RegistryAliases;
}

/**
 * What a delivery comes to: `unauthorized` (401), `malformed` (400 with the reason), `ping`
 * (200), or `received` pushes for the server to record and reconcile (no push at all: 200).
 *
 * @example
 * ```ts
 * import type { ReceiveOutcome } from "./receive.ts";
 * const o: ReceiveOutcome = {
 *   outcome: "malformed",
 *   status: 400,
 *   reason: "body is not JSON",
 *   refusal: "not-json",
 * };
 * ```
 */
export type ReceiveOutcome =
  | { outcome: "unauthorized"; status: 401; reason: string }
  /** `refusal`: why, as a metrics label (`not-json`, `shape`, `tag`, …). */
  | { outcome: "malformed"; status: 400; reason: string; refusal: string }
  | { outcome: "ping"; status: 200 }
  | { outcome: "received"; pushes: RecordedPush[]; ignored: string[] };

/**
 * Authenticate and parse one delivery on `route`, `token` being the configured one.
 *
 * @example
 * ```ts
 * import { receive } from "./receive.ts";
 * import { matchRoute } from "./routes.ts";
 * const { route, pathToken } = matchRoute("/event/dockerhub/wrong")!;
 * const d = { headers: new Headers(), body: "{}", pathToken, receivedAt: 0, aliases: new Map() };
 * (await receive(route, "s3cret", d)).outcome; // "unauthorized"
 * ```
 */
export async function receive(
  route: ReceiverRoute,
  token: string | undefined,
  d: Delivery,
): Promise<ReceiveOutcome> {
  if (!await authorized(route.auth, token, d)) {
    return { outcome: "unauthorized", status: 401, reason: authRefusal(route.auth) };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(d.body);
  } catch (err) {
    return {
      outcome: "malformed",
      status: 400,
      reason: `body is not JSON: ${(err as Error).message.split("\n")[0].slice(0, 120)}`,
      refusal: "not-json",
    };
  }
  const parsed = route.parse(doc, d);
  if ("ping" in parsed) return { outcome: "ping", status: 200 };
  if ("refused" in parsed) {
    const refusal = parsed.refusal ?? "shape";
    return { outcome: "malformed", status: 400, reason: parsed.refused, refusal };
  }
  return { outcome: "received", pushes: parsed.pushes, ignored: parsed.ignored };
}
