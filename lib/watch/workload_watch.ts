/**
 * The cache watch, the third trigger: a workload the cache sees change is enqueued when the
 * change touches what Argoos decides from, and a policy it cannot read is reported once.
 *
 * @module
 */

import type { WorkloadEvent } from "../events/recorder.ts";
import type { Logger } from "../log/logger.ts";
import { POLICY_LABEL } from "../policy/policy.ts";
import { rulesOf } from "../policy/rules.ts";
import { describe, keyOf, type Workload } from "../workloads/workload.ts";

/** What {@linkcode watchWorkloads} needs. */
export interface WorkloadWatchOptions {
  /** Adds a workload key to the work queue. */
  enqueue: (key: string) => Promise<unknown>;
  /** Where invalid policies are reported besides the log; none without Events. */
  events?: { record(ev: WorkloadEvent): void };
  logger: Logger;
}

/**
 * The workload cache's `onUpsert` handler: enqueue what {@linkcode decidesDiffer} says changed,
 * and report invalid policies ({@linkcode reportInvalidPolicy}).
 *
 * @example
 * ```ts
 * import { watchWorkloads } from "./workload_watch.ts";
 * import { silentLogger } from "../log/logger.ts";
 * const keys: string[] = [];
 * const onUpsert = watchWorkloads({
 *   enqueue: (key) => Promise.resolve(keys.push(key)),
 *   logger: silentLogger,
 * });
 * ```
 */
export function watchWorkloads(
  opts: WorkloadWatchOptions,
): (w: Workload, previous: Workload | undefined) => void {
  return (w, previous) => {
    if (decidesDiffer(w, previous)) opts.enqueue(keyOf(w)).catch(() => {});
    reportInvalidPolicy(w, previous, opts);
  };
}

/**
 * Whether a change seen by the cache touches what Argoos decides from: new, the policy label,
 * an `argoos.io/` annotation or an image; and, while a rollout is in progress, its status (the
 * controller reporting progress: that is how a rollout is followed, the health recheck being
 * only a slow safety net). Other status updates and the rest enqueue nothing.
 *
 * @example
 * ```ts
 * import { decidesDiffer } from "./workload_watch.ts";
 * import type { Workload } from "../workloads/workload.ts";
 * const w = { policyLabel: "minor", containers: [], annotations: {} } as unknown as Workload;
 * decidesDiffer(w, undefined); // true
 * decidesDiffer(w, { ...w }); // false
 * decidesDiffer(w, { ...w, policyLabel: "patch" }); // true
 * // A rollout in progress: its status moved.
 * decidesDiffer({ ...w, statusMark: 2 }, { ...w, statusMark: 1 }); // true
 * ```
 */
export function decidesDiffer(w: Workload, previous: Workload | undefined): boolean {
  if (!previous) return true;
  if (previous.policyLabel !== w.policyLabel) return true;
  const [was, is] = [previous.containers, w.containers];
  if (was.length !== is.length) return true;
  if (was.some((c, i) => c.name !== is[i].name || c.image !== is[i].image)) return true;
  // Both carry a mark only while a rollout is in progress: a record just written by Argoos
  // (the mark appearing) is no news, the controller's report on it is.
  if (
    w.statusMark !== undefined && previous.statusMark !== undefined &&
    w.statusMark !== previous.statusMark
  ) return true;
  // The cache keeps only `argoos.io/` annotations (see readWorkload). Compared key by key:
  // serialising them (the state and health records are the largest) cost 2% of a delivery.
  const [before, after] = [previous.annotations, w.annotations];
  const keys = Object.keys(after);
  if (keys.length !== Object.keys(before).length) return true;
  return keys.some((k) => before[k] !== after[k]);
}

/**
 * Log and record as an Event (`InvalidPolicy`) each error of a workload's policy label and
 * annotations. Reported once: when the errors differ from those of the version the cache held
 * (no record to keep, so nothing outlives the workload); the reconcile leaves the workload
 * alone until it is fixed.
 *
 * @example
 * ```ts ignore
 * import { reportInvalidPolicy } from "./workload_watch.ts";
 * reportInvalidPolicy(workload, previous, { logger, events });
 * ```
 */
export function reportInvalidPolicy(
  w: Workload,
  previous: Workload | undefined,
  opts: Pick<WorkloadWatchOptions, "events" | "logger">,
): void {
  const { errors } = rulesOf(w);
  if (errors.length === 0) return;
  if (previous && JSON.stringify(rulesOf(previous).errors) === JSON.stringify(errors)) return;
  for (const e of errors) {
    opts.logger.warn("invalid policy", {
      workload: describe(w),
      key: e.key,
      value: e.value,
      reason: e.reason,
    });
    const what = e.key === POLICY_LABEL ? "label" : "annotation";
    const message = `${what} ${e.key}=${JSON.stringify(e.value)}: ${e.reason}`;
    opts.events?.record({ workload: w, reason: "InvalidPolicy", type: "Warning", message });
  }
}
