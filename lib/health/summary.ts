/**
 * What `argoos plan` shows of a workload's health records: the rollout in progress, the
 * rejected images and the human changes kept, one line each, plus any record it could not read;
 * its hold and how its rollouts are judged.
 *
 * @module
 */

import { HOLD_ANNOTATION, HOLD_REASON_ANNOTATION, readHold } from "../policy/hold.ts";
import { isoSeconds as iso } from "../parse/time.ts";
import { HEALTH_TIMEOUT_ANNOTATION } from "./judge.ts";
import {
  decodeRejected,
  decodeRollout,
  MANUAL_REASON,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
} from "./record.ts";

/** A workload's health records as text. */
export interface HealthSummary {
  /** The rollout in progress, if any. */
  rollout?: string;
  /** Rejected images, newest last (failed rollouts). */
  rejected: string[];
  /** What Argoos wrote and a person changed (reason `manual`): never written there again. */
  manual: string[];
  /** Records that could not be read. */
  problems: string[];
}

/**
 * Describe the `argoos.io/rollout` and `argoos.io/rejected` annotations of a workload.
 *
 * @example
 * ```ts
 * import { healthSummary } from "./summary.ts";
 * healthSummary({}); // { rejected: [], manual: [], problems: [] }
 * ```
 */
export function healthSummary(annotations: Readonly<Record<string, string>>): HealthSummary {
  const summary: HealthSummary = { rejected: [], manual: [], problems: [] };
  const text = annotations[ROLLOUT_ANNOTATION];
  if (text !== undefined) {
    const r = decodeRollout(text);
    if (r.error !== undefined) summary.problems.push(r.error);
    else {
      const { containers, push, startedAt, deadline } = r.value;
      summary.rollout = containers.map((c) => `${c.name}: ${c.from} → ${c.to}`).join(", ") +
        ` (push ${push.tag}${push.digest ? ` ${push.digest}` : ""}), since ${iso(startedAt)}` +
        (deadline === undefined ? "" : `, health timeout ${iso(deadline)}`);
    }
  }
  const rejected = decodeRejected(annotations[REJECTED_ANNOTATION]);
  if (rejected.error) summary.problems.push(rejected.error);
  for (const e of rejected.value) {
    const line = `${e.repository}@${e.digest}${e.tag ? ` (${e.tag})` : ""}`;
    if (e.reason === MANUAL_REASON) summary.manual.push(`${line}: changed by hand at ${iso(e.at)}`);
    else summary.rejected.push(`${line}: ${e.reason} at ${iso(e.at)}`);
  }
  return summary;
}

/**
 * The hold on a workload as one line, or undefined when it is not held at `now`.
 *
 * @example
 * ```ts
 * import { holdSummary } from "./summary.ts";
 * holdSummary({ "argoos.io/hold": "true", "argoos.io/hold-reason": "incident 123" }, 0);
 * // "until released (incident 123)"
 * ```
 */
export function holdSummary(
  annotations: Readonly<Record<string, string>>,
  now: number,
): string | undefined {
  const hold = readHold(annotations, now);
  if (!hold.held) return undefined;
  const reason = annotations[HOLD_REASON_ANNOTATION];
  return (hold.invalid
    ? `${JSON.stringify(annotations[HOLD_ANNOTATION])}: ${hold.invalid}`
    : hold.until === undefined
    ? "until released"
    : `until ${iso(hold.until)}`) + (reason ? ` (${reason})` : "");
}

/** Annotation a StatefulSet or DaemonSet sets its progress deadline with (a duration). */
const PROGRESS_DEADLINE_ANNOTATION = "argoos.io/progress-deadline";

/**
 * How a workload's rollouts are judged failed for want of progress, as configured: a
 * Deployment by its controller's `progressDeadlineSeconds`, a StatefulSet or DaemonSet by
 * `argoos.io/progress-deadline` (default 10m) without a move of its counts, a CronJob by its next
 * Job; and `argoos.io/health-timeout`, a total budget, when set.
 *
 * @example
 * ```ts
 * import { deadlineSummary } from "./summary.ts";
 * deadlineSummary({ kind: "StatefulSet", annotations: {} });
 * // "argoos.io/progress-deadline 10m (default) without progress"
 * deadlineSummary({ kind: "Deployment", annotations: { "argoos.io/health-timeout": "20m" } });
 * // "progressDeadlineSeconds 600s (default), then ProgressDeadlineExceeded; health-timeout 20m in all"
 * ```
 */
export function deadlineSummary(w: {
  kind: string;
  annotations: Readonly<Record<string, string>>;
  progressDeadlineSeconds?: number;
}): string {
  const own = w.annotations[PROGRESS_DEADLINE_ANNOTATION];
  const progress = w.kind === "CronJob"
    ? "until its next Job ends"
    : w.kind === "Deployment"
    ? `progressDeadlineSeconds ${w.progressDeadlineSeconds ?? 600}s` +
      `${
        w.progressDeadlineSeconds === undefined ? " (default)" : ""
      }, then ProgressDeadlineExceeded`
    : `${PROGRESS_DEADLINE_ANNOTATION} ${own ?? "10m (default)"} without progress`;
  const total = w.annotations[HEALTH_TIMEOUT_ANNOTATION];
  return total === undefined ? progress : `${progress}; health-timeout ${total} in all`;
}
