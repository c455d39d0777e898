/**
 * Write requests: create (POST), replace (PUT), patch (PATCH) and delete,
 * with kube-apiserver's checks and Status failures.
 *
 * @module
 */

import { apiVersionOf } from "../../lib/kube/resource.ts";
import { isJsonObject, type JsonObject } from "./json_value.ts";
import {
  applyJsonPatch,
  decodeJsonPatch,
  MalformedPatchError,
  PatchApplyError,
} from "./json_patch.ts";
import { applyMergePatch } from "./merge_patch.ts";
import { applyStrategicMergePatch } from "./strategic_merge_patch.ts";
import { sameContent, withSystemFields } from "./object_meta.ts";
import type { Route } from "./routes.ts";
import type { Selection } from "./selection.ts";
import { selects } from "./selection.ts";
import type { ObjectStore } from "./store.ts";
import { jsonResponse } from "./response.ts";
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  genericError,
  invalid,
  notFound,
} from "./status.ts";

/** A write request, its body still as text. */
export interface WriteRequest {
  store: ObjectStore;
  route: Route;
  /** Media type without parameters, lower case; null when absent. */
  mediaType: string | null;
  body: string;
}

const PATCHERS: Record<string, (current: JsonObject, patch: unknown) => unknown> = {
  "application/json-patch+json": (current, patch) =>
    applyJsonPatch(structuredClone(current), decodeJsonPatch(patch)),
  "application/merge-patch+json": applyMergePatch,
  "application/strategic-merge-patch+json": applyStrategicMergePatch,
};

/** Characters Kubernetes uses in generated names (no vowels, no look-alikes). */
export const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * POST to a collection: 201 with the stored object.
 *
 * @example
 * ```ts
 * import { create } from "./writes.ts";
 * import { ObjectStore } from "./store.ts";
 * import { parseRoute } from "./routes.ts";
 * const route = parseRoute("/api/v1/namespaces/default/configmaps")!;
 * const body = JSON.stringify({ metadata: { name: "c" } });
 * create({ store: new ObjectStore(), route, mediaType: "application/json", body }).status; // 201
 * ```
 */
