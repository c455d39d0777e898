/**
 * The metrics Argoos exposes on `GET /metrics`.
 *
 * @module
 */

import { Counter, Gauge, Histogram, MetricsRegistry } from "./registry.ts";

/**
 * Every Argoos metric, registered in one {@linkcode MetricsRegistry}.
 *
 * @example
 * ```ts
 * import { ArgoosMetrics } from "./argoos_metrics.ts";
 * const m = new ArgoosMetrics();
 * m.events.inc({ outcome: "applied" });
 * m.registry.render();
 * ```
 */
export class ArgoosMetrics {
  /** Every metric, rendered for `/metrics`. */
  readonly registry: MetricsRegistry = new MetricsRegistry();
  /** Webhook deliveries by outcome (applied, ignored, duplicate, unauthorized, malformed, too-large, retry). */
  readonly events: Counter = this.registry.add(
    new Counter("argoos_events_total", "Registry notification deliveries received, by outcome."),
  );
  /** Deliveries refused as malformed, by reason (an `EnvelopeError`'s `reason`). */
  readonly refusals: Counter = this.registry.add(
    new Counter(
      "argoos_deliveries_refused_total",
      "Webhook deliveries refused as malformed (400), by reason.",
    ),
  );
  /** Uploads cut off or abandoned by the client, by why (timeout, aborted). */
  readonly abortedUploads: Counter = this.registry.add(
    new Counter(
      "argoos_uploads_cut_total",
      "Requests whose headers or body did not arrive in time or were abandoned, by why.",
    ),
  );
  /**
   * Webhook deliveries by route (the receiver's source: distribution, dockerhub, quay, harbor,
   * github, acr, ecr, gar, artifactory) and outcome (`DeliveryOutcome` of lib/webhook/handler.ts).
   */
  readonly deliveries: Counter = this.registry.add(
    new Counter(
      "argoos_webhook_deliveries_total",
      "Webhook deliveries received, by route and outcome.",
    ),
  );
  /** Rollouts by policy, kind and outcome. */
  readonly rollouts: Counter = this.registry.add(
    new Counter("argoos_rollouts_total", "Workload rollouts, by policy, kind and outcome."),
  );
  /** Rollouts Argoos followed to the end, by outcome (succeeded, failed). */
  readonly rolloutsCompleted: Counter = this.registry.add(
    new Counter(
      "argoos_rollouts_completed_total",
      "Rollouts followed until complete or failed, by outcome.",
    ),
  );
  /** Failed rollouts Argoos put back to the images they ran before. */
  readonly reverts: Counter = this.registry.add(
    new Counter("argoos_reverts_total", "Failed rollouts reverted to their previous images."),
  );
  /** Notifications by sink and outcome (delivered, retried, failed, dropped). */
  readonly notifications: Counter = this.registry.add(
    new Counter(
      "argoos_notifications_total",
      "Notifications sent to sinks, by sink and outcome (delivered, retried, failed, dropped).",
    ),
  );
  /** Registry HTTP requests by host and status. */
  readonly registryRequests: Counter = this.registry.add(
    new Counter("argoos_registry_requests_total", "Registry API requests, by host and status."),
  );
  /**
   * Reconciles ended by a registry answer no retry can fix (`finalReason` of
   * lib/registry/errors.ts): reported, retried from the work queue with back-off.
   */
  readonly rejections: Counter = this.registry.add(
    new Counter(
      "argoos_reconcile_rejections_total",
      "Reconciles ended by a final registry answer, by reason.",
    ),
  );
  /** Tags a registry listed that break the tag grammar (or are over 128 characters), dropped. */
  readonly droppedTags: Counter = this.registry.add(
    new Counter(
      "argoos_registry_tags_dropped_total",
      "Listed tags dropped for breaking the tag grammar, by host.",
    ),
  );
  /** Poll cycle duration. */
  readonly pollCycle: Histogram = this.registry.add(
    new Histogram("argoos_poll_cycle_seconds", "Duration of a poll cycle.", [
      0.1,
      0.5,
      1,
      5,
      15,
      60,
      300,
    ]),
  );
  /** Webhook handling latency. */
  readonly webhookLatency: Histogram = this.registry.add(
    new Histogram(
      "argoos_webhook_duration_seconds",
      "Time from receiving a delivery to answering it.",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
    ),
  );
  /** Resident memory, as Prometheus client libraries name it (no permission needed). */
  readonly residentMemory: Gauge = this.registry.add(
    new Gauge(
      "process_resident_memory_bytes",
      "Resident memory size in bytes.",
      () => Deno.memoryUsage().rss,
    ),
  );
  /** What the JavaScript heap holds: resident memory beyond it is collectable or runtime. */
  readonly heapUsed: Gauge = this.registry.add(
    new Gauge(
      "argoos_heap_used_bytes",
      "JavaScript heap in use, in bytes.",
      () => Deno.memoryUsage().heapUsed,
    ),
  );
}
