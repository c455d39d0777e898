/**
 * RFC 6902 JSON Patch (`application/json-patch+json`).
 *
 * Mirrors kube-apiserver's split of failures: a body that is not an array of
 * operation objects is {@link MalformedPatchError} (400 BadRequest); an
 * operation that cannot be applied, including a failed `test`, is
 * {@link PatchApplyError} (422 Invalid).
 *
 * @module
 */

import { deepEqual, isJsonObject, type JsonObject } from "./json_value.ts";

/** One decoded operation. */
export interface JsonPatchOperation {
  op: string;
  path?: unknown;
  from?: unknown;
  value?: unknown;
}

/**
 * The patch document itself is malformed.
 *
 * @example
 * ```ts
 * import { decodeJsonPatch, MalformedPatchError } from "./json_patch.ts";
 * try { decodeJsonPatch({}); } catch (e) { e instanceof MalformedPatchError; } // true
 * ```
 */
export class MalformedPatchError extends Error {}

/**
 * The patch is well formed but does not apply to the document.
 *
 * @example
 * ```ts
 * import { applyJsonPatch, PatchApplyError } from "./json_patch.ts";
 * try { applyJsonPatch({}, [{ op: "test", path: "/a", value: 1 }]); } catch (e) { e instanceof PatchApplyError; } // true
 * ```
 */
export class PatchApplyError extends Error {}

/**
 * Check a decoded body is an array of operation objects.
 *
 * @example
 * ```ts
 * import { decodeJsonPatch } from "./json_patch.ts";
 * decodeJsonPatch([{ op: "remove", path: "/a" }]).length; // 1
 * ```
 */
export function decodeJsonPatch(body: unknown): JsonPatchOperation[] {
  if (!Array.isArray(body) || !body.every(isJsonObject)) {
    throw new MalformedPatchError(
      "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
    );
  }
  return body as unknown as JsonPatchOperation[];
}

/**
 * Apply operations in order. `doc` is modified in place (pass a copy); the
 * result is returned because an operation on `""` replaces the whole document.
 *
 * @example
 * ```ts
 * import { applyJsonPatch } from "./json_patch.ts";
 * applyJsonPatch({ a: [1] }, [{ op: "add", path: "/a/-", value: 2 }]); // { a: [1, 2] }
 * ```
 */
export function applyJsonPatch(doc: unknown, ops: readonly JsonPatchOperation[]): unknown {
  for (const op of ops) doc = applyOne(doc, op);
  return doc;
}

function applyOne(doc: unknown, op: JsonPatchOperation): unknown {
  const path = pointer(op.path, "path");
  switch (op.op) {
    case "add":
      return add(doc, path, valueOf(op));
    case "remove":
      remove(doc, path, op.op);
      return doc;
    case "replace": {
      const value = valueOf(op);
      if (path.length === 0) return value;
      remove(doc, path, op.op);
      return add(doc, path, value);
    }
    case "move": {
      const from = pointer(op.from, "from");
      if (path.length > from.length && from.every((t, i) => t === path[i])) {
        throw new PatchApplyError(`move operation does not apply: from is a prefix of path`);
      }
      const value = get(doc, from, op.op);
      remove(doc, from, op.op);
      return add(doc, path, value);
    }
    case "copy": {
      const from = pointer(op.from, "from");
      return add(doc, path, structuredClone(get(doc, from, op.op)));
    }
    case "test": {
      const expected = op.value ?? null;
      const [parent, key] = locate(doc, path, op.op);
      // Like the apiserver's jsonpatch library, an absent member equals a tested null.
      const present = parent === undefined ? path.length === 0 : has(parent, key);
      const actual = path.length === 0 ? doc : present ? member(parent, key) : null;
      if (!deepEqual(actual, expected)) {
        throw new PatchApplyError(`testing value /${path.join("/")} failed: test failed`);
      }
      return doc;
    }
    default:
      throw new PatchApplyError(`Unexpected kind: ${op.op}`);
  }
}

function valueOf(op: JsonPatchOperation): unknown {
  if (!("value" in op)) throw new PatchApplyError(`${op.op} operation is missing a value`);
  return op.value;
}

/** Parse an RFC 6901 pointer into unescaped reference tokens. */
function pointer(raw: unknown, field: string): string[] {
  if (typeof raw !== "string") throw new PatchApplyError(`operation missing ${field} string`);
  if (raw === "") return [];
  if (!raw.startsWith("/")) throw new PatchApplyError(`invalid JSON pointer: ${raw}`);
  return raw.slice(1).split("/").map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** The container holding the last token of `path`, and that token. */
function locate(doc: unknown, path: string[], op: string): [unknown, string] {
  let cur = doc;
  for (const token of path.slice(0, -1)) {
    if (!has(cur, token)) {
      throw new PatchApplyError(
        `${op} operation does not apply: doc is missing path: /${path.join("/")}`,
      );
    }
    cur = member(cur, token);
  }
  return [path.length === 0 ? undefined : cur, path[path.length - 1]];
}

function has(container: unknown, key: string): boolean {
  if (Array.isArray(container)) {
    const i = index(key, container.length - 1);
    return i !== undefined;
  }
  return isJsonObject(container) && Object.hasOwn(container, key);
}

function member(container: unknown, key: string): unknown {
  return Array.isArray(container) ? container[Number(key)] : (container as JsonObject)[key];
}

/** An array index in `0..max`, or undefined when `key` is not one. */
function index(key: string, max: number): number | undefined {
  if (!/^(0|[1-9]\d*)$/.test(key)) return undefined;
  const i = Number(key);
  return i <= max ? i : undefined;
}

function get(doc: unknown, path: string[], op: string): unknown {
  if (path.length === 0) return doc;
  const [parent, key] = locate(doc, path, op);
  if (!has(parent, key)) {
    throw new PatchApplyError(
      `${op} operation does not apply: doc is missing key: /${path.join("/")}`,
    );
  }
  return member(parent, key);
}

function add(doc: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [parent, key] = locate(doc, path, "add");
  if (Array.isArray(parent)) {
    const i = key === "-" ? parent.length : index(key, parent.length);
    if (i === undefined) {
      throw new PatchApplyError(`add operation does not apply: index ${key} out of bounds`);
    }
    parent.splice(i, 0, value);
  } else if (isJsonObject(parent)) {
    parent[key] = value;
  } else {
    throw new PatchApplyError(
      `add operation does not apply: doc is missing path: /${path.join("/")}`,
    );
  }
  return doc;
}

function remove(doc: unknown, path: string[], op: string): void {
  if (path.length === 0) {
    throw new PatchApplyError(`${op} operation does not apply: cannot remove the root`);
  }
  const [parent, key] = locate(doc, path, op);
  if (!has(parent, key)) {
    throw new PatchApplyError(
      `${op} operation does not apply: doc is missing key: /${path.join("/")}`,
    );
  }
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete (parent as JsonObject)[key];
}
