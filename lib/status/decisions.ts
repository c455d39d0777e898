/**
 * What Argoos last decided about each workload, for the status page: the verdicts of the last
 * plan, a summary of what its pods ran when they were last read, the last outcome and the last
 * notice (a pending update, a hold). Filled from what the reconcile, the health tracker and the
 * event recorder already do, so a page view asks nothing of the API server or a registry.
 * One entry per workload, at most `maxEntries`; an entry goes with its workload.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { WorkloadEvent } from "../events/recorder.ts";
import type { GateName } from "../gates/pending.ts";
import type { Verdict } from "../rollout/verdict.ts";
import { imageIdDigest } from "../workloads/running.ts";
import { type Workload, workloadKey } from "../workloads/workload.ts";

/** One container's verdict in the last plan. */
export interface PlannedContainer {
  /** The image the plan saw. */
  image: string;
  /** The policy's or the reconcile's reason (`update`, `not-served`, `not-greater`, …). */
  reason: string;
  /** The image the plan would write. */
  to?: string;
  /** For `gated`: the image it would write, the gate that holds it, when it may open and why. */
  gated?: { to: string; gate: GateName; opensAt?: number; message: string };
}

/** A recorded Event, as the page shows it. */
export interface Told {
  reason: string;
  message: string;
  type: WorkloadEvent["type"];
  /** ms epoch. */
  at: number;
}

/** What is known of one workload. */
export interface Decisions {
  uid: string;
  /** The last plan (ms epoch) and its verdicts by container name. */
  planned?: { at: number; containers: Record<string, PlannedContainer> };
  /**
   * Pods when last read, by container name: how many run each digest (`unknown` when the
   * kubelet reports none yet).
   */
  pods?: { at: number; total: number; containers: Record<string, Record<string, number>> };
  /** The last rollout outcome: applied, succeeded, failed, reverted, refused. */
  outcome?: Told;
  /** The last notice that is not an outcome (a pending update, an approval asked, a hold). */
  notice?: Told;
}

/** Event reasons that end (or start) a rollout; the others are notices. */
const OUTCOMES: ReadonlySet<string> = new Set([
  "ImageUpdated",
  "RolloutSucceeded",
  "RolloutFailed",
  "Reverted",
  "UpdateRejected",
]);
/** Told when the workload is read, not decided: not kept. */
const NOT_DECISIONS: ReadonlySet<string> = new Set(["InvalidPolicy", "WouldUpdate"]);

/**
 * The bounded store of decisions by workload key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DecisionStore } from "./decisions.ts";
 * const store = new DecisionStore({ now: () => 1000 });
 * const workload = {
 *   kind: { type: { kind: "Deployment" } }, namespace: "shop", name: "web", uid: "u1",
 * } as unknown as Parameters<DecisionStore["recorded"]>[0]["workload"];
 * store.recorded({ workload, reason: "Reverted", type: "Warning", message: "web: a:2 → a:1" });
 * assert.equal(store.get(workload)?.outcome?.reason, "Reverted");
 * ```
 */
export class DecisionStore {
  #entries = new Map<string, Decisions>();
  #max: number;
  #now: () => number;

  constructor(opts: { maxEntries?: number; now?: () => number } = {}) {
    this.#max = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** What is known of this workload (undefined when nothing, or only of an older one of its name). */
  get(w: Workload): Decisions | undefined {
    const d = this.#entries.get(keyOf(w));
    return d?.uid === w.uid ? d : undefined;
  }

  /** A plan was made (the reconciler's `onPlan`). */
  planned(w: Workload, verdicts: readonly Verdict[]): void {
    const containers: Record<string, PlannedContainer> = {};
    for (const v of verdicts) {
      const g = v.gated;
      containers[v.container.name] = {
        image: v.container.image,
        reason: v.reason,
        ...(v.to !== undefined ? { to: v.to } : {}),
        ...(g
          ? {
            gated: {
              to: g.to,
              gate: g.gate,
              ...(g.opensAt !== undefined ? { opensAt: g.opensAt } : {}),
              message: g.message,
            },
          }
          : {}),
      };
    }
    this.#update(w, (d) => d.planned = { at: this.#now(), containers });
  }

  /** Pods of the workload were read (to judge a rollout, or to compare digests). */
  sawPods(w: Workload, pods: readonly Pod[]): void {
    const containers: Record<string, Record<string, number>> = {};
    for (const pod of pods) {
      for (
        const { name, imageID } of [
          ...pod.status?.initContainerStatuses ?? [],
          ...pod.status?.containerStatuses ?? [],
        ]
      ) {
        if (!w.containers.some((c) => c.name === name)) continue;
        const digest = imageIdDigest(imageID) ?? "unknown";
        const counts = containers[name] ??= {};
        counts[digest] = (counts[digest] ?? 0) + 1;
      }
    }
    this.#update(w, (d) => d.pods = { at: this.#now(), total: pods.length, containers });
  }

  /** An Event was recorded (the event recorder's listener). */
  recorded(ev: WorkloadEvent): void {
    if (NOT_DECISIONS.has(ev.reason)) return;
    const told = { reason: ev.reason, message: ev.message, type: ev.type, at: this.#now() };
    this.#update(ev.workload, (d) => {
      if (!OUTCOMES.has(ev.reason)) return d.notice = told;
      d.outcome = told;
      // A rollout made settles what was pending.
      if (ev.reason === "ImageUpdated") delete d.notice;
    });
  }

  /** Forget every workload but these keys (those the cache holds). */
  retain(keys: ReadonlySet<string>): void {
    for (const key of this.#entries.keys()) if (!keys.has(key)) this.#entries.delete(key);
  }

  #update(w: Workload, change: (d: Decisions) => void): void {
    const key = keyOf(w);
    const old = this.#entries.get(key);
    const d: Decisions = old?.uid === w.uid ? old : { uid: w.uid };
    change(d);
    // Least recently changed goes first.
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, d);
  }
}

const keyOf = (w: Workload) => workloadKey(w.kind.type.kind, w.namespace, w.name);
