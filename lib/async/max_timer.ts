/**
 * The longest delay a timer takes.
 *
 * @module
 */

/**
 * The longest timer delay, about 24.8 days: a longer one fires at once (it overflows a signed
 * 32-bit count of milliseconds), so callers cap theirs at this bound and look again then.
 *
 * @example
 * ```ts
 * import { MAX_TIMER_MS } from "./max_timer.ts";
 * setTimeout(() => {}, Math.min(30 * 86_400_000, MAX_TIMER_MS)); // not at once
 * ```
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
