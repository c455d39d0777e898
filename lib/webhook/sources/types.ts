/**
 * What every receiver produces: the pushes a delivery announces, as the reconcile records them
 * ({@linkcode RecordedPush}), so every route records them as they are.
 *
 * @module
 */

import type { RecordedPush } from "../../image/push.ts";
import type { RegistryAliases } from "./registry_name.ts";

/**
 * A request's headers as a receiver reads them: by name, case-insensitive (a `Headers`, or the
 * front's own record of them).
 *
 * @example
 * ```ts
 * import type { HeaderReader } from "./types.ts";
 * const headers: HeaderReader = new Headers({ "x-github-event": "package" });
 * headers.get("X-GitHub-Event"); // "package"
 * ```
 */
export type HeaderReader = Pick<Headers, "get">;

/**
 * What a receiver needs besides the body.
 *
 * @example
 * ```ts
 * import type { ReceiveContext } from "./types.ts";
 * const ctx: ReceiveContext = { headers: new Headers(), aliases: new Map(), receivedAt: Date.now() };
 * ```
 */
export interface ReceiveContext {
  /** The delivery's headers (`X-Argoos-Registry-Name`, `X-GitHub-Event`, ...). */
  headers: HeaderReader;
  /** REGISTRY_ALIASES. */
  aliases: RegistryAliases;
  /** When the delivery arrived (ms), the push time of sources that send none. */
  receivedAt: number;
}

/**
 * A parsed delivery: the pushes it announces (and why other events in it were left alone), a
 * ping to answer 200, or a refusal with a one-line reason (answered 400).
 *
 * @example
 * ```ts
 * import type { ParseResult } from "./types.ts";
 * const refused: ParseResult = { refused: "body is not JSON" };
 * ```
 */
export type ParseResult =
  | { pushes: RecordedPush[]; ignored: string[] }
  | { ping: true }
  /** `refusal`: why, as a metrics label (`shape`, `tag`, `digest`, …); default `shape`. */
  | { refused: string; refusal?: string };

/**
 * A receiver: a pure function from a JSON body to a {@linkcode ParseResult}.
 *
 * @example
 * ```ts
 * import type { Parser } from "./types.ts";
 * const none: Parser = () => ({ pushes: [], ignored: ["nothing to see"] });
 * ```
 */
export type Parser = (body: unknown, ctx: ReceiveContext) => ParseResult;
