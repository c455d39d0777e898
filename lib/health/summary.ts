/**
 * What `argoos plan` shows of a workload's health records: the rollout in progress and the
 * rejected images, one line each, plus any record it could not read.
 *
 * @module
 */

import {
  decodeRejected,
  decodeRollout,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
} from "./record.ts";

/** A workload's health records as text. */
export interface HealthSummary {
  /** The rollout in progress, if any. */
  rollout?: string;
  /** Rejected images, newest last. */
  rejected: string[];
  /** Records that could not be read. */
  problems: string[];
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * Describe the `argoos.io/rollout` and `argoos.io/rejected` annotations of a workload.
 *
 * @example
 * ```ts
 * import { healthSummary } from "./summary.ts";
 * healthSummary({}); // { rejected: [], problems: [] }
 * ```
 */
export function healthSummary(annotations: Readonly<Record<string, string>>): HealthSummary {
  const summary: HealthSummary = { rejected: [], problems: [] };
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
  summary.rejected = rejected.value.map((e) =>
    `${e.repository}@${e.digest}${e.tag ? ` (${e.tag})` : ""}: ${e.reason} at ${iso(e.at)}`
  );
  return summary;
}
