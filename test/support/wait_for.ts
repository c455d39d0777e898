/**
 * Bounded polling for asynchronous conditions, instead of timed assertions.
 *
 * @module
 */

/**
 * Resolve once `condition` returns a truthy value (returned), polling every few ms; reject
 * with `what` after `timeoutMs` (default 5000) so a broken test fails instead of hanging.
 *
 * @example
 * ```ts
 * import { waitFor } from "./wait_for.ts";
 * let ready = false;
 * setTimeout(() => ready = true, 10);
 * await waitFor(() => ready, "ready");
 * ```
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  what = "condition",
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
