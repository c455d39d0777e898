/**
 * Kubernetes Events on workloads, so `kubectl describe` shows what Argoos did
 * and why it did not. Recording is best effort and never delays a rollout.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import { apiVersionOf, EVENTS } from "../kube/resource.ts";
import { isoSeconds } from "../parse/time.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import type { ImageChange } from "../rollout/image_patch.ts";
import type { Workload } from "../workloads/workload.ts";
import type { Event } from "kubernetes-types/core/v1.d.ts";

/** Event reasons Argoos records. */
export type EventReason =
  | "ImageUpdated"
  | "UpdateRejected"
  | "ListingRefused"
  | "InvalidPolicy"
  | "WouldUpdate"
  | "RolloutSucceeded"
  | "RolloutFailed"
  | "Reverted"
  | "UpdatePending"
  | "ApprovalRequired"
  | "UpdateAvailable"
  | "Held"
  | "ManualChange";

/** One container a decision is about: the image it ran, the image written, its digest. */
export interface EventChange {
  container: string;
  from: string;
  to: string;
  /** The manifest digest behind `to`, when known. */
  digest?: string;
}

/**
 * Image changes as an Event's structured changes.
 *
 * @example
 * ```ts
 * import { eventChanges } from "./recorder.ts";
 * eventChanges([{
 *   container: { section: "containers", index: 0, name: "app", image: "a:1" },
 *   to: "a:2",
 * }]); // [{ container: "app", from: "a:1", to: "a:2" }]
 * ```
 */
export function eventChanges(changes: readonly ImageChange[], digest?: string): EventChange[] {
  return changes.map((c) => ({
    container: c.container.name,
    from: c.container.image,
    to: c.to,
    ...(digest ? { digest } : {}),
  }));
}

/** One Event to record. */
export interface WorkloadEvent {
  workload: Workload;
  reason: EventReason;
  message: string;
  type: "Normal" | "Warning";
  /** The containers the decision changes (or would): for notifications, which need no parsing. */
  changes?: EventChange[];
  /** Why, in a word or two (a failure reason, the API server's refusal). */
  cause?: string;
}

/** What the recorder remembers of an Event it wrote, to count repeats on it. */
interface Seen {
  name: string;
  count: number;
  /** When it was written last (ms), for the age bound. */
  at: number;
}

/** Repeats remembered: client-go's EventCorrelator keeps 4096 in an LRU. */
const MAX_SEEN = 4096;
/** The API server deletes Events an hour after their last write (--event-ttl): forget them then. */
const SEEN_TTL_MS = 60 * 60 * 1000;

/**
 * Records Events in the background, keeping at most `maxPending` in flight. As client-go's
 * event recorder does, a repeat of an Event (same object, type, reason, message and source)
 * updates the one already written (`count` + 1, `lastTimestamp`) instead of creating another;
 * one that is gone (expired) is created anew. Not done here: client-go's aggregation of
 * events differing only by message, and its per-object rate limit.
 *
 * An Event is named after its key (see `eventName`), so replicas share it: a second replica
 * recording the same decision is refused (409) and counts it on the first's Event.
 *
 * `onFirst` hears of each Event that is not a repeat, once, when its create goes through (or
 * fails otherwise): the hook notifications hang off, so a decision repeated by a retry, the next
 * poll cycle or another replica (the same Event counted again) tells nobody twice. With
 * `write: false` (`--no-events`) nothing is written and this process's repeats are still told
 * apart.
 *
 * @example
 * ```ts ignore
 * import { EventRecorder } from "./recorder.ts";
 * const events = new EventRecorder(client, { instance: "argoos-0" });
 * events.record({ workload, reason: "ImageUpdated", type: "Normal", message: "app: a:1 → a:2" });
 * await events.flush();
 * ```
 */
export class EventRecorder {
  #client: KubeClient;
  #instance: string;
  #log: Logger;
  #now: () => number;
  #onFirst?: (ev: WorkloadEvent) => void;
  #write: boolean;
  /** Writes in flight, by event key, so repeats of one Event are written in order; at most `maxPending`. */
  #pending = new Map<string, Promise<void>>();
  #inFlight = 0;
  #maxPending: number;
  /** Events written, by key: at most MAX_SEEN (least recently written dropped), each SEEN_TTL_MS. */
  #seen = new Map<string, Seen>();

  constructor(
    client: KubeClient,
    opts: {
      instance: string;
      logger?: Logger;
      maxPending?: number;
      now?: () => number;
      onFirst?: (ev: WorkloadEvent) => void;
      write?: boolean;
    },
  ) {
    this.#client = client;
    this.#instance = opts.instance;
    this.#log = (opts.logger ?? silentLogger).with({ component: "events" });
    this.#maxPending = opts.maxPending ?? 100;
    this.#now = opts.now ?? Date.now;
    this.#onFirst = opts.onFirst;
    this.#write = opts.write ?? true;
  }

