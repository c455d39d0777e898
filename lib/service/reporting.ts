/**
 * Turning rollout reports into Kubernetes Events and metrics.
 *
 * @module
 */

import { eventChanges, type EventRecorder } from "../events/recorder.ts";
import type { ArgoosMetrics } from "../metrics/argoos_metrics.ts";
import type { RolloutReport } from "../rollout/rollout.ts";
import type { Workload } from "../workloads/workload.ts";

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
