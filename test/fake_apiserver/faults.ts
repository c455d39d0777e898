/**
 * Injected failures: requests matching a queued fault are answered with its
 * Status before any normal handling.
 *
 * @module
 */

import { type ApiError, genericError } from "./status.ts";

/** A failure to inject. */
export interface Fault {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Substring of the path. */
  path?: string;
  /** HTTP status to answer with (ignored with `error`). */
  status?: number;
  /** How many matching requests fail; default 1. */
  times?: number;
  /** Optional Status reason, e.g. "Conflict", "Invalid". */
  reason?: string;
  message?: string;
  /** A complete failure to answer with, e.g. `admissionPolicyDenied(…)`. */
  error?: ApiError;
}

/**
 * Queued faults, matched in the order they were added.
 *
 * @example
 * ```ts
 * import { FaultQueue } from "./faults.ts";
 * const faults = new FaultQueue();
 * faults.add({ method: "PATCH", status: 500 });
 * faults.take("PATCH", "/apis/apps/v1/namespaces/a/deployments/b")?.code; // 500
 * faults.take("PATCH", "/apis/apps/v1/namespaces/a/deployments/b"); // undefined
 * ```
 */
export class FaultQueue {
  #queue: { fault: Fault; left: number }[] = [];

  /** Queue a fault. */
  add(fault: Fault): void {
    this.#queue.push({ fault, left: fault.times ?? 1 });
  }

  /** The failure for this request, using up one of its matching fault's times. */
  take(method: string, path: string): ApiError | undefined {
    const at = this.#queue.findIndex(({ fault }) =>
      (!fault.method || fault.method.toUpperCase() === method) &&
      (!fault.path || path.includes(fault.path))
    );
    if (at < 0) return undefined;
    const entry = this.#queue[at];
    if (--entry.left <= 0) this.#queue.splice(at, 1);
    const { error, status = 500, reason, message } = entry.fault;
    return error ?? genericError(status, reason, message);
  }
}
