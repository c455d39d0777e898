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
  /**
   * Substring of the request body, e.g. the image a PATCH sets: an admission policy refusing
   * what a write contains (a scanner refusing a vulnerable image).
   */
  bodyIncludes?: string;
  /**
   * ms epoch (`Date.now()`) until which the fault
   * answers every matching request, however many; `times` is then ignored. As an admission
   * policy in force for a while.
   */
  until?: number;
  /** HTTP status to answer with (ignored with `error`). */
  status?: number;
  /** How many matching requests fail; default 1. */
  times?: number;
  /** Optional Status reason, e.g. "Conflict", "Invalid". */
  reason?: string;
  message?: string;
  /** A complete failure to answer with, e.g. `admissionPolicyDenied(…)`. */
  error?: ApiError;
  /**
   * Instead of an error: `hang` holds the request unanswered for `hangMs` (default 60 s) and
   * applies nothing, as an overloaded API server the client times out on; `lost` applies the
   * request and then breaks the answer mid-body, as a connection lost after the write.
   */
  kind?: "hang" | "lost";
  hangMs?: number;
  /** Each matching request fails with this probability (others pass it by). Default 1. */
  rate?: number;
  /** The random source for `rate` (seed it for a repeatable run). Default Math.random. */
  random?: () => number;
}

/** What the server does with a request a fault matched. */
export type FaultAction =
  | { kind: "error"; error: ApiError }
  | { kind: "hang"; ms: number }
  | { kind: "lost" };

/**
 * Queued faults, matched in the order they were added.
 *
 * @example
 * ```ts
 * import { FaultQueue } from "./faults.ts";
 * const faults = new FaultQueue();
 * faults.add({ method: "PATCH", status: 500 });
 * const action = faults.take("PATCH", "/apis/apps/v1/namespaces/a/deployments/b");
 * if (action?.kind === "error") action.error.code; // 500
 * faults.take("PATCH", "/apis/apps/v1/namespaces/a/deployments/b"); // undefined
 * // An admission policy refusing writes of one image for a minute:
 * faults.add({ method: "PATCH", bodyIncludes: "app:1.0.0", status: 400, until: Date.now() + 60_000 });
 * ```
 */
export class FaultQueue {
  #queue: { fault: Fault; left: number }[] = [];

  /** Queue a fault. */
  add(fault: Fault): void {
    this.#queue.push({ fault, left: fault.times ?? 1 });
  }

  /** The failure for this request, using up one of its matching fault's times. */
  take(method: string, path: string, body = ""): FaultAction | undefined {
    const now = Date.now();
    this.#queue = this.#queue.filter(({ fault }) => fault.until === undefined || now < fault.until);
    const at = this.#queue.findIndex(({ fault }) =>
      (!fault.method || fault.method.toUpperCase() === method) &&
      (!fault.path || path.includes(fault.path)) &&
      (!fault.bodyIncludes || body.includes(fault.bodyIncludes)) &&
      (fault.rate === undefined || (fault.random ?? Math.random)() < fault.rate)
    );
    if (at < 0) return undefined;
    const entry = this.#queue[at];
    if (entry.fault.until === undefined && --entry.left <= 0) this.#queue.splice(at, 1);
    const { error, status = 500, reason, message, kind, hangMs = 60_000 } = entry.fault;
    if (kind === "hang") return { kind, ms: hangMs };
    if (kind === "lost") return { kind };
    return { kind: "error", error: error ?? genericError(status, reason, message) };
  }
}
