/**
 * `argoos.io/hold`: a person's word that Argoos writes nothing to a workload, for good
 * (`"true"`, until the annotation is removed) or until an RFC 3339 time. Read here, pure.
 *
 * @module
 */

import { isoSeconds } from "../parse/time.ts";

/** The annotation that holds a workload. */
export const HOLD_ANNOTATION = "argoos.io/hold";
/** Why it is held, one line (`argoos hold --reason`); shown, never interpreted. */
export const HOLD_REASON_ANNOTATION = "argoos.io/hold-reason";

/** Whether a workload is held now. */
export type Hold =
  | { held: false }
  | {
    held: true;
    /** ms epoch the hold ends; absent: until the annotation is removed. */
    until?: number;
    /** Set when the value is neither `"true"` nor a time: held all the same (the safe side). */
    invalid?: string;
  };

/**
 * The guard every write to a workload carries: its hold still as read (null: absent), so a
 * hold set while a reconcile was under way fails the write's `test` and the workload is looked
 * at again (and found held).
 *
 * @example
 * ```ts
 * import { unchangedHold } from "./hold.ts";
 * unchangedHold({}); // { "argoos.io/hold": null }
 * ```
 */
export function unchangedHold(
  annotations: Readonly<Record<string, string>>,
): Record<string, string | null> {
  return { [HOLD_ANNOTATION]: annotations[HOLD_ANNOTATION] ?? null };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Why a hold value is unreadable, or undefined when it reads (`"true"`, `"false"`, an RFC 3339
 * time).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { holdProblem } from "./hold.ts";
 * assert.equal(holdProblem("2030-01-01T00:00:00Z"), undefined);
 * assert.equal(holdProblem("tomorrow"), 'neither "true" nor an RFC 3339 time (2030-01-01T00:00:00Z); held until corrected');
 * ```
 */
export function holdProblem(text: string): string | undefined {
  const v = text.trim();
  if (v === "true" || v === "false" || RFC3339.test(v) && !Number.isNaN(Date.parse(v))) {
    return undefined;
  }
  return 'neither "true" nor an RFC 3339 time (2030-01-01T00:00:00Z); held until corrected';
}

/**
 * Whether the annotations hold the workload at `now` (ms epoch). A time in the past, `"false"`
 * and no annotation hold nothing; a value that does not read holds (see {@linkcode holdProblem}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readHold } from "./hold.ts";
 * const now = Date.parse("2026-01-01T00:00:00Z");
 * assert.deepEqual(readHold({ "argoos.io/hold": "true" }, now), { held: true });
 * assert.deepEqual(readHold({ "argoos.io/hold": "2026-01-02T00:00:00Z" }, now),
 *   { held: true, until: now + 86_400_000 });
 * assert.deepEqual(readHold({ "argoos.io/hold": "2025-12-31T00:00:00Z" }, now), { held: false });
 * ```
 */
export function readHold(annotations: Readonly<Record<string, string>>, now: number): Hold {
  const text = annotations[HOLD_ANNOTATION];
  if (text === undefined) return { held: false };
  const invalid = holdProblem(text);
  if (invalid) return { held: true, invalid };
  const v = text.trim();
  if (v === "true") return { held: true };
  if (v === "false") return { held: false };
  const until = Date.parse(v);
  return until > now ? { held: true, until } : { held: false };
}

/**
 * The annotations `argoos hold` writes (a merge patch's values; `null` removes): held until
 * `now + forMs` (an RFC 3339 time) or until released (`"true"`), with the reason when given.
 * Without options it is `argoos release`: both removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { holdAnnotations } from "./hold.ts";
 * const now = Date.parse("2026-01-01T00:00:00Z");
 * assert.deepEqual(holdAnnotations({ forMs: 3_600_000, reason: "incident 123" }, now), {
 *   "argoos.io/hold": "2026-01-01T01:00:00Z",
 *   "argoos.io/hold-reason": "incident 123",
 * });
 * assert.deepEqual(holdAnnotations(undefined, now), {
 *   "argoos.io/hold": null,
 *   "argoos.io/hold-reason": null,
 * });
 * ```
 */
export function holdAnnotations(
  hold: { forMs?: number; reason?: string } | undefined,
  now: number,
): Record<string, string | null> {
  if (!hold) return { [HOLD_ANNOTATION]: null, [HOLD_REASON_ANNOTATION]: null };
  const until = hold.forMs === undefined ? "true" : isoSeconds(now + hold.forMs);
  return { [HOLD_ANNOTATION]: until, [HOLD_REASON_ANNOTATION]: hold.reason ?? null };
}
