/**
 * `kind: Status` failures, shaped like the ones kube-apiserver writes, and the
 * constructors for each reason the fake server answers with.
 *
 * @module
 */

import { type ApiResource, qualifiedKind, qualifiedResource } from "./resources.ts";
import type { JsonObject } from "./json_value.ts";
import { jsonResponse } from "./response.ts";
import { STATUS_REASONS } from "../../lib/kube/errors.ts";

/**
 * One cause of a failure: field-level for `Invalid` (all three set); an admission policy's
 * denial carries the message alone.
 */
export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

/** `details` of a Status; empty fields are left out, as the real server does. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/**
 * A failure the server answers with a Status body.
 *
 * @example
 * ```ts
 * import { ApiError } from "./status.ts";
 * new ApiError(400, "BadRequest", "bad body").toStatus().reason; // "BadRequest"
 * ```
 */
export class ApiError extends Error {
  /** Build a failure; `reason` defaults from the code. */
  constructor(
    readonly code: number,
    readonly reason: string | undefined,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  /** The `kind: Status` body. */
  toStatus(): JsonObject {
    const body: JsonObject = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason ?? STATUS_REASONS[this.code] ?? "Unknown",
    };
    // An empty reason is left out, as Go's omitempty does (a webhook's Status may have none).
    if (this.reason === "") delete body.reason;
    if (this.details) body.details = this.details;
    body.code = this.code;
    return body;
  }

  /** The HTTP response carrying the Status body. */
  toResponse(): Response {
    const retry = this.details?.retryAfterSeconds;
    return jsonResponse(this.toStatus(), this.code, retry ? { "retry-after": String(retry) } : {});
  }
}

/**
 * A failure with the real server's default reason and message for `code`.
 *
 * @example
 * ```ts
 * import { genericError } from "./status.ts";
 * genericError(422).message; // "the server rejected our request due to an error in our request"
 * ```
 */
export function genericError(code: number, reason?: string, message?: string): ApiError {
  const defaults: Record<number, string> = {
    401: "Unauthorized",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    409: "the server reported a conflict",
    422: "the server rejected our request due to an error in our request",
    429: "the server has received too many requests and has asked us to try again later",
    503: "the server is currently unable to handle the request",
  };
  const text = message ?? defaults[code] ??
    `the server responded with the status code ${code} but did not return more information`;
  // The authentication filter answers 401 without details; generic responses carry `{}`.
  const details: StatusDetails | undefined = code === 401
    ? undefined
    : code === 429
    ? { retryAfterSeconds: 1 }
    : {};
  return new ApiError(code, reason, text, details);
}

/**
 * Answer when a bad Bearer token or none is given.
 *
 * @example
 * ```ts
 * import { unauthorized } from "./status.ts";
 * unauthorized().code; // 401
 * ```
 */
export function unauthorized(): ApiError {
  return genericError(401);
}

/**
 * 404 for a named object, e.g. `deployments.apps "web" not found`.
 *
 * @example
 * ```ts
 * import { notFound } from "./status.ts";
 * import { findByKind } from "./resources.ts";
 * notFound(findByKind("apps/v1", "Deployment")!, "web").message; // 'deployments.apps "web" not found'
 * ```
 */
export function notFound(type: ApiResource, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualifiedResource(type)} "${name}" not found`, {
    name,
    ...groupOf(type),
    kind: type.resource,
  });
}

/**
 * 409 AlreadyExists for a create of a taken name.
 *
 * @example
 * ```ts
 * import { alreadyExists } from "./status.ts";
 * import { findByKind } from "./resources.ts";
 * alreadyExists(findByKind("v1", "Secret")!, "pull").reason; // "AlreadyExists"
 * ```
 */
export function alreadyExists(type: ApiResource, name: string): ApiError {
  return new ApiError(409, "AlreadyExists", `${qualifiedResource(type)} "${name}" already exists`, {
    name,
    ...groupOf(type),
    kind: type.resource,
  });
}

/**
 * 409 Conflict; the default `why` is the stale-resourceVersion text.
 *
 * @example
 * ```ts
 * import { conflict } from "./status.ts";
 * import { findByKind } from "./resources.ts";
 * conflict(findByKind("apps/v1", "Deployment")!, "web").code; // 409
 * ```
 */
export function conflict(
  type: ApiResource,
  name: string,
  why =
    "the object has been modified; please apply your changes to the latest version and try again",
): ApiError {
  const message = `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": ${why}`;
  return new ApiError(409, "Conflict", message, { name, ...groupOf(type), kind: type.resource });
}

