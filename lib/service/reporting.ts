/**
 * Turning rollout reports and held updates into Kubernetes Events and metrics.
 *
 * @module
 */

import type { EventReason, EventRecorder } from "../events/recorder.ts";
import type { HeldUpdate } from "../gates/gating.ts";
import { APPROVE_ANNOTATION, GATE_NAMES, type GateName } from "../gates/pending.ts";
import type { ArgoosMetrics } from "../metrics/argoos_metrics.ts";
import type { RolloutReport } from "../rollout/rollout.ts";
import { type Workload, workloadKey } from "../workloads/workload.ts";

/**
 * The `onReport` callback of the rollout routine.
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
): (report: RolloutReport) => void {
  return (r) => {
    metrics.rollouts.inc({ policy: r.policy, kind: r.workload.kind.type.kind, outcome: r.outcome });
    if (!events || r.outcome === "dry-run") return;
    const changes = r.changes.map((c) => `${c.container.name}: ${c.container.image} → ${c.to}`)
      .join("; ");
    if (r.outcome === "applied") {
      events.record({
        workload: r.workload,
        reason: "ImageUpdated",
        type: "Normal",
        message: `${changes} (policy ${r.policy}, via ${r.source})`,
      });
    } else if (r.outcome === "refused") {
      events.record({
        workload: r.workload,
        reason: "UpdateRejected",
        type: "Warning",
        message: `${changes} refused by the API server: ${r.error}`,
      });
    }
  };
}

/** Held updates told of, remembered so each is told once: client-go's EventCorrelator's bound. */
const MAX_TOLD = 4096;

/** What {@linkcode heldReporter} returns. */
export interface HeldReporter {
  /** The `onHeld` callback of the gates. */
  onHeld: (w: Workload, held: Readonly<Record<string, HeldUpdate>>) => void;
  /** Containers whose update waits now, by gate (`argoos_updates_pending{gate}`). */
  pendingByGate: () => [{ gate: GateName }, number][];
}

/**
 * Tells of held updates: Event `UpdatePending` once per candidate and gate (with when it may
 * open), `ApprovalRequired` with how to approve, `UpdateAvailable` once per candidate in observe
 * mode; and counts what waits, by gate, among the workloads that still `exists` (by key).
 *
 * @example
 * ```ts ignore
 * import { heldReporter } from "./reporting.ts";
 * const held = heldReporter(events);
 * const gates = new Gates({ onHeld: held.onHeld });
 * ```
 */
export function heldReporter(
  events?: Pick<EventRecorder, "record">,
  exists: (key: string) => boolean = () => true,
): HeldReporter {
  /**
   * Gates holding each workload's containers, by workload key; a workload leaves when nothing
   * waits, or when it is found gone at a scrape (bounded by the live workloads).
   */
  const waiting = new Map<string, GateName[]>();
  /** Least recently told first; at most MAX_TOLD. */
  const told = new Set<string>();
  const tell = (w: Workload, container: string, h: HeldUpdate) => {
    const from = w.containers.find((c) => c.name === container)?.image;
    const change = `${container}: ${from} → ${h.image} (${h.digest})`;
    const kind = w.kind.type.kind.toLowerCase();
    const record = (reason: EventReason, message: string) =>
      events?.record({ workload: w, reason, type: "Normal", message });
    if (h.gate === "observe") {
      return record("UpdateAvailable", `${change}: observe mode, not written`);
    }
    record("UpdatePending", `${change} waits: ${h.message}`);
    if (h.gate !== "approval") return;
    record(
      "ApprovalRequired",
      `${change}: approve with \`argoos approve ${kind}/${w.name} -n ${w.namespace}\` or ` +
        `\`kubectl annotate ${kind}/${w.name} -n ${w.namespace} ${APPROVE_ANNOTATION}=${h.digest}\``,
    );
  };
  return {
    onHeld: (w, held) => {
      const key = workloadKey(w.kind.type.kind, w.namespace, w.name);
      const entries = Object.entries(held);
      if (entries.length === 0) waiting.delete(key);
      else waiting.set(key, entries.map(([, h]) => h.gate));
      for (const [container, h] of entries) {
        const once = `${key}|${container}|${h.digest}|${h.gate}`;
        if (told.has(once)) continue;
        told.add(once);
        if (told.size > MAX_TOLD) told.delete(told.values().next().value!);
        tell(w, container, h);
      }
    },
    pendingByGate: () => {
      const counts = new Map<GateName, number>(GATE_NAMES.map((g) => [g, 0]));
      for (const [key, gates] of waiting) {
        if (!exists(key)) waiting.delete(key);
        else for (const g of gates) counts.set(g, counts.get(g)! + 1);
      }
      return [...counts].map(([gate, n]) => [{ gate }, n]);
    },
  };
}
