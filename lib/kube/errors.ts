/**
 * Errors from Kubernetes API calls, and which of them are worth retrying.
 *
 * @module
 */

import { isObject } from "../parse/object.ts";

/** What a {@linkcode KubeApiError} is built from. */
export interface KubeApiErrorInit {
  /** HTTP status, or 0 when no response arrived (network error, timeout). */
  status: number;
  /** The Status `reason` (e.g. `NotFound`, `Expired`), or a short word of our own. */
  reason: string;
  /** Human-readable detail: the Status `message`, or the start of a non-JSON body. */
  message: string;
  method: string;
  path: string;
  /** The Status `details`, when the server sent them. */
  details?: StatusDetails;
  cause?: unknown;
}

/** One cause in a Status's `details`. */
export interface StatusCause {
  /** A CauseType, e.g. `FieldValueInvalid`; absent on an admission policy's denial. */
  reason?: string;
  message?: string;
  field?: string;
}

/** The `details` of a `kind: Status` failure. */
export interface StatusDetails {
  name?: string;
  group?: string;
  /** The resource (`deployments`), as `NewForbidden`/`NewInvalid` write it. */
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/**
 * A failed API call, carrying the server's `kind: Status` when it sent one.
 *
 * @example
 * ```ts
 * import { KubeApiError } from "./errors.ts";
 * const err = new KubeApiError({
 *   status: 404,
 *   reason: "NotFound",
 *   message: 'deployments.apps "web" not found',
 *   method: "GET",
 *   path: "/apis/apps/v1/namespaces/default/deployments/web",
 * });
 * err.message; // 'GET /apis/apps/v1/namespaces/default/deployments/web: 404 NotFound: deployments.apps "web" not found'
 * ```
 */
export class KubeApiError extends Error {
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  readonly reason: string;
  /** The Status `message` or our own words, without method, path and code. */
  readonly detail: string;
  readonly method: string;
  readonly path: string;
  /** The Status `details`, when the server sent them. */
  readonly details?: StatusDetails;

  constructor(init: KubeApiErrorInit) {
    const code = init.status ? `${init.status} ` : "";
    super(`${init.method} ${init.path}: ${code}${init.reason}: ${init.message}`, {
      cause: init.cause,
    });
    this.name = "KubeApiError";
    this.status = init.status;
    this.reason = init.reason;
    this.detail = init.message;
    this.method = init.method;
    this.path = init.path;
    this.details = init.details;
  }

  /**
   * Builds the error from a failed response body: a `kind: Status` object when the
   * API server sent one, otherwise the HTTP status text and the start of the body.
   *
   * @example
   * ```ts
   * import { KubeApiError } from "./errors.ts";
   * const body = '{"kind":"Status","status":"Failure","reason":"Conflict","message":"busy","code":409}';
   * KubeApiError.fromBody("PUT", "/api/v1/namespaces/a/secrets/b", 409, body).reason; // "Conflict"
   * ```
   */
  static fromBody(method: string, path: string, status: number, body: string): KubeApiError {
    const parsed = parseStatus(body);
    return new KubeApiError({
      status: parsed?.code || status,
      reason: parsed?.reason || reasonOf(status),
      message: parsed?.message || body.trim().slice(0, 200) || "(empty body)",
      method,
      path,
      details: isObject(parsed?.details) ? parsed.details as StatusDetails : undefined,
    });
  }
}

/** The fields of a `kind: Status` object that matter here. */
interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: unknown;
}

