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

  /** An error with a human-readable `message` naming host and request. */
  constructor(message: string, init: RegistryErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "RegistryError";
    this.host = init.host;
    this.status = init.status;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.transient = init.transient;
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
