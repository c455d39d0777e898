/**
 * The status of every labelled workload, as `GET /api/v1/workloads` answers it and the page
 * shows it: computed from the workload cache and the {@linkcode DecisionStore} alone.
 *
 * @module
 */

import {
  decodeRejected,
  decodeRollout,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
} from "../health/record.ts";
import { holdSummary } from "../health/summary.ts";
import { isoSeconds } from "../parse/time.ts";
import { LEGACY_DIGESTS_ANNOTATION, STATE_ANNOTATION } from "../policy/state.ts";
import {
  APPROVE_ANNOTATION,
  type GateName,
  PENDING_ANNOTATION,
  type PendingUpdate,
  readPending,
} from "../gates/pending.ts";
import type { Workload } from "../workloads/workload.ts";
import type { Decisions, DecisionStore, Told } from "./decisions.ts";

/** The filter a workload falls under; `ok` when none of the others. */
export type WorkloadState = "pending" | "in-progress" | "failed" | "held" | "ok";

/** The states a page can filter by, `all` first. */
export const STATE_FILTERS: readonly (WorkloadState | "all")[] = [
  "all",
  "pending",
  "in-progress",
  "failed",
  "held",
];

/** One container's status. */
export interface ContainerStatus {
  name: string;
  /** The image written in the spec. */
  image: string;
  /** Pods by digest when last read; undefined when Argoos has not read them. */
  running?: { digest: string; pods: number }[];
  /** The image Argoos would write next, when there is one. */
  candidate?: string;
  /** Why nothing is written now, in words; undefined when the image is what the policy wants. */
  why?: string;
  /** The gate holding the candidate back, when it may open (RFC 3339) and the digest it waits with. */
  pending?: { gate: GateName; opensAt?: string; digest?: string };
}

/** One workload's status. */
export interface WorkloadStatus {
  kind: string;
  namespace: string;
  name: string;
  /** The `argoos.io/policy` value. */
  policy: string;
  /** Refinements and gates: every other `argoos.io/` annotation a person set. */
  settings: Record<string, string>;
  state: WorkloadState;
  /** Why the state, in words (the pending reason, the hold, the failure). */
  stateReason?: string;
  containers: ContainerStatus[];
  /** The rollout Argoos follows now. */
  rollout?: { since: string; deadline?: string; state: "progressing" | "past deadline" };
  /** The last rollout outcome this replica saw: reason, message and time. */
  lastOutcome?: { reason: string; message: string; at: string };
  /** Digests that failed on this workload, never tried again. */
  rejected: { repository: string; digest: string; tag?: string; at: string; reason: string }[];
  /** When the last plan was made (RFC 3339). */
  plannedAt?: string;
}

/** Argoos's own bookkeeping, not settings. */
const BOOKKEEPING: ReadonlySet<string> = new Set([
  ROLLOUT_ANNOTATION,
  REJECTED_ANNOTATION,
  STATE_ANNOTATION,
  LEGACY_DIGESTS_ANNOTATION,
  PENDING_ANNOTATION,
  APPROVE_ANNOTATION,
]);

/** Verdict reasons in words (the policy's reasons and the reconcile's). */
const REASONS: Readonly<Record<string, string>> = {
  "not-served": "the registry does not serve it as an image yet, or its digest was rejected",
  "no-candidate": "no pushed or listed tag is a candidate",
  "current-not-version": "the current tag is not a version",
  "candidate-not-version": "not a version",
  "prerelease-not-allowed": "a pre-release",
  "not-greater": "not an update (not newer)",
  "outside-policy": "outside the policy",
  "same-image": "already running it",
  "artifact": "a signature or attestation, not an image",
  "pattern-mismatch": "does not match argoos.io/tag-pattern",
  "variant-mismatch": "another variant",
  "invalid-policy": "the policy label or an annotation is invalid",
  "baseline": "first sight of the tag: its digest recorded, nothing rolled out",
};

/** A gate in words, for a pending record read without the decision that wrote it. */
const GATE_WORDS: Readonly<Record<GateName, string>> = {
  observe: "observe mode, never written",
  approval: "waits for approval",
  "min-age": "waits for its minimum age",
  window: "waits for an update window",
};

const FAILURES: ReadonlySet<string> = new Set(["RolloutFailed", "Reverted", "UpdateRejected"]);
const PENDING: ReadonlySet<string> = new Set([
  "UpdatePending",
  "ApprovalRequired",
  "UpdateAvailable",
]);

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The status of each workload, sorted by namespace, kind and name; `filter` keeps those of one
 * namespace and state.
 *
 * @example
 * ```ts
 * import { DecisionStore } from "./decisions.ts";
 * import { workloadStatuses } from "./view.ts";
 * workloadStatuses([], new DecisionStore(), { now: 0 }); // []
 * ```
 */
export function workloadStatuses(
  workloads: readonly Workload[],
  decisions: DecisionStore,
  opts: { now: number; namespace?: string; state?: WorkloadState | "all" },
): WorkloadStatus[] {
  return workloads
    .filter((w) => !opts.namespace || w.namespace === opts.namespace)
    .map((w) => statusOf(w, decisions.get(w), opts.now))
    .filter((s) => !opts.state || opts.state === "all" || s.state === opts.state)
    .sort((a, b) =>
      a.namespace.localeCompare(b.namespace) || a.kind.localeCompare(b.kind) ||
      a.name.localeCompare(b.name)
    );
}

