/**
 * Parsing of the `Retry-After` header that registries send with 429 and 503 responses.
 *
 * @module
 */

/**
 * Milliseconds to wait according to a `Retry-After` value: either delay-seconds or an HTTP
 * date. `undefined` when absent or unparseable; a date in the past gives 0.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "./retry_after.ts";
 * parseRetryAfter("120", 0); // 120000
 * parseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", Date.UTC(2015, 9, 21, 7, 28, 0)); // 10000
 * ```
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP date always names a weekday/month; this stops V8's lenient parser reading "1.5".
  const at = /[a-z]/i.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
