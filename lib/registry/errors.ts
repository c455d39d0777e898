/**
 * The one error type the registry client throws, carrying what a caller needs to decide
 * whether to retry: the host, HTTP status, distribution error code and a backoff hint.
 *
 * @module
 */

/**
 * Fields of a {@linkcode RegistryError} besides its message.
 *
 * @example
 * ```ts
 * import type { RegistryErrorInit } from "./errors.ts";
 * const init: RegistryErrorInit = { host: "ghcr.io", status: 503, transient: true };
 * ```
 */
export interface RegistryErrorInit {
  /** Registry host as the caller named it, e.g. `docker.io` or `localhost:5000`. */
  host: string;
  /** HTTP status, absent for network errors, timeouts and local backoff. */
  status?: number;
  /** Distribution error code, e.g. `MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `UNAUTHORIZED`. */
  code?: string;
  /** How long the registry asked us to wait before the next request. */
  retryAfterMs?: number;
  /** True when the same request may succeed later (network, timeout, 5xx, 429). */
  transient: boolean;
  /** Underlying error, e.g. the network failure. */
  cause?: unknown;
  /** The tag asked about, when the failure is about one (see {@linkcode RegistryError.subject}). */
  subject?: RegistrySubject;
}

/** A tag asked about: its repository (`host/path`), the tag, and the digest a push claimed. */
export interface RegistrySubject {
  /** `host/path`, as `referenceRepository` names it. */
  repository: string;
  /** The tag. */
  tag: string;
  /** The digest a push named for it, when one did. */
  digest?: string;
}

/**
 * A failed registry request.
 *
 * @example
 * ```ts
 * import { RegistryError } from "./errors.ts";
 * const err = new RegistryError("manifest unknown", {
 *   host: "docker.io",
 *   status: 404,
 *   code: "MANIFEST_UNKNOWN",
 *   transient: false,
 * });
 * if (!err.transient) console.log(`${err.host}: ${err.code}`);
 * ```
 */
export class RegistryError extends Error {
  /** Registry host as the caller named it. */
  readonly host: string;
  /** HTTP status, absent for network errors, timeouts and local backoff. */
  readonly status?: number;
  /** Distribution error code, e.g. `MANIFEST_UNKNOWN`, `UNAUTHORIZED`. */
  readonly code?: string;
  /** How long to wait before asking this host again. */
  readonly retryAfterMs?: number;
  /** True when the same request may succeed later. */
  readonly transient: boolean;
  /** The tag the failure is about, when it is about one: what a report of it names. */
  readonly subject?: RegistrySubject;

  /** An error with a human-readable `message` naming host and request. */
  constructor(message: string, init: RegistryErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "RegistryError";
    this.host = init.host;
    this.status = init.status;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.transient = init.transient;
    this.subject = init.subject;
  }

  /**
   * The same failure, about `subject`.
   *
   * @example
   * ```ts
   * import { RegistryError } from "./errors.ts";
   * const err = new RegistryError("denied", { host: "h", status: 403, transient: false });
   * err.about({ repository: "h/app", tag: "1.2" }).subject; // { repository: "h/app", tag: "1.2" }
   * ```
   */
  about(subject: RegistrySubject): RegistryError {
    const { host, status, code, retryAfterMs, transient, cause } = this;
    const err = new RegistryError(this.message, {
      host,
      status,
      code,
      retryAfterMs,
      transient,
      cause,
      subject,
    });
    err.stack = this.stack;
    return err;
  }
}

/**
 * The code of a {@linkcode RegistryError} for a manifest HEAD answered without a valid
 * `Docker-Content-Digest`: the manifest exists, but its digest needs a GET.
 *
 * @example
 * ```ts
 * import { DIGEST_MISSING, RegistryError } from "./errors.ts";
 * const err = new RegistryError("no digest", { host: "h", status: 200, code: DIGEST_MISSING, transient: false });
 * if (err.code === DIGEST_MISSING) console.log("GET the manifest instead");
 * ```
 */
export const DIGEST_MISSING = "DIGEST_MISSING";

/**
 * Whether the registry refused the credentials (401, 403, `UNAUTHORIZED`, `DENIED`): another
 * credential, or none, may do.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCredentialRefusal, RegistryError } from "./errors.ts";
 * assert.equal(isCredentialRefusal(new RegistryError("denied", { host: "h", status: 403, transient: false })), true);
 * assert.equal(isCredentialRefusal(new Error("network")), false);
 * ```
 */
export function isCredentialRefusal(err: unknown): boolean {
  return err instanceof RegistryError && (err.status === 401 || err.status === 403 ||
    err.code === "UNAUTHORIZED" || err.code === "DENIED");
}

/**
 * Whether an HTTP status may pass by itself: `408`, `429` and `5xx`. Every other failed
 * status is an answer a retry cannot change.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTransientStatus } from "./errors.ts";
 * assert.deepEqual([400, 404, 408, 429, 503].map(isTransientStatus), [false, false, true, true, true]);
 * ```
 */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The code of a {@linkcode RegistryError} for a tag listing over its bounds (bytes or tags
 * across all pages): refused for this cycle.
 *
 * @example
 * ```ts
 * import { LISTING_TOO_LARGE, RegistryError } from "./errors.ts";
 * const err = new RegistryError("too many tags", { host: "h", code: LISTING_TOO_LARGE, transient: false });
 * if (err.code === LISTING_TOO_LARGE) console.log("listing refused this cycle");
 * ```
 */
export const LISTING_TOO_LARGE = "LISTING_TOO_LARGE";

/** Why a registry failure is final, as a metrics label; see {@linkcode finalReason}. */
export type FinalReason =
  | "credentials-refused"
  | "host-refused"
  | "too-large"
  | "not-found"
  | "client-error"
  | "malformed";

/**
 * The one rule of final against transient for registry failures: final when no retry can
 * change the answer (refused credentials or realm, a host the policy refuses, a malformed or
 * oversized answer, a `4xx` other than `408`/`429`): that workload's problem, reported and
 * retried from the work queue with back-off, while a delivery is answered `200` for the
 * others. Anything else (the registry or API server unreachable, timeouts, `5xx`, `429`, any
 * error that is not a {@linkcode RegistryError}) is transient: a delivery is answered `503`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isFinal, RegistryError } from "./errors.ts";
 * assert.equal(isFinal(new RegistryError("invalid_grant", { host: "h", status: 400, transient: false })), true);
 * assert.equal(isFinal(new RegistryError("busy", { host: "h", status: 503, transient: true })), false);
 * assert.equal(isFinal(new Error("API server unreachable")), false);
 * ```
 */
export function isFinal(err: unknown): err is RegistryError {
  return err instanceof RegistryError && !err.transient;
}

/**
 * Why a final registry failure is final, in a few words fit for a metrics label.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finalReason, RegistryError } from "./errors.ts";
 * const err = new RegistryError("denied", { host: "h", status: 403, transient: false });
 * assert.equal(finalReason(err), "credentials-refused");
 * ```
 */
export function finalReason(err: RegistryError): FinalReason {
  if (isCredentialRefusal(err)) return "credentials-refused";
  if (err.code === "HOST_REFUSED") return "host-refused";
  if (err.code === "TOO_LARGE" || err.code === LISTING_TOO_LARGE) return "too-large";
  if (err.status === 404) return "not-found";
  if (err.status !== undefined && err.status >= 400 && err.status <= 499) return "client-error";
  return "malformed";
}
