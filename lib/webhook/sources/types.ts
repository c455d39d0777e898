/**
 * What every receiver produces: the pushes a delivery announces, shaped like the recorded push
 * of the reconcile design (`RecordedPush` in lib/reconcile/facts.ts), so a route can record
 * them as they are.
 *
 * @module
 */

import type { RegistryAliases } from "../registry_name.ts";

/**
 * One tag pushed, as a receiver understood it.
 *
 * @example
 * ```ts
 * import type { ReceivedPush } from "./types.ts";
 * const push: ReceivedPush = {
 *   repository: "docker.io/library/nginx",
 *   tag: "1.27.0",
 *   pushedAt: 1_700_000_000_000,
 *   source: "dockerhub",
 * };
 * ```
 */
export interface ReceivedPush {
  /** Normalized `host/path`, e.g. `docker.io/library/nginx` (see `repositoryKey`). */
  repository: string;
  tag: string;
  /** `sha256:…` of the pushed manifest; absent when the source sends none. */
  digest?: string;
  /** Milliseconds since the epoch: the registry's push time, else the time received. */
  pushedAt: number;
  /** The route that received it: "distribution", "dockerhub", "quay", ... */
  source: string;
}

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
  headers: Headers;
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
  | { pushes: ReceivedPush[]; ignored: string[] }
  | { ping: true }
  | { refused: string };

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
