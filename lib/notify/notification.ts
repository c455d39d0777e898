/**
 * From a recorded decision (a Kubernetes Event Argoos writes on a workload) to the one
 * notification about it: its CloudEvents type, subject and data, whatever the sink's format.
 *
 * @module
 */

import type { EventChange, WorkloadEvent } from "../events/recorder.ts";

/** The notification types, CloudEvents `type` values. */
export type NotificationType =
  | "io.argoos.rollout.applied"
  | "io.argoos.rollout.succeeded"
  | "io.argoos.rollout.failed"
  | "io.argoos.rollout.reverted"
  | "io.argoos.update.pending"
  | "io.argoos.update.available"
  | "io.argoos.update.refused"
  | "io.argoos.manual-change";

/**
 * Event reason → notification type. Reasons not named here (a dry run's `WouldUpdate`, an
 * `InvalidPolicy` told when the workload is read, `Held`: the person who set the hold knows)
 * notify nobody. Gates and manual changes record `UpdatePending`, `ApprovalRequired`,
 * `UpdateAvailable` and `ManualChange`; a refused tag listing, `ListingRefused`.
 */
export const NOTIFICATION_TYPES: Readonly<Record<string, NotificationType>> = {
  ImageUpdated: "io.argoos.rollout.applied",
  RolloutSucceeded: "io.argoos.rollout.succeeded",
  RolloutFailed: "io.argoos.rollout.failed",
  Reverted: "io.argoos.rollout.reverted",
  UpdatePending: "io.argoos.update.pending",
  ApprovalRequired: "io.argoos.update.pending",
  UpdateAvailable: "io.argoos.update.available",
  UpdateRejected: "io.argoos.update.refused",
  ListingRefused: "io.argoos.update.refused",
  ManualChange: "io.argoos.manual-change",
};

/** What a notification says; fields that do not apply are left out. */
export interface NotificationData {
  namespace: string;
  /** `Deployment`, `StatefulSet`, `DaemonSet`, `CronJob`. */
  kind: string;
  name: string;
  /** The container, when the decision is about one. */
  container?: string;
  /** The image it ran. */
  from?: string;
  /** The image written (or proposed). */
  to?: string;
  /** The manifest digest behind `to`. */
  digest?: string;
  /** The `argoos.io/policy` value. */
  policy?: string;
  /** Why, in a word or two (the failure, the refusal), else the Event reason. */
  reason: string;
  /** The Event's message: the whole sentence. */
  message: string;
  /** Every container, when the decision changes more than one. */
  changes?: { container: string; from: string; to: string; digest?: string }[];
}

/** One notification, before a sink formats it. */
export interface Notification {
  /** Unique; the CloudEvents `id` and the Standard Webhooks `webhook-id`. */
  id: string;
  type: NotificationType;
  /** `argoos/<cluster or host name>`. */
  source: string;
  /** RFC 3339. */
  time: string;
  /** `<namespace>/<kind in lower case>/<name>`. */
  subject: string;
  /** Warning (a failure, a refusal) or Normal, as the Event. */
  severity: WorkloadEvent["type"];
  data: NotificationData;
  /** Every container the decision is about (what `data` holds of them, for people's formats). */
  changes: EventChange[];
  /** The workload's `argoos.io/notify` value: the sinks it names, or undefined for all. */
  sinks?: readonly string[];
}

/** The annotation naming the sinks a workload's notifications go to. */
export const NOTIFY_ANNOTATION = "argoos.io/notify";

/**
 * The notification about a recorded Event, or undefined when its reason notifies nobody.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notificationOf } from "./notification.ts";
 * const workload = {
 *   kind: { type: { kind: "Deployment" } }, namespace: "shop", name: "web",
 *   policyLabel: "minor", annotations: { "argoos.io/notify": "chat" },
 * } as unknown as Parameters<typeof notificationOf>[0]["workload"];
 * const n = notificationOf({
 *   workload, reason: "ImageUpdated", type: "Normal", message: "web: a:1 → a:2",
 *   changes: [{ container: "web", from: "a:1", to: "a:2" }],
 * }, { source: "argoos/prod", now: 0, id: "1" })!;
 * assert.equal(n.type, "io.argoos.rollout.applied");
 * assert.equal(n.subject, "shop/deployment/web");
 * assert.equal(n.data.to, "a:2");
 * assert.deepEqual(n.sinks, ["chat"]);
 * ```
 */
export function notificationOf(
  ev: WorkloadEvent,
  at: { source: string; now: number; id?: string },
): Notification | undefined {
  const type = NOTIFICATION_TYPES[ev.reason];
  if (!type) return undefined;
  const w = ev.workload;
  const kind = w.kind.type.kind;
  const changes = ev.changes ?? [];
  const [one] = changes;
  const data: NotificationData = {
    namespace: w.namespace,
    kind,
    name: w.name,
    ...(changes.length === 1
      ? { container: one.container, from: one.from, to: one.to, digest: one.digest }
      : {}),
    ...(w.policyLabel ? { policy: w.policyLabel } : {}),
    reason: ev.cause ?? ev.reason,
    message: ev.message,
    ...(changes.length > 1 ? { changes } : {}),
  };
  if (data.digest === undefined) delete data.digest;
  const named = w.annotations[NOTIFY_ANNOTATION];
  return {
    id: at.id ?? crypto.randomUUID(),
    type,
    source: at.source,
    time: new Date(at.now).toISOString(),
    subject: `${w.namespace}/${kind.toLowerCase()}/${w.name}`,
    severity: ev.type,
    data,
    changes,
    ...(named === undefined ? {} : { sinks: sinkNames(named) }),
  };
}

/**
 * The sink names an `argoos.io/notify` value lists (comma-separated, blanks ignored).
 *
 * @example
 * ```ts
 * import { sinkNames } from "./notification.ts";
 * sinkNames(" chat, ops ,"); // ["chat", "ops"]
 * ```
 */
export function sinkNames(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}
