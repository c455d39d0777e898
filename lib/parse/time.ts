/**
 * Times as Kubernetes writes them: RFC 3339 in UTC, to the second.
 *
 * @module
 */

/**
 * A time (ms epoch) as RFC 3339 in UTC to the second, as the API server stores a `metav1.Time`;
 * the milliseconds are dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isoSeconds } from "./time.ts";
 * assert.equal(isoSeconds(Date.UTC(2026, 11, 12, 2, 0, 0, 999)), "2026-12-12T02:00:00Z");
 * ```
 */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
