/**
 * Turning rollout reports and held updates into Kubernetes Events and metrics.
 *
 * @module
 */

import {
  type EventChange,
  eventChanges,
  type EventReason,
  type EventRecorder,
} from "../events/recorder.ts";
import { withTarget } from "../image/reference.ts";
import type { HeldUpdate } from "../reconcile/gates.ts";
import { APPROVE_ANNOTATION, GATE_NAMES, type GateName } from "../gates/pending.ts";
import type { Logger } from "../log/logger.ts";
import type { ArgoosMetrics } from "../metrics/argoos_metrics.ts";
import {
  finalReason,
  isFinal,
  type RegistryError,
  type RegistrySubject,
} from "../registry/errors.ts";
import type { RolloutReport } from "../rollout/rollout.ts";
import { keyOf, type Workload } from "../workloads/workload.ts";

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
 * `UpdateRejected` Event with its reason as cause, naming the update it stopped when the failure
 * is about a tag): again only when the failure changes, or after a reconcile of the workload that
 * finished. The work queue retries them with back-off.
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
      ...(err.subject ? { changes: changesAbout(w, err.subject) } : {}),
      cause: reason,
    });
  }
}

/** The update of each container of `w` from the repository a failure is about, to its tag. */
function changesAbout(w: Workload, about: RegistrySubject): EventChange[] {
  return w.containers.filter((c) => c.ref && c.repository === about.repository).map((c) => ({
    container: c.name,
    from: c.image,
    to: withTarget(c.ref!, about.tag),
    ...(about.digest !== undefined ? { digest: about.digest } : {}),
  }));
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

/** Held updates told of, remembered so each is told once: client-go's EventCorrelator's bound. */
const MAX_HELD_TOLD = 4096;
/** Workloads waiting before the first sweep for those gone. */
const MIN_SWEEP = 64;

/** What {@linkcode heldReporter} returns. */
export interface HeldReporter {
  /** The `onHeld` callback of the gates. */
  onHeld: (w: Workload, held: Readonly<Record<string, HeldUpdate>>) => void;
  /** Containers whose update waits now, by gate (`argoos_updates_pending{gate}`). */
  pendingByGate: () => [{ gate: GateName }, number][];
}

/**
 * Tells of held updates, once per candidate and gate, each Event naming the change (container,
 * current image, the image it would write, its digest): `UpdatePending` with when it may open,
 * `ApprovalRequired` (the one Event for an approval: that it waits and how to approve),
 * `UpdateAvailable` in observe mode. Counts what waits, by gate, among the workloads that still
 * `exists` (by key): those gone are swept when scraped, and as the map grows.
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
   * waits, or when it is found gone: at a scrape, and whenever the map doubles since the last
   * sweep (so at most twice the live workloads that wait, scraped or not).
   */
  const waiting = new Map<string, GateName[]>();
  let sweepAt = MIN_SWEEP;
  const sweep = () => {
    for (const key of waiting.keys()) if (!exists(key)) waiting.delete(key);
    sweepAt = Math.max(MIN_SWEEP, 2 * waiting.size);
  };
  /** Least recently told first; at most MAX_HELD_TOLD. */
  const told = new Set<string>();
  const tell = (w: Workload, container: string, h: HeldUpdate) => {
    const from = w.containers.find((c) => c.name === container)?.image ?? "";
    const change = `${container}: ${from} → ${h.image} (${h.digest})`;
    const kind = w.kind.type.kind.toLowerCase();
    const changes = [{ container, from, to: h.image, digest: h.digest }];
    const record = (reason: EventReason, message: string) =>
      events?.record({ workload: w, reason, type: "Normal", message, changes });
    if (h.gate === "observe") {
      return record("UpdateAvailable", `${change}: observe mode, not written`);
    }
    if (h.gate !== "approval") return record("UpdatePending", `${change} waits: ${h.message}`);
    record(
      "ApprovalRequired",
      `${change} waits for approval: approve with ` +
        `\`argoos approve ${kind}/${w.name} -n ${w.namespace}\` or ` +
        `\`kubectl annotate ${kind}/${w.name} -n ${w.namespace} ${APPROVE_ANNOTATION}=${h.digest}\``,
    );
  };
  return {
    onHeld: (w, held) => {
      const key = keyOf(w);
      const entries = Object.entries(held);
      if (entries.length === 0) waiting.delete(key);
      else {
        waiting.set(key, entries.map(([, h]) => h.gate));
        if (waiting.size >= sweepAt) sweep();
      }
      for (const [container, h] of entries) {
        const once = `${key}|${container}|${h.digest}|${h.gate}`;
        if (told.has(once)) continue;
        told.add(once);
        if (told.size > MAX_HELD_TOLD) told.delete(told.values().next().value!);
        tell(w, container, h);
      }
    },
    pendingByGate: () => {
      sweep();
      const counts = new Map<GateName, number>(GATE_NAMES.map((g) => [g, 0]));
      for (const gates of waiting.values()) {
        for (const g of gates) counts.set(g, counts.get(g)! + 1);
      }
      return [...counts].map(([gate, n]) => [{ gate }, n]);
    },
  };
}
