/**
 * One signal that aborts when any of several does, held strongly.
 *
 * `AbortSignal.any()` may hold its result weakly: once only a pending request refers to it,
 * the garbage collector is free to take it, and aborting a source (a stop, a timeout) then no
 * longer reaches the request. Here each source holds a listener that holds the controller,
 * until {@linkcode LinkedSignal.unlink}.
 *
 * @module
 */

/** A signal linked to its sources; `unlink()` when done so long-lived sources do not grow. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  unlink(): void;
}

/**
 * Link `sources` (absent ones skipped) into one signal, aborted with the first source's reason.
 *
 * @example
 * ```ts
 * import { linkSignals } from "./linked_signal.ts";
 * const stop = new AbortController();
 * const link = linkSignals(stop.signal, AbortSignal.timeout(60_000));
 * stop.abort();
 * link.signal.aborted; // true
 * link.unlink();
 * ```
 */
export function linkSignals(...sources: (AbortSignal | null | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const present = sources.filter((s): s is AbortSignal => s != null);
  const onAbort = (ev: Event) => controller.abort((ev.target as AbortSignal).reason);
  const unlink = () => {
    for (const s of present) s.removeEventListener("abort", onAbort);
  };
  for (const s of present) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener("abort", onAbort, { once: true });
  }
  if (controller.signal.aborted) unlink();
  return { signal: controller.signal, unlink };
}