export function create(req: WriteRequest): Response {
  const { store, route } = req;
  const { type } = route;
  if (type.namespaced && route.namespace === undefined) throw genericError(405);
  const obj = objectBody(req);
  const meta = obj.metadata as JsonObject;
  if (!meta.name && typeof meta.generateName === "string" && meta.generateName) {
    meta.name = meta.generateName + randomSuffix();
  }
  const name = typeof meta.name === "string" ? meta.name : "";
  if (!name) {
    throw invalid(type, "", [{
      reason: "FieldValueRequired",
      message: "Required value: name or generateName is required",
      field: "metadata.name",
    }]);
  }
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw invalid(type, name, [{
      reason: "FieldValueInvalid",
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower ` +
        `case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric ` +
        `character`,
      field: "metadata.name",
    }]);
  }
  if (store.get(type, route.namespace, name)) throw alreadyExists(type, name);
  const stored = store.write(type, withSystemFields(type, undefined, obj, { keepStatus: true }));
  return jsonResponse(stored, 201);
}

/**
 * PUT to an object or its status: optimistic concurrency on metadata.resourceVersion.
 *
 * @example
 * ```ts
 * import { replace } from "./writes.ts";
 * import { ObjectStore } from "./store.ts";
 * import { parseRoute } from "./routes.ts";
 * const route = parseRoute("/api/v1/namespaces/default/configmaps/c")!;
 * const body = JSON.stringify({ metadata: { name: "c" } });
 * try { replace({ store: new ObjectStore(), route, mediaType: "application/json", body }); }
 * catch (e) { (e as { code: number }).code; } // 404
 * ```
 */
export function replace(req: WriteRequest): Response {
  const obj = objectBody(req);
  return update(req, obj);
}

/**
 * PATCH an object or its status with a JSON, merge or strategic merge patch.
 *
 * @example
 * ```ts
 * import { patch } from "./writes.ts";
 * import { ObjectStore } from "./store.ts";
 * import { parseRoute } from "./routes.ts";
 * const route = parseRoute("/api/v1/namespaces/default/configmaps/c")!;
 * try { patch({ store: new ObjectStore(), route, mediaType: "text/plain", body: "{}" }); }
 * catch (e) { (e as { code: number }).code; } // 415
 * ```
 */
export function patch(req: WriteRequest): Response {
  const { store, route } = req;
  const patcher = PATCHERS[req.mediaType ?? ""];
  if (!patcher) {
    throw new ApiError(
      415,
      "UnsupportedMediaType",
      "the body of the request was in an unknown format - accepted media types include: " +
        Object.keys(PATCHERS).join(", "),
      {},
    );
  }
  const body = parseJson(req.body);
  const current = store.get(route.type, route.namespace, route.name!);
  if (!current) throw notFound(route.type, route.name!);
  let patched: unknown;
  try {
    patched = patcher(current, body);
  } catch (e) {
    if (e instanceof MalformedPatchError) throw badRequest(e.message);
    // kube-apiserver's applyJSPatch: NewGenericServerResponse(422, …, err.Error(), 0, false);
    // with isUnexpectedResponse false the library's text ("testing value … failed: test
    // failed") becomes no cause, so the body is the bare generic 422 with `details: {}`.
    if (e instanceof PatchApplyError) throw genericError(422);
    throw e;
  }
  if (!isJsonObject(patched) || !isJsonObject(patched.metadata)) throw genericError(422);
  return update(req, patched, current);
}

/**
 * DELETE one object (200 with a Success Status) or, on a collection, every
 * selected object (200 with the list of deleted objects).
 *
 * @example
 * ```ts
 * import { remove } from "./writes.ts";
 * import { ObjectStore } from "./store.ts";
 * import { parseRoute } from "./routes.ts";
 * const route = parseRoute("/api/v1/namespaces/default/configmaps/c")!;
 * try { remove({ store: new ObjectStore(), route, mediaType: null, body: "" }); }
 * catch (e) { (e as { code: number }).code; } // 404
 * ```
 */
export function remove(req: WriteRequest, selection?: Selection): Response {
  const { store, route } = req;
  const { type } = route;
  if (route.name === undefined) {
    const chosen = store.list(type, route.namespace).filter((o) =>
      !selection || selects(selection, o)
    );
    const items = chosen.map((o) => {
      const meta = o.metadata as JsonObject;
      const { kind: _kind, apiVersion: _apiVersion, ...item } = store.delete(
        type,
        meta.namespace as string | undefined,
        meta.name as string,
      )!;
      return item;
    });
    return jsonResponse({
      kind: `${type.kind}List`,
      apiVersion: apiVersionOf(type),
      metadata: { resourceVersion: String(store.resourceVersion) },
      items,
    });
  }
  const current = store.get(type, route.namespace, route.name);
  if (!current) throw notFound(type, route.name);
  const meta = current.metadata as JsonObject;
  const options = req.body.trim() ? parseJson(req.body) : {};
  const pre = isJsonObject(options) && isJsonObject(options.preconditions)
    ? options.preconditions
    : {};
  for (const field of ["uid", "resourceVersion"] as const) {
    if (pre[field] !== undefined && pre[field] !== meta[field]) {
      const label = field === "uid" ? "UID" : "ResourceVersion";
      throw conflict(
        type,
        route.name,
        `Precondition failed: ${label} in precondition: ${pre[field]}, ${label} in object meta: ${
          meta[field]
        }`,
      );
    }
  }
  store.delete(type, route.namespace, route.name);
  return jsonResponse({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: {
      name: route.name,
      ...(type.group ? { group: type.group } : {}),
      kind: type.resource,
      uid: meta.uid,
    },
  });
}

/** Shared tail of PUT and PATCH: checks, server-owned fields, no-op detection, write. */
function update(req: WriteRequest, obj: JsonObject, current?: JsonObject): Response {
  const { store, route } = req;
  const { type } = route;
  const name = route.name!;
  const meta = obj.metadata as JsonObject;
  if (meta.name !== name) {
    throw badRequest(
      `the name of the object (${meta.name ?? ""}) does not match the name on the URL (${name})`,
    );
  }
  if (type.namespaced && meta.namespace !== route.namespace) {
    throw badRequest(
      "the namespace of the provided object does not match the namespace sent on the request",
    );
  }
  current ??= store.get(type, route.namespace, name);
  if (!current) throw notFound(type, name);
  const currentRv = (current.metadata as JsonObject).resourceVersion;
  if (meta.resourceVersion !== undefined && meta.resourceVersion !== currentRv) {
    throw conflict(type, name);
  }
  const next = route.subresource === "status"
    ? withStatus(current, obj.status)
    : withSystemFields(type, current, obj, { keepStatus: true });
  if (sameContent(current, next)) return jsonResponse(current);
  return jsonResponse(store.write(type, next));
}

/** `current` with only its status replaced, as writes to `/status` do. */
function withStatus(current: JsonObject, status: unknown): JsonObject {
  const { status: _old, ...rest } = current;
  return status === undefined ? rest : { ...rest, status };
}

/** Decode a POST/PUT body and check kind, apiVersion and namespace against the route. */
function objectBody(req: WriteRequest): JsonObject {
  const { route } = req;
  const { type } = route;
  if (req.mediaType !== "application/json") {
    throw new ApiError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ` +
        `application/json`,
      {},
    );
  }
  const obj = parseJson(req.body);
  if (!isJsonObject(obj)) throw badRequest("the request body must be a JSON object");
  const apiVersion = apiVersionOf(type);
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
    throw badRequest(
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`,
    );
  }
  if (obj.kind !== undefined && obj.kind !== type.kind) {
    throw badRequest(
      `the kind in the data (${obj.kind}) does not match the expected kind (${type.kind})`,
    );
  }
  const meta: JsonObject = isJsonObject(obj.metadata) ? { ...obj.metadata } : {};
  if (!type.namespaced) {
    delete meta.namespace;
  } else if (meta.namespace === undefined || meta.namespace === "") {
    meta.namespace = route.namespace;
  } else if (meta.namespace !== route.namespace) {
    throw badRequest(
      "the namespace of the provided object does not match the namespace sent on the request",
    );
  }
  return { ...obj, metadata: meta };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`couldn't decode the request body: ${(e as Error).message}`);
  }
}

/**
 * Five random characters of the alphabet kube-apiserver uses for generateName suffixes.
 *
 * @example
 * ```ts
 * import { randomSuffix, SAFE_ALPHABET } from "./writes.ts";
 * [...randomSuffix()].every((c) => SAFE_ALPHABET.includes(c)); // true
 * ```
 */
export function randomSuffix(): string {
  const alphabet = SAFE_ALPHABET;
  return Array.from({ length: 5 }, () => alphabet[Math.floor(Math.random() * alphabet.length)])
    .join("");
}
