/**
 * `argoos.io/pending`: the updates a gate holds back, per container (the image Argoos would
 * write, its digest, since when it is known, the gate and when it may open), and
 * `argoos.io/approve`, the digests a person approved. The pending record is written through
 * the one write path, so `kubectl` shows it and `argoos approve` reads it; it also keeps a held
 * update across the hours a window or a minimum age may take, when the push that brought it is
 * no longer among the recorded facts.
 *
 * @module
 */

import { containerEntries } from "../parse/object.ts";

/** Annotation holding the held updates (JSON, see {@linkcode PendingUpdate}). */
export const PENDING_ANNOTATION = "argoos.io/pending";
/** Annotation a person writes to approve digests (`sha256:…`, several separated by `,`). */
export const APPROVE_ANNOTATION = "argoos.io/approve";

/** Why an update waits. */
export type GateName = "observe" | "approval" | "min-age" | "window";

/** One container's held update. */
export interface PendingUpdate {
  /** The image Argoos would write. */
  image: string;
  /** What the registry serves for it, `sha256:…`. */
  digest: string;
  /** ms epoch: the push time, else when Argoos first saw that tag at that digest. */
  since: number;
  /**
   * ms epoch of the push that brought it, when a notification did (absent for a listed tag): a
   * push time of its own, as `since` may be older (the same digest seen before).
   */
  pushedAt?: number;
  /** The first gate that holds it. */
  gate: GateName;
  /** ms epoch when that gate may open; absent for approval and observe. */
  opensAt?: number;
}

/** Held updates by container name. */
export type Pending = Record<string, PendingUpdate>;

/** Every gate, in the order they are judged. */
export const GATE_NAMES: readonly GateName[] = ["observe", "approval", "min-age", "window"];
const GATES: ReadonlySet<string> = new Set(GATE_NAMES);
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The held updates on a workload; entries that do not parse are left out (an unreadable
 * record only loses what it held, never stops the workload).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodePending, readPending } from "./pending.ts";
 * const digest = "sha256:" + "a".repeat(64);
 * const pending = { app: { image: "a:2", digest, since: 0, gate: "approval" as const } };
 * assert.deepEqual(readPending({ "argoos.io/pending": encodePending(pending)! }), pending);
 * assert.deepEqual(readPending({ "argoos.io/pending": "{" }), {});
 * ```
 */
export function readPending(annotations: Readonly<Record<string, string>>): Pending {
  const pending: Pending = {};
  for (const [name, v] of containerEntries(annotations[PENDING_ANNOTATION] ?? "")) {
    if (typeof v.image !== "string" || typeof v.digest !== "string") continue;
    const since = typeof v.since === "string" ? Date.parse(v.since) : NaN;
    if (!DIGEST.test(v.digest) || Number.isNaN(since) || !GATES.has(String(v.gate))) continue;
    const opensAt = typeof v.opensAt === "string" ? Date.parse(v.opensAt) : NaN;
    const pushedAt = typeof v.pushedAt === "string" ? Date.parse(v.pushedAt) : NaN;
    pending[name] = {
      image: v.image,
      digest: v.digest,
      since,
      ...(Number.isNaN(pushedAt) ? {} : { pushedAt }),
      gate: v.gate as GateName,
      ...(Number.isNaN(opensAt) ? {} : { opensAt }),
    };
  }
  return pending;
}

/**
 * The `argoos.io/pending` value for some held updates (times as RFC 3339), or `null` (remove
 * the annotation) when none is held.
 *
 * @example
 * ```ts
 * import { encodePending } from "./pending.ts";
 * const digest = "sha256:" + "a".repeat(64);
 * encodePending({ app: { image: "a:2", digest, since: 0, gate: "min-age", opensAt: 60_000 } });
 * // '{"app":{"image":"a:2","digest":"sha256:aaa…","since":"1970-01-01T00:00:00.000Z","gate":"min-age","opensAt":"1970-01-01T00:01:00.000Z"}}'
 * encodePending({}); // null
 * ```
 */
export function encodePending(pending: Pending): string | null {
  const entries = Object.entries(pending);
  if (entries.length === 0) return null;
  return JSON.stringify(Object.fromEntries(entries.map(([name, p]) => [name, {
    image: p.image,
    digest: p.digest,
    since: new Date(p.since).toISOString(),
    ...(p.pushedAt !== undefined ? { pushedAt: new Date(p.pushedAt).toISOString() } : {}),
    gate: p.gate,
    ...(p.opensAt !== undefined ? { opensAt: new Date(p.opensAt).toISOString() } : {}),
  }])));
}

/**
 * The digests `argoos.io/approve` names (separated by `,` or spaces); anything that is not a
 * `sha256:` digest approves nothing.
 *
 * @example
 * ```ts
 * import { approvedDigests } from "./pending.ts";
 * const d = "sha256:" + "b".repeat(64);
 * approvedDigests({ "argoos.io/approve": `${d}, latest` }); // Set { d }
 * ```
 */
export function approvedDigests(annotations: Readonly<Record<string, string>>): Set<string> {
  const text = annotations[APPROVE_ANNOTATION] ?? "";
  return new Set(text.split(/[\s,]+/).filter((d) => DIGEST.test(d)));
}
