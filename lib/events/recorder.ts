/**
 * Kubernetes Events on workloads, so `kubectl describe` shows what Argoos did
 * and why it did not. Recording is best effort and never delays a rollout.
 *
 * @module
 */

import type { KubeClient } from "../kube/client.ts";
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
  | "Reverted";

/** One Event to record. */
export interface WorkloadEvent {
  workload: Workload;
  reason: EventReason;
  message: string;
  type: "Normal" | "Warning";
}

/**
 * Records Events in the background, keeping at most `maxPending` in flight.
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
  #pending = new Set<Promise<void>>();
  #maxPending: number;

  constructor(
    client: KubeClient,
    opts: { instance: string; logger?: Logger; maxPending?: number },
  ) {
    this.#client = client;
    this.#instance = opts.instance;
    this.#log = (opts.logger ?? silentLogger).with({ component: "events" });
    this.#maxPending = opts.maxPending ?? 100;
  }

  /** Create the Event without waiting; dropped with a log line when too many are pending. */
  record(ev: WorkloadEvent): void {
    if (this.#pending.size >= this.#maxPending) {
      this.#log.warn("too many pending events, dropping one", { reason: ev.reason });
      return;
    }
    const p = this.#create(ev).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Wait for every Event in flight (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  async #create({ workload: w, reason, message, type }: WorkloadEvent): Promise<void> {
    const now = new Date().toISOString();
    try {
      await this.#client.create<Event>(EVENTS, w.namespace, {
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
        source: { component: "argoos" },
        reportingComponent: "argoos",
        reportingInstance: this.#instance,
      });
    } catch (err) {
      this.#log.warn("could not record event", {
        reason,
        workload: `${w.namespace}/${w.name}`,
        error: err,
      });
    }
  }
}
