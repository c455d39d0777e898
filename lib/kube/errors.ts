/**
 * Errors from Kubernetes API calls, and which of them are worth retrying.
 *
 * @module
 */

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
  cause?: unknown;
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
    });
  }
}

/** The fields of a `kind: Status` object that matter here. */
interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
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
