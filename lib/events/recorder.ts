/**
 * Kubernetes Events on workloads, so `kubectl describe` shows what Argoos did
 * and why it did not. Recording is best effort and never delays a rollout.
 *
 * @module
 */

import type { KubeClient } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import { apiVersionOf, EVENTS } from "../kube/resource.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import type { Workload } from "../workloads/workload.ts";
import type { Event } from "kubernetes-types/core/v1.d.ts";

/** Event reasons Argoos records. */
export type EventReason =
  | "ImageUpdated"
  | "UpdateRejected"
  | "InvalidPolicy"
  | "WouldUpdate"
  | "RolloutSucceeded"
  | "RolloutFailed"
  | "Reverted"
  | "Held"
  | "ManualChange";

/** One Event to record. */
export interface WorkloadEvent {
  workload: Workload;
  reason: EventReason;
  message: string;
  type: "Normal" | "Warning";
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
  /** Writes in flight, by event key, so repeats of one Event are written in order; at most `maxPending`. */
  #pending = new Map<string, Promise<void>>();
  #inFlight = 0;
  #maxPending: number;
  /** Events written, by key: at most MAX_SEEN (least recently written dropped), each SEEN_TTL_MS. */
  #seen = new Map<string, Seen>();

  constructor(
    client: KubeClient,
    opts: { instance: string; logger?: Logger; maxPending?: number; now?: () => number },
  ) {
    this.#client = client;
    this.#instance = opts.instance;
    this.#log = (opts.logger ?? silentLogger).with({ component: "events" });
    this.#maxPending = opts.maxPending ?? 100;
    this.#now = opts.now ?? Date.now;
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
      .then(() => this.#write(ev, key))
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

  async #write(ev: WorkloadEvent, key: string): Promise<void> {
    const now = this.#now();
    const seen = this.#seen.get(key);
    this.#seen.delete(key);
    try {
      if (seen && now - seen.at < SEEN_TTL_MS) {
        const count = seen.count + 1;
        try {
          await this.#client.patch(EVENTS, ev.workload.namespace, seen.name, {
            count,
            lastTimestamp: rfc3339(now),
          }, "merge");
          return this.#remember(key, { name: seen.name, count, at: now });
        } catch (err) {
          if (!(err instanceof KubeApiError && err.status === 404)) throw err;
        }
      }
      const created = await this.#create(ev, rfc3339(now));
      const name = created.metadata?.name;
      if (name) this.#remember(key, { name, count: 1, at: now });
    } catch (err) {
      this.#log.warn("could not record event", {
        reason: ev.reason,
        workload: `${ev.workload.namespace}/${ev.workload.name}`,
        error: err,
      });
    }
  }

  #remember(key: string, seen: Seen): void {
    if (this.#seen.size >= MAX_SEEN) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(key, seen);
  }

  #create({ workload: w, reason, message, type }: WorkloadEvent, now: string): Promise<Event> {
    return this.#client.create<Event>(EVENTS, w.namespace, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { generateName: `${w.name}.`, namespace: w.namespace },
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

/** A `metav1.Time`: RFC 3339 in whole seconds, as the API server stores it. */
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

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