/**
 * 422 Invalid listing field causes, e.g. a create without a name.
 *
 * @example
 * ```ts
 * import { invalid } from "./status.ts";
 * import { findByKind } from "./resources.ts";
 * const type = findByKind("apps/v1", "Deployment")!;
 * invalid(type, "", [{ reason: "FieldValueRequired", field: "metadata.name", message: "Required value" }]);
 * ```
 */
export function invalid(type: ApiResource, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  const message = `${qualifiedKind(type)} "${name}" is invalid: ${
    causes.length > 1 ? `[${list}]` : list
  }`;
  const details: StatusDetails = { ...groupOf(type), kind: type.kind, causes };
  return new ApiError(422, "Invalid", message, name ? { name, ...details } : details);
}

/**
 * 400 BadRequest (malformed JSON, selectors, patches, mismatched names).
 *
 * @example
 * ```ts
 * import { badRequest } from "./status.ts";
 * badRequest("unable to parse requirement").code; // 400
 * ```
 */
export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

/**
 * 410 Expired, for resourceVersions and continue tokens older than the compaction point.
 *
 * @example
 * ```ts
 * import { expired } from "./status.ts";
 * expired("too old resource version: 1 (5)").toStatus().reason; // "Expired"
 * ```
 */
export function expired(message: string): ApiError {
  return new ApiError(410, "Expired", message);
}

function groupOf(type: ApiResource): { group?: string } {
  return type.group ? { group: type.group } : {};
}

/** `NewForbidden`'s message and details: the resource, then the error. */
function forbidden(type: ApiResource, name: string, why: string): [string, StatusDetails] {
  const what = name ? `${qualifiedResource(type)} "${name}"` : qualifiedResource(type);
  const details = { ...(name ? { name } : {}), ...groupOf(type), kind: type.resource };
  return [`${what} is forbidden: ${why}`, details];
}

/**
 * 403 from RBAC, as the authorization filter writes it: `NewForbidden` naming the resource,
 * no causes.
 *
 * @example
 * ```ts
 * import { rbacForbidden } from "./status.ts";
 * import { findByKind } from "./resources.ts";
 * const type = findByKind("apps/v1", "Deployment")!;
 * rbacForbidden(type, "web", "default", "system:serviceaccount:argoos:argoos", "patch").code; // 403
 * ```
 */
export function rbacForbidden(
  type: ApiResource,
  name: string,
  namespace: string,
  user: string,
  verb: string,
): ApiError {
  const group = type.group ? `"${type.group}"` : '""';
  const [message, details] = forbidden(
    type,
    name,
    `User "${user}" cannot ${verb} resource "${type.resource}" in API group ${group} in the ` +
      `namespace "${namespace}"`,
  );
  return new ApiError(403, "Forbidden", message, details);
}

/**
 * A ValidatingAdmissionPolicy's denial, as kube-apiserver's policy dispatcher builds it:
 * `NewForbidden`, then the validation's `reason` (default `Invalid`) and its code, and one
 * cause holding only the message.
 *
 * @example
 * ```ts
 * import { admissionPolicyDenied } from "./status.ts";
 * import { findByKind } from "./resources.ts";
 * const type = findByKind("apps/v1", "Deployment")!;
 * admissionPolicyDenied(type, "web", "pinned", "pinned-binding", "no", "Forbidden").code; // 403
 * ```
 */
export function admissionPolicyDenied(
  type: ApiResource,
  name: string,
  policy: string,
  binding: string,
  why: string,
  reason: "Forbidden" | "Invalid" | "Unauthorized" | "RequestEntityTooLarge" = "Invalid",
): ApiError {
  const denial =
    `ValidatingAdmissionPolicy '${policy}' with binding '${binding}' denied request: ${why}`;
  const [message, details] = forbidden(type, name, denial);
  const code = { Forbidden: 403, Invalid: 422, Unauthorized: 401, RequestEntityTooLarge: 413 };
  return new ApiError(code[reason], reason, message, { ...details, causes: [{ message: denial }] });
}

/**
 * An admission webhook's denial: the webhook's own Status (code raised to at least 400),
 * its message prefixed by the API server; no details unless the webhook sent some.
 *
 * @example
 * ```ts
 * import { webhookDenied } from "./status.ts";
 * webhookDenied("policy.example.com", { code: 403, reason: "Forbidden", message: "no" }).code; // 403
 * ```
 */
export function webhookDenied(
  webhook: string,
  result: { code?: number; reason?: string; message?: string },
): ApiError {
  const deniedBy = `admission webhook "${webhook}" denied the request`;
  const message = result.message
    ? `${deniedBy}: ${result.message}`
    : result.reason
    ? `${deniedBy}: ${result.reason}`
    : `${deniedBy} without explanation`;
  const code = (result.code ?? 0) < 400 ? 400 : result.code!;
  return new ApiError(code, result.reason ?? "", message);
}
