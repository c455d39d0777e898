/**
 * Waiting that an abort signal cuts short.
 *
 * @module
 */

/**
 * Resolve after `ms` milliseconds, or at once when `signal` aborts (never rejects),
 * so shutdown is not held up by a loop's back-off.
 *
 * @example
 * ```ts
 * import { sleep } from "./sleep.ts";
 * const ac = new AbortController();
 * setTimeout(() => ac.abort(), 10);
 * await sleep(60_000, ac.signal); // returns after ~10 ms
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
