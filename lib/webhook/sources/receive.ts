/**
 * One delivery on one route, from its body to what it announces: read JSON, parse. Who may
 * deliver (the token), what to record and enqueue, and the final status stay with the server.
 *
 * @module
 */

import type { RecordedPush } from "../../image/push.ts";
import type { ReceiverRoute } from "./routes.ts";
import type { ReceiveContext } from "./types.ts";

/**
 * A delivery as the server read it (the body already capped in size).
 *
 * @example
 * ```ts
 * import type { Delivery } from "./receive.ts";
 * const d: Delivery = { headers: new Headers(), body: "{}", receivedAt: 0, aliases: new Map() };
 * ```
 */
export interface Delivery extends ReceiveContext {
  /** The body as received (capped in size). */
  body: string;
}

/**
 * What a delivery comes to: `malformed` (400 with the reason), `ping` (200), or `received`
 * pushes for the server to record and reconcile (no push at all: 200).
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
  /** `refusal`: why, as a metrics label (`not-json`, `shape`, `tag`, …). */
  | { outcome: "malformed"; status: 400; reason: string; refusal: string }
  | { outcome: "ping"; status: 200 }
  | { outcome: "received"; pushes: RecordedPush[]; ignored: string[] };

/**
 * Parse one delivery on `route`; its sender was authenticated before.
 *
 * @example
 * ```ts
 * import { receive } from "./receive.ts";
 * import { matchRoute } from "./routes.ts";
 * const { route } = matchRoute("/event/quay/s3cret")!;
 * receive(route, { headers: new Headers(), body: "{", receivedAt: 0, aliases: new Map() })
 *   .outcome; // "malformed"
 * ```
 */
export function receive(route: ReceiverRoute, d: Delivery): ReceiveOutcome {
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
