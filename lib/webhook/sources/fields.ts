/**
 * Small readers shared by the receivers: typed fields of untrusted JSON, and the one place a
 * (host, path, tag, digest) found in a payload becomes a validated {@linkcode RecordedPush}.
 *
 * @module
 */

import {
  InvalidReferenceError,
  parseReference,
  repositoryKey,
  splitRepository,
} from "../../image/reference.ts";
import { registryNameOf } from "./registry_name.ts";
import type { RecordedPush } from "../../image/push.ts";
import type { ReceiveContext } from "./types.ts";
import { isObject, type JsonObject } from "../../parse/object.ts";

/** The body is not the shape its source documents; the message is the one-line 400 reason. */
export class ShapeError extends Error {
  override name = "ShapeError";
  /** `refusal`: why, as a metrics label (an EnvelopeError's reason); default "shape". */
  constructor(message: string, readonly refusal = "shape") {
    super(message);
  }
}

/**
 * The object at `obj[key]`; throws {@linkcode ShapeError} naming `where` otherwise.
 *
 * @example
 * ```ts
 * import { object } from "./fields.ts";
 * object({ a: {} }, "a", "body"); // {}
 * ```
 */
export function object(obj: unknown, key: string, where: string): JsonObject {
  const v = isObject(obj) ? obj[key] : undefined;
  if (!isObject(v)) throw new ShapeError(`${where}.${key} must be an object`);
  return v;
}

/**
 * The non-empty string at `obj[key]`; throws {@linkcode ShapeError} otherwise.
 *
 * @example
 * ```ts
 * import { text } from "./fields.ts";
 * text({ tag: "1.0" }, "tag", "body"); // "1.0"
 * ```
 */
export function text(obj: JsonObject, key: string, where: string): string {
  const v = obj[key];
  if (typeof v !== "string" || v === "") throw new ShapeError(`${where}.${key} must be a string`);
  return v;
}

/**
 * The string at `obj[key]` when there is a non-empty one, else undefined.
 *
 * @example
 * ```ts
 * import { optionalText } from "./fields.ts";
 * optionalText({ tag: "" }, "tag"); // undefined
 * ```
 */
export function optionalText(obj: JsonObject, key: string): string | undefined {
  const v = obj[key];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * Milliseconds of an RFC 3339 time or of epoch seconds, else `receivedAt`; never later than
 * `receivedAt`: a sender's clock ahead of ours (or a forged time) counts as the time the
 * notification was received, so it cannot make later pushes look older than it.
 *
 * @example
 * ```ts
 * import { timeOf } from "./fields.ts";
 * const now = Date.parse("2026-01-01T00:00:00Z");
 * timeOf("2019-11-16T01:54:34Z", now); // 1573869274000
 * timeOf(1417566161, now); // 1417566161000
 * timeOf(undefined, 7); // 7
 * timeOf("2099-01-01T00:00:00Z", now) === now; // true
 * ```
 */
export function timeOf(v: unknown, receivedAt: number): number {
  return Math.min(sentTime(v) ?? receivedAt, receivedAt);
}

function sentTime(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v) && v > 0) return Math.round(v * 1000);
  if (typeof v === "string") {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  return undefined;
}

/**
 * Split `host/path` (as payloads write image names) into its host and repository path.
 * Throws {@linkcode ShapeError} when the text names no host.
 *
 * @example
 * ```ts
 * import { splitHost } from "./fields.ts";
 * splitHost("quay.io/devtable/ubuntu", "docker_url"); // { host: "quay.io", path: "devtable/ubuntu" }
 * ```
 */
export function splitHost(name: string, where: string): { host: string; path: string } {
  const bare = name.replace(/^[a-z]+:\/\//i, "");
  if (bare.indexOf("/") <= 0) throw new ShapeError(`${where} "${name}" names no registry host`);
  const [host, path] = splitRepository(bare);
  return { host, path };
}

/**
 * {@linkcode splitHost} of an image reference as payloads write it (`host/path:tag`,
 * `host/path@digest`, or neither): the tag or digest after the last `/` is dropped, a
 * `host:port` kept.
 *
 * @example
 * ```ts
 * import { splitImage } from "./fields.ts";
 * splitImage("harbor.example.com:8443/lib/alpine:3.8", "resource_url");
 * // { host: "harbor.example.com:8443", path: "lib/alpine" }
 * ```
 */
export function splitImage(ref: string, where: string): { host: string; path: string } {
  return splitHost(ref.replace(/[:@][^/]*$/, ""), where);
}

/**
 * A push of `tag` (and `digest` when the source sends one) to `path` on the registry the source
 * implies (`impliedHost`), unless the delivery's `X-Argoos-Registry-Name` or REGISTRY_ALIASES
 * name another. Host, path, tag and digest are checked against the image reference grammar;
 * a part that breaks it throws {@linkcode ShapeError}.
 *
 * @example
 * ```ts
 * import { pushOf } from "./fields.ts";
 * const ctx = { headers: new Headers(), aliases: new Map(), receivedAt: 0 };
 * pushOf(ctx, "dockerhub", { host: "docker.io", path: "nginx", tag: "1.27", pushedAt: 1 });
 * // { repository: "docker.io/library/nginx", tag: "1.27", pushedAt: 1, source: "dockerhub" }
 * ```
 */
export function pushOf(
  ctx: ReceiveContext,
  source: string,
  p: { host: string; path: string; tag: string; digest?: string; pushedAt: number },
): RecordedPush {
  const host = registryNameOf(p.host, ctx.headers.get("x-argoos-registry-name"), ctx.aliases);
  const digest = p.digest === undefined ? "" : `@${p.digest}`;
  try {
    const ref = parseReference(`${host}/${p.path}:${p.tag}${digest}`);
    if (ref.host === undefined || ref.path !== p.path) throw new ShapeError("names no host");
  } catch (err) {
    if (!(err instanceof InvalidReferenceError || err instanceof ShapeError)) throw err;
    throw new ShapeError(`${host}/${p.path}:${p.tag}${digest} is not an image reference`);
  }
  return {
    repository: repositoryKey(host, p.path),
    tag: p.tag,
    ...(p.digest === undefined ? {} : { digest: p.digest }),
    pushedAt: p.pushedAt,
    source,
  };
}

/**
 * Run a parser body, turning a {@linkcode ShapeError} into a refusal.
 *
 * @example
 * ```ts
 * import { ShapeError, shaped } from "./fields.ts";
 * shaped(() => { throw new ShapeError("body.x must be a string"); });
 * // { refused: "body.x must be a string" }
 * ```
 */
export function shaped<T>(parse: () => T): T | { refused: string; refusal: string } {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ShapeError) return { refused: err.message, refusal: err.refusal };
    throw err;
  }
}

/**
 * {@linkcode shaped} for a receiver whose body must be a JSON object: anything else is
 * refused before `parse` sees it.
 *
 * @example
 * ```ts
 * import { shapedObject } from "./fields.ts";
 * shapedObject([], () => ({ pushes: [], ignored: [] })); // { refused: "body must be a JSON object" }
 * ```
 */
export function shapedObject<T>(
  body: unknown,
  parse: (body: JsonObject) => T,
): T | { refused: string; refusal?: string } {
  if (!isObject(body)) return { refused: "body must be a JSON object" };
  return shaped(() => parse(body));
}
