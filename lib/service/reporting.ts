/**
 * Turning rollout reports into Kubernetes Events and metrics.
 *
 * @module
 */

import { eventChanges, type EventRecorder } from "../events/recorder.ts";
import type { Logger } from "../log/logger.ts";
import type { ArgoosMetrics } from "../metrics/argoos_metrics.ts";
import { finalReason, isFinal, type RegistryError } from "../registry/errors.ts";
import type { RolloutReport } from "../rollout/rollout.ts";
import type { Workload } from "../workloads/workload.ts";

/** Workloads remembered as told of a final failure; beyond it the oldest is told again. */
const MAX_TOLD = 10_000;

/** What {@linkcode Rejections} reports through. */
export interface RejectionsOptions {
  metrics: ArgoosMetrics;
  events?: EventRecorder;
  logger: Logger;
  /** The workload a work queue key names, if still known. */
  workloadOf: (key: string) => Workload | undefined;
}

/**
 * Reports reconciles that end in a final registry failure (`isFinal`): every one counted in
 * `argoos_reconcile_rejections_total` by reason, and told once per series (a warning and an
 * `UpdateRejected` Event): again only when the failure changes, or after a reconcile of the
 * workload that finished. The work queue retries them with back-off.
 *
 * @example
 * ```ts ignore
 * import { Rejections } from "./reporting.ts";
 * const rejections = new Rejections({ metrics, events, logger, workloadOf: (k) => cache.get(k) });
 * const reconcile = (key: string) =>
 *   reconciler.reconcile(key).then(
 *     (outcome) => (rejections.finished(key), outcome),
 *     (err) => (rejections.failed(key, err), Promise.reject(err)),
 *   );
 * ```
 */
export class Rejections {
  #opts: RejectionsOptions;
  /** By key: the failure last told. At most MAX_TOLD, the oldest dropped first. */
  #told = new Map<string, string>();

  constructor(opts: RejectionsOptions) {
    this.#opts = opts;
  }

  /** A reconcile of `key` failed with `err`: reported when final. */
  failed(key: string, err: unknown): void {
    if (!isFinal(err)) return;
    const reason = finalReason(err);
    this.#opts.metrics.rejections.inc({ reason });
    if (this.#told.get(key) === err.message) return;
    this.#told.delete(key);
    if (this.#told.size >= MAX_TOLD) this.#told.delete(this.#told.keys().next().value!);
    this.#told.set(key, err.message);
    this.#tell(key, reason, err);
  }

  /** A reconcile of `key` finished: a later final failure is told again. */
  finished(key: string): void {
    if (this.#told.size > 0) this.#told.delete(key);
  }

  #tell(key: string, reason: string, err: RegistryError): void {
    const w = this.#opts.workloadOf(key);
    this.#opts.logger.warn("registry answer no retry can fix: not written, retried with back-off", {
      component: "reconcile",
      workload: w ? `${w.kind.type.kind} ${w.namespace}/${w.name}` : key,
      reason,
      error: err,
    });
    if (!w) return;
    this.#opts.events?.record({
      workload: w,
      reason: "UpdateRejected",
      type: "Warning",
      message: `registry ${err.host}: ${reason}: ${err.message} (retried with back-off)`,
    });
  }
}

/**
 * Records a `ListingRefused` Event on each workload that uses a repository whose tag listing
 * was refused this cycle (over its bounds); the poller logs it once.
 *
 * @example
 * ```ts ignore
 * import { listingRefusals } from "./reporting.ts";
 * new Poller({ ...opts, onListingRefused: listingRefusals(events) });
 * ```
 */
export function listingRefusals(
  events?: EventRecorder,
): (repository: string, workloads: readonly Workload[], err: RegistryError) => void {
  return (repository, workloads, err) => {
    for (const workload of workloads) {
      events?.record({
        workload,
        reason: "ListingRefused",
        type: "Warning",
        message: `tag listing of ${repository} refused this cycle: ${err.message}`,
      });
    }
  };
}

/**
 * The `onReport` callback of the rollout routine. `digestOf` tells the digest a rollout just
 * written came from (its `argoos.io/rollout` record, in the cache once the patch is answered):
 * an Event's structured change carries it when one container changed.
 *
 * @example
 * ```ts ignore
 * import { reporter } from "./reporting.ts";
 * new Rollout({ client, onReport: reporter(metrics, events) });
 * ```
 */
export function reporter(
  metrics: ArgoosMetrics,
  events?: EventRecorder,
  digestOf?: (workload: Workload) => string | undefined,
): (report: RolloutReport) => void {
  return (r) => {
    metrics.rollouts.inc({ policy: r.policy, kind: r.workload.kind.type.kind, outcome: r.outcome });
    if (!events || r.outcome === "dry-run") return;
    const changes = r.changes.map((c) => `${c.container.name}: ${c.container.image} → ${c.to}`)
      .join("; ");
    const digest = r.outcome === "applied" && r.changes.length === 1
      ? digestOf?.(r.workload)
      : undefined;
    const fields = eventChanges(r.changes, digest);
    if (r.outcome === "applied") {
      events.record({
        workload: r.workload,
        reason: "ImageUpdated",
        type: "Normal",
        message: `${changes} (policy ${r.policy}, via ${r.source})`,
        changes: fields,
      });
    } else if (r.outcome === "refused") {
      events.record({
        workload: r.workload,
        reason: "UpdateRejected",
        type: "Warning",
        message: `${changes} refused by the API server: ${r.error}`,
        changes: fields,
        cause: r.error,
      });
    }
  };
}
