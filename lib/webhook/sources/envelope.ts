/**
 * Parsing of the notification envelope a CNCF distribution registry posts
 * (`application/vnd.docker.distribution.events.v1+json`): which events are
 * manifest pushes with a tag, and which are accepted and ignored.
 *
 * @module
 */

import { MANIFEST_MEDIA_TYPES } from "../../image/media_types.ts";
import { digestProblem, referenceGrammar as grammar, tagProblem } from "../../image/reference.ts";
import { isObject, type JsonObject } from "../../parse/object.ts";

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

/** Why a delivery was refused, as a metrics label. */
export type RefusalReason =
  | "not-json"
  | "shape"
  | "too-many-events"
  | "id"
  | "repository"
  | "tag"
  | "digest"
  | "host";

/** The body is not a notification envelope; answered 400 with its one-line message. */
export class EnvelopeError extends Error {
  override name = "EnvelopeError";
  constructor(message: string, readonly reason: RefusalReason = "shape") {
    super(message);
  }
}

/**
 * Most events one delivery may hold. Distribution sends the events of one request together
 * (a push is one manifest event plus its blobs' when those are not filtered out): a few, never
 * hundreds; a longer list is refused rather than holding a reconcile per event.
 */
export const MAX_EVENTS = 100;
/** Longest event id: distribution's ids are UUIDs (36 characters). */
export const MAX_ID_LENGTH = 64;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const ACTION_RE = /^[a-z]{1,32}$/;

/** A value cut short for a one-line message. */
const cut = (v: string) => v.length > 64 ? `${v.slice(0, 64)}…` : v;
const shown = (v: string) => JSON.stringify(cut(v));

function text(obj: JsonObject, key: string, where: string): string {
  const v = obj[key];
  if (typeof v !== "string" || v === "") {
    throw new EnvelopeError(`${where}.${key} must be a string`);
  }
  return v;
}

/** A string field that must follow `ok`; refused with `reason` otherwise. */
function checked(
  obj: JsonObject,
  key: string,
  where: string,
  reason: RefusalReason,
  ok: (v: string) => boolean,
): string {
  const v = text(obj, key, where);
  if (!ok(v)) {
    throw new EnvelopeError(`${where}.${key} ${shown(v)} is not a valid ${reason}`, reason);
  }
  return v;
}

const validId = (id: string) => id.length <= MAX_ID_LENGTH && ID_RE.test(id);

/**
 * Read a delivery body already parsed as JSON. Throws {@linkcode EnvelopeError} when it is
 * not of the envelope's shape, holds more than {@linkcode MAX_EVENTS} events, or an id,
 * repository, tag, digest or host breaks its grammar or length; events that are valid but not
 * tagged manifest pushes (blobs, pulls, mounts, deletes, pushes by digest) come back in
 * `ignored`.
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
  if (doc.events.length > MAX_EVENTS) {
    throw new EnvelopeError(
      `${doc.events.length} events in one delivery, more than ${MAX_EVENTS}`,
      "too-many-events",
    );
  }
  const envelope: Envelope = { pushes: [], ignored: [] };
  doc.events.forEach((raw, i) => {
    const where = `events[${i}]`;
    if (!isObject(raw)) throw new EnvelopeError(`${where} must be an object`);
    const id = checked(raw, "id", where, "id", validId);
    const action = checked(raw, "action", where, "shape", (a) => ACTION_RE.test(a));
    const target = raw.target;
    if (!isObject(target)) throw new EnvelopeError(`${where}.target must be an object`);
    const ignore = (reason: string) => envelope.ignored.push({ id, action, reason });
    if (action !== "push") return ignore(`action ${action}`);
    const mediaType = typeof target.mediaType === "string" ? target.mediaType : "";
    if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
      return ignore(`media type ${cut(mediaType) || "none"}`);
    }
    if (typeof target.tag !== "string" || target.tag === "") return ignore("push by digest");
    const request = raw.request;
    if (!isObject(request)) throw new EnvelopeError(`${where}.request must be an object`);
    const timestamp = typeof raw.timestamp === "string" && raw.timestamp.length <= 64
      ? raw.timestamp
      : "";
    const digest = text(target, "digest", `${where}.target`);
    // The grammar's own wording, with the value shown cut so the line stays short.
    if (tagProblem(target.tag)) {
      throw new EnvelopeError(`${where}.target.${tagProblem(cut(target.tag))}`, "tag");
    }
    if (digestProblem(digest)) {
      throw new EnvelopeError(`${where}.target.${digestProblem(cut(digest))}`, "digest");
    }
    envelope.pushes.push({
      id,
      timestamp,
      repository: checked(
        target,
        "repository",
        `${where}.target`,
        "repository",
        grammar.repository,
      ),
      tag: target.tag,
      digest,
      mediaType,
      requestHost: checked(request, "host", `${where}.request`, "host", grammar.host),
    });
  });
  return envelope;
}
