/**
 * Collection reads: `<Kind>List` bodies with `limit`/`continue` pagination and
 * the resourceVersion rules of kube-apiserver.
 *
 * Items leave out `kind` and `apiVersion`, as the real server does for
 * built-in types. A continue token is opaque base64url JSON like the real
 * one; pages after the first are cut from the current state rather than a
 * snapshot, and `resourceVersionMatch=Exact` returns the current state when
 * the version is not compacted.
 *
 * @module
 */

import { apiVersionOf } from "../../lib/kube/resource.ts";
import type { JsonObject } from "./json_value.ts";
import { type Selection, selects } from "./selection.ts";
import { firstAtOrAfter, objectKey, type ObjectStore } from "./store.ts";
import { badRequest, expired } from "./status.ts";

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

/**
 * The list body for a selection and the list query parameters; throws ApiError.
 *
 * @example
 * ```ts
 * import { listObjects } from "./list.ts";
 * import { ObjectStore } from "./store.ts";
 * import { findByKind } from "./resources.ts";
 * const type = findByKind("v1", "ConfigMap")!;
 * listObjects(new ObjectStore(), { type, labels: [], fields: [] }, new URLSearchParams()).kind;
 * // "ConfigMapList"
 * ```
 */
export function listObjects(
  store: ObjectStore,
  selection: Selection,
  query: URLSearchParams,
): JsonObject {
  const { type } = selection;
  const requestedRv = parseVersion(query.get("resourceVersion"));
  const token = query.get("continue") ? decodeToken(query.get("continue")!) : undefined;
  if (token && requestedRv !== undefined && requestedRv !== 0) {
    throw badRequest("specifying resource version is not allowed when using continue");
  }
  if (token && token.rv < store.compactedAt) {
    throw expired(
      "The provided continue parameter is too old to display a consistent list result. " +
        "You can start a new list without the continue parameter, or use the continue token " +
        "in this response to retrieve the remainder of the results.",
    );
  }
  if (
    query.get("resourceVersionMatch") === "Exact" && requestedRv !== undefined &&
    requestedRv < store.compactedAt
  ) {
    throw expired("The resourceVersion for the provided list is too old.");
  }
  const limit = parseLimit(query.get("limit"));
  const listRv = token?.rv ?? store.resourceVersion;
  // A page is read from its continue key on, as etcd reads a key range: each page costs its
  // own size, not the whole collection's.
  const all = store.list(type, selection.namespace);
  const from = token ? firstAtOrAfter(all, token.start, keyOf) : 0;
  const page: JsonObject[] = [];
  let more = false;
  for (let i = from; i < all.length; i++) {
    if (!selects(selection, all[i])) continue;
    if (limit !== undefined && page.length === limit) {
      more = true;
      break;
    }
    page.push(all[i]);
  }
  const metadata: JsonObject = { resourceVersion: String(listRv) };
  if (more) {
    const next: ContinueToken = {
      v: "meta.k8s.io/v1",
      rv: listRv,
      start: keyOf(page[page.length - 1]) + "\u0000",
    };
    metadata.continue = encodeToken(next);
    // The real server only counts the rest when no selector filters it.
    if (selection.labels.length === 0 && selection.fields.length === 0) {
      metadata.remainingItemCount = all.length - from - page.length;
    }
  }
  return {
    kind: `${type.kind}List`,
    apiVersion: apiVersionOf(type),
    metadata,
    items: page.map(({ kind: _kind, apiVersion: _apiVersion, ...item }) => item),
  };
}

/**
 * A resourceVersion query value as a number; undefined when absent, 400 when not decimal.
 *
 * @example
 * ```ts
 * import { parseVersion } from "./list.ts";
 * parseVersion("42"); // 42
 * parseVersion(null); // undefined
 * ```
 */
export function parseVersion(value: string | null): number | undefined {
  if (value === null || value === "") return undefined;
  if (!/^\d+$/.test(value)) throw badRequest(`invalid resource version: "${value}"`);
  return Number(value);
}

function parseLimit(value: string | null): number | undefined {
  if (value === null || value === "") return undefined;
  if (!/^-?\d+$/.test(value)) throw badRequest(`limit: invalid value "${value}"`);
  const limit = Number(value);
  return limit > 0 ? limit : undefined;
}

function keyOf(obj: JsonObject): string {
  const meta = obj.metadata as JsonObject;
  return objectKey(meta.namespace as string | undefined, meta.name as string);
}

function encodeToken(token: ContinueToken): string {
  return btoa(JSON.stringify(token)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeToken(text: string): ContinueToken {
  try {
    const token = JSON.parse(atob(text.replaceAll("-", "+").replaceAll("_", "/")));
    if (
      token.v !== "meta.k8s.io/v1" || typeof token.rv !== "number" ||
      typeof token.start !== "string"
    ) {
      throw new Error("unrecognised token");
    }
    return token;
  } catch (e) {
    throw badRequest(`continue key is not valid: ${(e as Error).message}`);
  }
}
