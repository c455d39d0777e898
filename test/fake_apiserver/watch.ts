/**
 * Watch streams: newline-delimited `{"type","object"}` events over a chunked
 * response, as kube-apiserver sends them.
 *
 * Starting without a resourceVersion (or at "0") sends the current state as
 * ADDED first; starting at N replays logged events after N; N older than the
 * last compaction gets one ERROR event carrying a 410 Expired Status, then the
 * stream ends (still HTTP 200, like the real server). With a selector, an
 * object that stops matching is sent as DELETED and one that starts matching
 * as ADDED.
 *
 * @module
 */

import { apiVersionOf } from "../../lib/kube/resource.ts";
import type { ApiResource } from "./resources.ts";
import { type Selection, selects } from "./selection.ts";
import type { ObjectStore, StoreEvent } from "./store.ts";
import { expired } from "./status.ts";

/** What one watch request asked for. */
export interface WatchRequest extends Selection {
  /** Send events after this resourceVersion; undefined sends the current state first. */
  sinceRv?: number;
  /** End the stream after this many seconds; undefined never ends it. */
  timeoutSeconds?: number;
  /** Send a BOOKMARK before a timeout ends the stream. */
  bookmarks: boolean;
}

const encoder = new TextEncoder();

/**
 * Opens watch streams on a store and can end them all.
 *
 * @example
 * ```ts
 * import { WatchHub } from "./watch.ts";
 * import { ObjectStore } from "./store.ts";
 * import { findByKind } from "./resources.ts";
 * const hub = new WatchHub(new ObjectStore());
 * const res = hub.open({ type: findByKind("v1", "Pod")!, labels: [], fields: [], bookmarks: false });
 * hub.count; // 1
 * await res.body!.cancel();
 * ```
 */
export class WatchHub {
  #closers = new Set<() => void>();

  /** Watch streams are served from this store. */
  constructor(private readonly store: ObjectStore) {}

  /** Number of open streams. */
  get count(): number {
    return this.#closers.size;
  }

  /** End every open stream, as an apiserver restart would. */
  closeAll(): void {
    for (const close of [...this.#closers]) close();
  }

  /** A streaming 200 response for the request. */
  open(req: WatchRequest): Response {
    let cleanup = () => {};
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let done = false;
        const send = (line: string) => controller.enqueue(encoder.encode(line + "\n"));
        const close = () => {
          if (done) return;
          cleanup();
          controller.close();
        };
        if (req.sinceRv !== undefined && req.sinceRv < this.store.compactedAt) {
          const status = expired(
            `too old resource version: ${req.sinceRv} (${this.store.compactedAt})`,
          );
          send(`{"type":"ERROR","object":${JSON.stringify(status.toStatus())}}`);
          controller.close();
          return;
        }
        const forward = (event: StoreEvent) => {
          const type = this.#translate(req, event);
          if (type) {
            send(`{"type":"${type}","object":${event.json ??= JSON.stringify(event.object)}}`);
          }
        };
        if (req.sinceRv === undefined) {
          for (const obj of this.store.list(req.type, req.namespace)) {
            if (selects(req, obj)) send(`{"type":"ADDED","object":${JSON.stringify(obj)}}`);
          }
        } else {
          for (const event of this.store.eventsSince(req.type, req.sinceRv)) forward(event);
        }
        const unsubscribe = this.store.subscribe(req.type, forward);
        const timer = req.timeoutSeconds === undefined ? undefined : setTimeout(() => {
          if (req.bookmarks) send(this.#bookmark(req.type));
          close();
        }, req.timeoutSeconds * 1000);
        cleanup = () => {
          done = true;
          unsubscribe();
          clearTimeout(timer);
          this.#closers.delete(close);
        };
        this.#closers.add(close);
      },
      cancel: () => cleanup(),
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  }

  /** The event type this watcher sees for a store event, if any. */
  #translate(req: WatchRequest, event: StoreEvent): StoreEvent["type"] | undefined {
    const now = selects(req, event.object);
    if (event.type !== "MODIFIED") return now ? event.type : undefined;
    const before = event.previous !== undefined && selects(req, event.previous);
    if (before) return now ? "MODIFIED" : "DELETED";
    return now ? "ADDED" : undefined;
  }

  #bookmark(type: ApiResource): string {
    const object = {
      kind: type.kind,
      apiVersion: apiVersionOf(type),
      metadata: { resourceVersion: String(this.store.resourceVersion), creationTimestamp: null },
    };
    return JSON.stringify({ type: "BOOKMARK", object });
  }
}
