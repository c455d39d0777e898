/**
 * The object store behind the fake API server: objects indexed by type and
 * `namespace/name`, one global resourceVersion counter, a per-type event log
 * for resuming watches, and change listeners.
 *
 * Stored objects are never modified after they are written; every write
 * stores a new object, so readers may hold references without copying.
 *
 * @module
 */

import type { ApiResource } from "./resources.ts";
import type { JsonObject } from "./json_value.ts";

/** A change, as logged for watches. */
export interface StoreEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  /** resourceVersion of the write. */
  rv: number;
  /** The object after the write (for DELETED, the last state before deletion). */
  object: JsonObject;
  /** The object before the write, for MODIFIED. */
  previous?: JsonObject;
  /** `JSON.stringify(object)`, computed once for all watchers. */
  json?: string;
}

/** Receives every event of one type as it happens. */
export type StoreListener = (event: StoreEvent) => void;

/**
 * `namespace/name` (or `name` for cluster-scoped objects): the etcd key order lists use.
 *
 * @example
 * ```ts
 * import { objectKey } from "./store.ts";
 * objectKey("default", "web"); // "default/web"
 * ```
 */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/**
 * In-memory storage with watch history.
 *
 * @example
 * ```ts
 * import { ObjectStore } from "./store.ts";
 * import { findByKind } from "./resources.ts";
 * const store = new ObjectStore();
 * const type = findByKind("v1", "ConfigMap")!;
 * store.write(type, { metadata: { name: "c", namespace: "default" } });
 * store.get(type, "default", "c")?.metadata; // { name: "c", namespace: "default", resourceVersion: "1" }
 * ```
 */
export class ObjectStore {
  #rv = 0;
  #compactedAt = 0;
  #objects = new Map<ApiResource, Map<string, JsonObject>>();
  /** Each type's keys in order, kept until a key comes or goes (a paged list reads it per page). */
  #sortedKeys = new Map<ApiResource, string[]>();
  #logs = new Map<ApiResource, StoreEvent[]>();
  #listeners = new Map<ApiResource, Set<StoreListener>>();

  /** The latest resourceVersion handed out. */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** Events at or before this resourceVersion are forgotten. */
  get compactedAt(): number {
    return this.#compactedAt;
  }

  /** The stored object, or undefined. */
  get(type: ApiResource, namespace: string | undefined, name: string): JsonObject | undefined {
    return this.#objects.get(type)?.get(objectKey(namespace, name));
  }

  /** All objects of a type (optionally one namespace) in key order. */
  list(type: ApiResource, namespace?: string): JsonObject[] {
    const objects = this.#objects.get(type);
    if (!objects) return [];
    let keys = this.#sortedKeys.get(type);
    if (!keys) this.#sortedKeys.set(type, keys = [...objects.keys()].sort());
    const prefix = namespace ? `${namespace}/` : "";
    const from = prefix ? firstAtOrAfter(keys, prefix, (k) => k) : 0;
    const out: JsonObject[] = [];
    for (let i = from; i < keys.length && keys[i].startsWith(prefix); i++) {
      out.push(objects.get(keys[i])!);
    }
    return out;
  }

  /**
   * Store `obj` (which must carry metadata.name, and metadata.namespace when
   * namespaced) under a new resourceVersion, and tell watchers.
   */
  write(type: ApiResource, obj: JsonObject): JsonObject {
    const rv = ++this.#rv;
    const meta = obj.metadata as JsonObject;
    const stored = { ...obj, metadata: { ...meta, resourceVersion: String(rv) } };
    const key = objectKey(meta.namespace as string | undefined, meta.name as string);
    let objects = this.#objects.get(type);
    if (!objects) this.#objects.set(type, objects = new Map());
    const previous = objects.get(key);
    objects.set(key, stored);
    if (!previous) this.#sortedKeys.delete(type);
    this.#emit(type, { type: previous ? "MODIFIED" : "ADDED", rv, object: stored, previous });
    return stored;
  }

  /** Delete an object under a new resourceVersion; returns its last state. */
  delete(type: ApiResource, namespace: string | undefined, name: string): JsonObject | undefined {
    const objects = this.#objects.get(type);
    const key = objectKey(namespace, name);
    const previous = objects?.get(key);
    if (!objects || !previous) return undefined;
    objects.delete(key);
    this.#sortedKeys.delete(type);
    const rv = ++this.#rv;
    const object = {
      ...previous,
      metadata: { ...previous.metadata as JsonObject, resourceVersion: String(rv) },
    };
    this.#emit(type, { type: "DELETED", rv, object });
    return object;
  }

  /** Logged events of a type after `rv`, oldest first. */
  eventsSince(type: ApiResource, rv: number): StoreEvent[] {
    const log = this.#logs.get(type) ?? [];
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (log[mid].rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return log.slice(lo);
  }

  /** Listen to a type's events; returns the unsubscribe function. */
  subscribe(type: ApiResource, listener: StoreListener): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, set = new Set());
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Forget history up to now, as etcd compaction does. */
  compact(): void {
    this.#compactedAt = this.#rv;
    this.#logs.clear();
  }

  #emit(type: ApiResource, event: StoreEvent): void {
    let log = this.#logs.get(type);
    if (!log) this.#logs.set(type, log = []);
    log.push(event);
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }
}

/** The index of the first of `items` (in key order) whose key is at or after `key`. */
export function firstAtOrAfter<T>(
  items: readonly T[],
  key: string,
  keyOf: (item: T) => string,
): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keyOf(items[mid]) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