function statusOf(w: Workload, d: Decisions | undefined, now: number): WorkloadStatus {
  const settings = Object.fromEntries(
    Object.entries(w.annotations).filter(([k]) => !BOOKKEEPING.has(k)).sort(),
  );
  const rejected = decodeRejected(w.annotations[REJECTED_ANNOTATION]).value;
  const record = w.annotations[ROLLOUT_ANNOTATION] === undefined
    ? undefined
    : decodeRollout(w.annotations[ROLLOUT_ANNOTATION]).value;
  const rollout = record && {
    since: iso(record.startedAt),
    ...(record.deadline !== undefined ? { deadline: iso(record.deadline) } : {}),
    state: record.deadline !== undefined && now > record.deadline
      ? "past deadline" as const
      : "progressing" as const,
  };
  const pending = readPending(w.annotations);
  const containers = w.containers.map((c) => containerStatus(c.name, c.image, d, pending[c.name]));
  const hold = holdSummary(w.annotations, now);
  const failure = lastFailure(d?.outcome, rejected);
  const gated = containers.find((c) => c.pending !== undefined);
  const notice = d?.notice && PENDING.has(d.notice.reason) ? d.notice : undefined;
  const waiting = containers.find((c) => c.candidate !== undefined && c.why !== undefined);
  const [state, stateReason]: [WorkloadState, string | undefined] = hold
    ? ["held", `held ${hold}`]
    : rollout
    ? ["in-progress", `since ${rollout.since}`]
    : failure
    ? ["failed", failure]
    : gated
    ? ["pending", `${gated.name}: ${gated.why}`]
    : notice
    ? ["pending", notice.message]
    : waiting
    ? ["pending", `${waiting.name}: ${waiting.why}`]
    : ["ok", undefined];
  return {
    kind: w.kind.type.kind,
    namespace: w.namespace,
    name: w.name,
    policy: w.policyLabel,
    settings,
    state,
    ...(stateReason !== undefined ? { stateReason } : {}),
    containers,
    ...(rollout ? { rollout } : {}),
    ...(d?.outcome
      ? {
        lastOutcome: {
          reason: d.outcome.reason,
          message: d.outcome.message,
          at: iso(d.outcome.at),
        },
      }
      : {}),
    rejected: rejected.map((r) => ({
      repository: r.repository,
      digest: r.digest,
      ...(r.tag !== undefined ? { tag: r.tag } : {}),
      at: iso(r.at),
      reason: r.reason,
    })),
    ...(d?.planned ? { plannedAt: iso(d.planned.at) } : {}),
  };
}

function containerStatus(
  name: string,
  image: string,
  d: Decisions | undefined,
  recorded: PendingUpdate | undefined,
): ContainerStatus {
  const counts = d?.pods?.containers[name];
  const running = counts &&
    Object.entries(counts).map(([digest, pods]) => ({ digest, pods }))
      .sort((a, b) => b.pods - a.pods);
  const planned = d?.planned?.containers[name];
  const current = planned?.image === image ? planned : undefined;
  const status: ContainerStatus = { name, image, ...(running ? { running } : {}) };
  const pendingOf = (gate: GateName, opensAt: number | undefined, to: string) => ({
    gate,
    ...(opensAt !== undefined ? { opensAt: iso(opensAt) } : {}),
    ...(recorded?.image === to ? { digest: recorded.digest } : {}),
  });
  // A gate holds it: the decision says why; every replica reads the same from argoos.io/pending.
  const gated = current?.gated;
  if (gated) {
    const pending = pendingOf(gated.gate, gated.opensAt, gated.to);
    return { ...status, candidate: gated.to, why: gated.message, pending };
  }
  if (current?.to !== undefined && current.to !== image) {
    // Planned but not written: the notice (a hold) says why, else it is on its way.
    const why = d?.notice && d.notice.at >= d.planned!.at ? d.notice.message : "not written yet";
    return { ...status, candidate: current.to, why };
  }
  if (recorded) {
    const opens = recorded.opensAt !== undefined
      ? `, may open ${isoSeconds(recorded.opensAt)}`
      : "";
    const pending = pendingOf(recorded.gate, recorded.opensAt, recorded.image);
    return {
      ...status,
      candidate: recorded.image,
      why: GATE_WORDS[recorded.gate] + opens,
      pending,
    };
  }
  if (!current || current.to !== undefined) return status;
  return { ...status, why: REASONS[current.reason] ?? current.reason };
}

/** The last failure when nothing succeeded since: an outcome seen, or the newest rejection. */
function lastFailure(
  outcome: Told | undefined,
  rejected: readonly { at: number; reason: string; tag?: string; digest: string }[],
): string | undefined {
  if (outcome && FAILURES.has(outcome.reason)) return `${outcome.reason}: ${outcome.message}`;
  const newest = rejected.reduce<typeof rejected[number] | undefined>(
    (a, r) => (a === undefined || r.at > a.at ? r : a),
    undefined,
  );
  if (!newest || (outcome && outcome.at > newest.at)) return undefined;
  return `rejected ${newest.tag ?? newest.digest}: ${newest.reason}`;
}