function parseStatus(body: string): KubeStatus | undefined {
  try {
    const obj = JSON.parse(body);
    return obj?.kind === "Status" ? obj : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `reason` the API server gives each HTTP code when nothing more specific applies
 * (apimachinery's generic responses; 410 is a watch's expired resourceVersion).
 *
 * @example
 * ```ts
 * import { STATUS_REASONS } from "./errors.ts";
 * STATUS_REASONS[422]; // "Invalid"
 * ```
 */
export const STATUS_REASONS: Readonly<Record<number, string>> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Expired",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

function reasonOf(status: number): string {
  return STATUS_REASONS[status] ?? `HTTP${status}`;
}

/**
 * True for failures worth retrying later: network errors, timeouts, 429, 5xx except 501.
 * False for 4xx refusals, deliberate aborts and anything that is not an API failure.
 *
 * @example
 * ```ts
 * import { isTransient, KubeApiError } from "./errors.ts";
 * const err = (status: number) =>
 *   new KubeApiError({ status, reason: "", message: "", method: "GET", path: "/" });
 * isTransient(err(503)); // true
 * isTransient(err(404)); // false
 * isTransient(new TypeError("error sending request")); // true (fetch network failure)
 * ```
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof KubeApiError) {
    const s = err.status;
    return s === 0 || s === 429 || (s >= 500 && s !== 501);
  }
  if (err instanceof DOMException) return err.name === "TimeoutError";
  // fetch reports connection failures as TypeError; Deno's socket errors have their own classes.
  return err instanceof TypeError || err instanceof Deno.errors.ConnectionRefused ||
    err instanceof Deno.errors.ConnectionReset || err instanceof Deno.errors.TimedOut;
}

/**
 * The short reason of a failed connection: fetch says only "fetch failed" and keeps the
 * detail ("tcp connect error: Connection refused (os error 111)") in its cause.
 *
 * @example
 * ```ts
 * import { networkReason } from "./errors.ts";
 * const cause = new Error(
 *   "error sending request for url (http://127.0.0.1:9/version): client error (Connect): " +
 *     "tcp connect error: Connection refused (os error 111)",
 * );
 * networkReason(new TypeError("fetch failed", { cause })); // "connection refused"
 * ```
 */
export function networkReason(err: unknown): string {
  let text = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error && cause.message) text = cause.message;
  const reason = text
    .replace(/^error sending request for url \([^)]*\): /, "")
    .replace(/^(fetch failed: |client error \(Connect\): |tcp connect error: )+/i, "")
    .replace(/ \(os error \d+\)$/, "");
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}

/** How a failed write is handled: retried, reported as a refusal, re-read, or dropped. */
export type WriteErrorClass =
  /** Worth retrying as it is: network, timeouts, 429, 5xx. */
  | "transient"
  /** Argoos lacks the right (RBAC 403, 401): fix the manifests; retried with back-off. */
  | "access"
  /** The cluster refuses this change (admission policy or webhook, validation): report it. */
  | "refused"
  /** The object changed under the write (409, a failed JSON-patch `test`): re-read, decide again. */
  | "conflict"
  /** The object is gone (404). */
  | "gone";

/**
 * Classify a failed write by the Status `code`, `reason` and `details`, never by message text:
 *
 * - 403 with `details.causes`: a ValidatingAdmissionPolicy denial (the API server appends one
 *   cause holding only the message); 403 with the resource in `details` and no causes: RBAC
 *   (`NewForbidden` from the authorizer); 403 without details: an admission webhook's denial
 *   (its own Status, which names no resource). A policy may also deny with 401 or 413
 *   (its `reason`), again with causes.
 * - 422 `Invalid` with neither resource nor causes in `details`: a failed JSON-patch `test`
 *   (kube-apiserver's `NewGenericServerResponse(422, …)` in applyJSPatch), so a conflict;
 *   other 422s (field validation, a policy's default `Invalid`) are refusals.
 * - 400 and other 4xx: refused (a webhook's denial without a code is turned into 400).
 *
 * @example
 * ```ts
 * import { classifyWriteError, KubeApiError } from "./errors.ts";
 * const err = KubeApiError.fromBody("PATCH", "/apis/apps/v1/namespaces/a/deployments/web", 403,
 *   JSON.stringify({ kind: "Status", code: 403, reason: "Forbidden", message: "denied",
 *     details: { name: "web", group: "apps", kind: "deployments", causes: [{ message: "denied" }] } }));
 * classifyWriteError(err); // "refused"
 * ```
 */
export function classifyWriteError(err: unknown): WriteErrorClass {
  if (!(err instanceof KubeApiError)) return "transient";
  const { status, details } = err;
  const causes = details?.causes?.length ?? 0;
  if (status === 0 || isTransient(err) || status === 408) return "transient";
  switch (status) {
    case 401:
      return causes ? "refused" : "access";
    case 403:
      return causes ? "refused" : details?.kind ? "access" : "refused";
    case 404:
    case 410:
      return "gone";
    case 409:
      return "conflict";
    case 422:
      return err.reason === "Invalid" && !causes && !details?.kind ? "conflict" : "refused";
    default:
      return "refused";
  }
}
