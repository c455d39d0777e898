/**
 * Parsing of the notification envelope a CNCF distribution registry posts
 * (`application/vnd.docker.distribution.events.v1+json`): which events are
 * manifest pushes with a tag, and which are accepted and ignored.
 *
 * @module
 */

import { MANIFEST_MEDIA_TYPES } from "../image/media_types.ts";
import { digestProblem, tagProblem } from "../image/reference.ts";

/** A manifest pushed under a tag: the only kind of event Argoos acts on. */
export interface PushEvent {
  /** Event id; the registry keeps it on every retry. */
  id: string;
  /** When the registry created the event (RFC 3339). */
  timestamp: string;
  /** Repository path inside the registry, e.g. `team/app`. */
  repository: string;
  tag: string;
  /** Digest of the pushed manifest or index. */
  digest: string;
  mediaType: string;
  /** The `Host` the pushing client used (`request.host`), e.g. `127.0.0.1:5000`. */
  requestHost: string;
}

/** An event that was understood and deliberately not acted on. */
export interface IgnoredEvent {
  id: string;
  action: string;
  reason: string;
}

/** The acted-on and ignored events of one delivery. */
export interface Envelope {
  pushes: PushEvent[];
  ignored: IgnoredEvent[];
}

/** The body is not a notification envelope, or names a tag or digest off the grammar; 400. */
export class EnvelopeError extends Error {
  override name = "EnvelopeError";
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function text(obj: Json, key: string, where: string): string {
  const v = obj[key];
  if (typeof v !== "string" || v === "") {
    throw new EnvelopeError(`${where}.${key} must be a string`);
  }
  return v;
}

/**
 * Read a delivery body already parsed as JSON. Throws {@linkcode EnvelopeError} when it is
 * not of the envelope's shape; events that are valid but not tagged manifest pushes (blobs,
 * pulls, mounts, deletes, pushes by digest) come back in `ignored`.
 *
 * @example
 * ```ts
 * import { parseEnvelope } from "./envelope.ts";
 * const { pushes } = parseEnvelope({ events: [{
 *   id: "e1", timestamp: "2026-11-25T09:17:38Z", action: "push",
 *   target: { mediaType: "application/vnd.oci.image.manifest.v1+json", repository: "myapp",
 *     digest: "sha256:8a5f599fbfc33e327cb9728ee08bbd5ac2b4afb96b4ed9719a593344cfdaf65f", tag: "1.2.3" },
 *   request: { host: "127.0.0.1:5000" },
 * }] });
 * pushes[0].tag; // "1.2.3"
 * ```
 */
export function parseEnvelope(doc: unknown): Envelope {
  if (!isObject(doc) || !Array.isArray(doc.events)) {
    throw new EnvelopeError('body must be an object with an "events" array');
  }
  const envelope: Envelope = { pushes: [], ignored: [] };
  doc.events.forEach((raw, i) => {
    const where = `events[${i}]`;
    if (!isObject(raw)) throw new EnvelopeError(`${where} must be an object`);
    const id = text(raw, "id", where);
    const action = text(raw, "action", where);
    const target = raw.target;
    if (!isObject(target)) throw new EnvelopeError(`${where}.target must be an object`);
    const ignore = (reason: string) => envelope.ignored.push({ id, action, reason });
    if (action !== "push") return ignore(`action ${action}`);
    const mediaType = typeof target.mediaType === "string" ? target.mediaType : "";
    if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
      return ignore(`media type ${mediaType || "none"}`);
    }
    if (typeof target.tag !== "string" || target.tag === "") return ignore("push by digest");
    const request = raw.request;
    if (!isObject(request)) throw new EnvelopeError(`${where}.request must be an object`);
    const digest = text(target, "digest", `${where}.target`);
    const problem = tagProblem(target.tag) ?? digestProblem(digest);
    if (problem) throw new EnvelopeError(`${where}.target: ${problem}`);
    envelope.pushes.push({
      id,
      timestamp: typeof raw.timestamp === "string" ? raw.timestamp : "",
      repository: text(target, "repository", `${where}.target`),
      tag: target.tag,
      digest,
      mediaType,
      requestHost: text(request, "host", `${where}.request`),
    });
  });
  return envelope;
}