  /** Create (or count a repeat of) the Event without waiting; dropped with a log line when too many are pending. */
  record(ev: WorkloadEvent): void {
    if (this.#inFlight >= this.#maxPending) {
      this.#log.warn("too many pending events, dropping one", { reason: ev.reason });
      return;
    }
    const key = eventKey(ev);
    this.#inFlight++;
    const p: Promise<void> = (this.#pending.get(key) ?? Promise.resolve())
      .then(() => this.#store(ev, key))
      .finally(() => {
        this.#inFlight--;
        if (this.#pending.get(key) === p) this.#pending.delete(key);
      });
    this.#pending.set(key, p);
  }

  /** Wait for every Event in flight (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending.values()]);
  }

  async #store(ev: WorkloadEvent, key: string): Promise<void> {
    const now = this.#now();
    const seen = this.#seen.get(key);
    this.#seen.delete(key);
    const repeat = seen !== undefined && now - seen.at < SEEN_TTL_MS;
    if (!this.#write) {
      if (!repeat) this.#tellFirst(ev);
      return this.#remember(key, { name: "", count: (seen?.count ?? 0) + 1, at: now });
    }
    const { namespace } = ev.workload;
    try {
      if (repeat) {
        try {
          return this.#remember(key, await this.#count(namespace, seen.name, seen.count, now));
        } catch (err) {
          if (!(err instanceof KubeApiError && err.status === 404)) throw err;
        }
      }
      const name = eventName(ev.workload.name, key);
      try {
        await this.#create(ev, name, isoSeconds(now));
        if (!repeat) this.#tellFirst(ev);
        return this.#remember(key, { name, count: 1, at: now });
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 409)) throw err;
      }
      // Another replica recorded this decision (it made it; it tells): count it there.
      const written = await this.#client.get<Event>(EVENTS, namespace, name);
      const last = Date.parse(written.lastTimestamp ?? "");
      if (!repeat && !(now - last < SEEN_TTL_MS)) this.#tellFirst(ev);
      this.#remember(key, await this.#count(namespace, name, written.count ?? 1, now));
    } catch (err) {
      // Unknown whether told already: telling twice beats a decision nobody hears of.
      if (!repeat) this.#tellFirst(ev);
      this.#log.warn("could not record event", {
        reason: ev.reason,
        workload: `${namespace}/${ev.workload.name}`,
        error: err,
      });
    }
  }

  /** Count a repeat on the Event written: `count` + 1, `lastTimestamp` now. */
  async #count(namespace: string, name: string, count: number, now: number): Promise<Seen> {
    await this.#client.patch(EVENTS, namespace, name, {
      count: count + 1,
      lastTimestamp: isoSeconds(now),
    }, "merge");
    return { name, count: count + 1, at: now };
  }

  #tellFirst(ev: WorkloadEvent): void {
    try {
      this.#onFirst?.(ev);
    } catch (err) {
      this.#log.warn("event listener failed", { reason: ev.reason, error: err });
    }
  }

  #remember(key: string, seen: Seen): void {
    if (this.#seen.size >= MAX_SEEN) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(key, seen);
  }

  #create(
    { workload: w, reason, message, type }: WorkloadEvent,
    name: string,
    now: string,
  ): Promise<Event> {
    return this.#client.create<Event>(EVENTS, w.namespace, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: w.namespace },
      involvedObject: {
        apiVersion: apiVersionOf(w.kind.type),
        kind: w.kind.type.kind,
        name: w.name,
        namespace: w.namespace,
        uid: w.uid,
        resourceVersion: w.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: SOURCE },
      reportingComponent: SOURCE,
      reportingInstance: this.#instance,
    });
  }
}

const SOURCE = "argoos";

/**
 * The Event's name: the workload's and a hash of the event key, the same on every replica, so
 * that of two replicas recording one decision the second is refused (409) and counts it on the
 * first's Event instead of writing (and telling) it again.
 */
function eventName(workloadName: string, key: string): string {
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 16);
  return `${workloadName.slice(0, 200)}.${hash}`;
}

/**
 * client-go's event key: source, involved object (kind, namespace, name, uid, apiVersion),
 * type, reason and message.
 */
function eventKey({ workload: w, reason, message, type }: WorkloadEvent): string {
  return JSON.stringify([
    SOURCE,
    w.kind.type.kind,
    w.namespace,
    w.name,
    w.uid,
    apiVersionOf(w.kind.type),
    type,
    reason,
    message,
  ]);
}
