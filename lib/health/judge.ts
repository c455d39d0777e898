/**
 * Whether a rollout Argoos started is still progressing, complete or failed, judged from the
 * workload's status and the pods (and Jobs) it owns. Pure: the caller reads, this decides.
 *
 * The completion rules follow `kubectl rollout status`; the early failure signs look only at
 * pods of the new revision (a pod whose spec runs the images now in the workload's template),
 * so old pods that crash for their own reasons do not fail a new rollout.
 *
 * @module
 */

import type { DaemonSet, Deployment, StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { CronJob, Job } from "kubernetes-types/batch/v1.d.ts";
import type { ContainerStatus, Pod, PodSpec } from "kubernetes-types/core/v1.d.ts";
import { createHash } from "node:crypto";
import { parseDuration } from "../parse/duration.ts";
import { controllerUid } from "../workloads/owned.ts";

/** Where a rollout stands. */
export type RolloutState = "progressing" | "complete" | "failed";

/** Why a rollout failed. */
export type FailureReason =
  /** The total budget the user set (`argoos.io/health-timeout`) ran out. */
  | "deadline"
  | "crash-loop"
  | "pull-error"
  | "failed-job"
  /** No progress for the progress deadline (the controller's verdict, or counts that stood). */
  | "progress-deadline";

/**
 * What a StatefulSet's or DaemonSet's counts looked like and since when they have not moved:
 * the memory that progress is judged by.
 */
export interface Progress {
  /** The counts and the ready new pods, as one comparable text; undefined: not seen yet. */
  mark?: string;
  /** ms epoch of the last move (or of the first look, when nothing was seen before). */
  since: number;
}

/** The verdict on one rollout. */
export interface Judgement {
  state: RolloutState;
  /** Set when `state` is "failed". */
  reason?: FailureReason;
  /** One line a human can act on (which pod, which container, which counts). */
  detail: string;
  /** StatefulSet, DaemonSet still progressing: the progress to remember until the next look. */
  progress?: Progress;
  /** The container an early sign was seen on; absent when the failure names none. */
  container?: string;
}

/** The workload kinds Argoos follows. */
export type HealthKind = "Deployment" | "StatefulSet" | "DaemonSet" | "CronJob";

/** What {@linkcode judgeRollout} looks at. */
export interface RolloutView {
  kind: HealthKind;
  /** The workload object as the API server returned it. */
  workload: Deployment | StatefulSet | DaemonSet | CronJob;
  /** Pods the workload owns, of any revision (for a CronJob: pods of its Jobs). */
  pods: readonly Pod[];
  /** Jobs a CronJob owns; ignored for other kinds. */
  jobs?: readonly Job[];
  /** Names of the containers the rollout changed; early signs look only at these. */
  containers: readonly string[];
  /** When the rollout was written (ms epoch): a CronJob's Jobs created before do not count. */
  startedAt: number;
  now: number;
  /** ms epoch of the total budget (`argoos.io/health-timeout`); undefined: none was asked for. */
  deadline?: number;
  /** StatefulSet, DaemonSet: how long counts may stand still; default ten minutes. */
  progressDeadlineMs?: number;
  /** StatefulSet, DaemonSet: progress seen at the last look; absent: none since `startedAt`. */
  progress?: Progress;
  /** A new container restarting more than this many times fails the rollout. */
  restartThreshold?: number;
}

/** Annotation giving a total budget for a rollout (`5m`, `90s`), whatever its progress. */
export const HEALTH_TIMEOUT_ANNOTATION = "argoos.io/health-timeout";

/** Annotation giving how long a StatefulSet's or DaemonSet's counts may stand still (`15m`). */
export const PROGRESS_DEADLINE_ANNOTATION = "argoos.io/progress-deadline";

/** Without the annotation or `progressDeadlineSeconds`: ten minutes, the Deployment default. */
export const DEFAULT_PROGRESS_DEADLINE_MS = 600_000;

/** Restarts of a new container beyond which the rollout fails without waiting for a deadline. */
export const DEFAULT_RESTART_THRESHOLD = 3;

const PULL_ERRORS = new Set(["ImagePullBackOff", "ErrImagePull"]);

/** A duration annotation, and why it was not used when it was unreadable. */
export interface AnnotatedDuration {
  /** ms; undefined when the annotation is absent or unreadable. */
  ms?: number;
  /** Set when the annotation is present but not used. */
  invalid?: string;
}

/**
 * The total budget the user gave a rollout with `argoos.io/health-timeout`, for any kind;
 * without it (or when it is unreadable) there is none and progress alone decides.
 *
 * @example
 * ```ts
 * import { healthTimeout } from "./judge.ts";
 * healthTimeout({ "argoos.io/health-timeout": "2m" }); // { ms: 120000 }
 * healthTimeout({}); // {}
 * ```
 */
export function healthTimeout(annotations: Readonly<Record<string, string>>): AnnotatedDuration {
  return durationAnnotation(annotations, HEALTH_TIMEOUT_ANNOTATION);
}

/** The progress deadline in force on a workload, and where it comes from. */
export interface ProgressDeadline extends AnnotatedDuration {
  ms: number;
  source: "annotation" | "spec" | "default";
}

/**
 * How long a rollout of this workload may go without progress before it has failed. A
 * Deployment's is its `spec.progressDeadlineSeconds`, which its controller applies (Argoos reads
 * the controller's verdict and keeps no clock of its own); a StatefulSet's or DaemonSet's is
 * `argoos.io/progress-deadline`, else ten minutes. A CronJob has none: it is judged by its next
 * Job, whenever that comes.
 *
 * @example
 * ```ts
 * import { progressDeadline } from "./judge.ts";
 * progressDeadline("StatefulSet", { annotations: { "argoos.io/progress-deadline": "15m" } });
 * // { ms: 900000, source: "annotation" }
 * progressDeadline("Deployment", { annotations: {}, progressDeadlineSeconds: 30 });
 * // { ms: 30000, source: "spec" }
 * progressDeadline("CronJob", { annotations: {} }); // undefined
 * ```
 */
export function progressDeadline(
  kind: HealthKind,
  workload: { annotations: Readonly<Record<string, string>>; progressDeadlineSeconds?: number },
): ProgressDeadline | undefined {
  if (kind === "CronJob") return undefined;
  const { annotations, progressDeadlineSeconds: seconds } = workload;
  let invalid: string | undefined;
  if (kind === "Deployment") {
    if (annotations[PROGRESS_DEADLINE_ANNOTATION] !== undefined) {
      invalid = `${PROGRESS_DEADLINE_ANNOTATION}: not used on a Deployment, whose controller ` +
        `applies spec.progressDeadlineSeconds`;
    }
    if (typeof seconds === "number" && seconds > 0) {
      return { ms: seconds * 1000, source: "spec", ...(invalid ? { invalid } : {}) };
    }
  } else {
    const annotated = durationAnnotation(annotations, PROGRESS_DEADLINE_ANNOTATION);
    if (annotated.ms !== undefined) return { ms: annotated.ms, source: "annotation" };
    invalid = annotated.invalid;
  }
  return { ms: DEFAULT_PROGRESS_DEADLINE_MS, source: "default", ...(invalid ? { invalid } : {}) };
}

/** A positive duration from an annotation; absent gives `{}`, unreadable gives `invalid`. */
function durationAnnotation(
  annotations: Readonly<Record<string, string>>,
  name: string,
): AnnotatedDuration {
  const text = annotations[name];
  if (text === undefined) return {};
  try {
    const ms = parseDuration(text);
    return ms > 0 ? { ms } : { invalid: `${name}: must be more than 0` };
  } catch (e) {
    return { invalid: `${name}: ${(e as Error).message}` };
  }
}

/**
 * Judge one rollout: complete by the workload's counts; failed by the controller's own verdict
 * (a Deployment's `ProgressDeadlineExceeded`, a failed Job), by an early sign on a new pod
 * (crash loop, image pull error, too many restarts), by the user's total budget, or (StatefulSet,
 * DaemonSet) by counts that have not moved for the progress deadline; otherwise progressing. A
 * suspended CronJob is not judged.
 *
 * @example
 * ```ts
 * import { judgeRollout } from "./judge.ts";
 * judgeRollout({
 *   kind: "Deployment",
 *   workload: {
 *     metadata: { generation: 2 },
 *     spec: { replicas: 1, selector: {}, template: {} },
 *     status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
 *   },
 *   pods: [],
 *   containers: ["app"],
 *   startedAt: 0,
 *   now: 1000,
 * }).state; // "complete"
 * ```
 */
export function judgeRollout(view: RolloutView): Judgement {
  if (view.kind === "CronJob" && (view.workload as CronJob).spec?.suspend) {
    return { state: "progressing", detail: "suspended: not judged until spec.suspend is lifted" };
  }
  const counted = view.kind === "CronJob"
    ? judgeCronJob(view)
    : view.kind === "Deployment"
    ? judgeDeployment(view.workload as Deployment)
    : view.kind === "StatefulSet"
    ? judgeStatefulSet(view.workload as StatefulSet)
    : judgeDaemonSet(view.workload as DaemonSet);
  if (counted.state !== "progressing") return counted;
  const template = (view.workload as Deployment).spec?.template?.spec;
  // A CronJob's early signs are its next Job's pods', looked at above.
  const fresh = view.kind === "CronJob" ? [] : newPods(view.pods, template, view.containers);
  const sign = earlySign(fresh, view);
  if (sign) return sign;
  if (view.deadline !== undefined && view.now >= view.deadline) {
    return {
      state: "failed",
      reason: "deadline",
      detail: `not complete within ${HEALTH_TIMEOUT_ANNOTATION} (${counted.detail})`,
    };
  }
  if (view.kind === "StatefulSet" || view.kind === "DaemonSet") {
    return byProgress(counted, progressMark(view.workload, fresh), view);
  }
  return counted;
}
function judgeDeployment(d: Deployment): Judgement {
  const s = d.status ?? {};
  const caught = caughtUp(d.metadata?.generation, s.observedGeneration);
  if (caught) return caught;
  const progressing = s.conditions?.find((c) => c.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    return {
      state: "failed",
      reason: "progress-deadline",
      detail: progressing.message ?? "ProgressDeadlineExceeded",
    };
  }
  const want = d.spec?.replicas ?? 1;
  const counts = `${s.updatedReplicas ?? 0} updated, ${s.availableReplicas ?? 0} available, ` +
    `${s.replicas ?? 0} total of ${want}`;
  const done = (s.updatedReplicas ?? 0) === want && (s.availableReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want;
  return { state: done ? "complete" : "progressing", detail: counts };
}

function judgeStatefulSet(set: StatefulSet): Judgement {
  const s = set.status;
  const caught = caughtUp(set.metadata?.generation, s?.observedGeneration);
  if (caught) return caught;
  const strategy = set.spec?.updateStrategy;
  if (strategy?.type === "OnDelete") return onDelete();
  const want = set.spec?.replicas ?? 1;
  const partition = strategy?.rollingUpdate?.partition ?? 0;
  const updated = s?.updatedReplicas ?? 0;
  const ready = s?.readyReplicas ?? 0;
  const counts = `${updated} updated, ${ready} ready of ${want}` +
    (partition > 0 ? ` (partition ${partition})` : "");
  // With a partition the controller never moves currentRevision; without one it does once every
  // pod runs the update revision, which is when kubectl calls the rollout complete.
  const done = updated >= want - partition && ready >= want &&
    (partition > 0 || s?.currentRevision === s?.updateRevision);
  return { state: done ? "complete" : "progressing", detail: counts };
}

function judgeDaemonSet(set: DaemonSet): Judgement {
  const s = set.status;
  const caught = caughtUp(set.metadata?.generation, s?.observedGeneration);
  if (caught) return caught;
  if (set.spec?.updateStrategy?.type === "OnDelete") return onDelete();
  const want = s?.desiredNumberScheduled ?? 0;
  const updated = s?.updatedNumberScheduled ?? 0;
  const available = s?.numberAvailable ?? 0;
  return {
    state: updated >= want && available >= want ? "complete" : "progressing",
    detail: `${updated} updated, ${available} available of ${want} scheduled`,
  };
}

/** Progressing while the controller has not seen the spec Argoos wrote. */
function caughtUp(generation?: number, observed?: number): Judgement | undefined {
  if ((observed ?? 0) >= (generation ?? 0)) return undefined;
  return {
    state: "progressing",
    detail: `controller has not observed generation ${generation} yet (at ${observed ?? 0})`,
  };
}

/**
 * Progressing while the counts move; failed once they have stood still for the progress
 * deadline. Counts never seen before count as standing since `view.progress.since`.
 */
function byProgress(counted: Judgement, mark: string, view: RolloutView): Judgement {
  const seen = view.progress?.mark;
  const since = seen === undefined || seen === mark
    ? view.progress?.since ?? view.startedAt
    : view.now;
  const limit = view.progressDeadlineMs ?? DEFAULT_PROGRESS_DEADLINE_MS;
  if (view.now - since >= limit) {
    return {
      state: "failed",
      reason: "progress-deadline",
      detail: `no progress for ${Math.round(limit / 1000)}s (${counted.detail})`,
    };
  }
  return { ...counted, progress: { mark, since } };
}

/**
 * What progress is measured by: the controller's observed generation and counts (updated,
 * ready, available) and which new pods are ready, hashed so a large set stays small in memory.
 */
function progressMark(workload: RolloutView["workload"], fresh: readonly Pod[]): string {
  const s = (workload as StatefulSet | DaemonSet).status as Record<string, unknown> | undefined;
  const counts = [
    "observedGeneration",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "updatedNumberScheduled",
    "numberReady",
    "numberAvailable",
  ].map((k) => s?.[k] ?? 0);
  const ready = fresh.filter(isReady).map((p) => p.metadata?.name ?? "").sort();
  return createHash("sha256").update(JSON.stringify([counts, ready])).digest("base64");
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** Pods change only when someone deletes them: there is no rollout for Argoos to wait on. */
function onDelete(): Judgement {
  return { state: "complete", detail: "OnDelete strategy: pods take the new images when deleted" };
}

function judgeCronJob(view: RolloutView): Judgement {
  const template = (view.workload as CronJob).spec?.jobTemplate?.spec?.template?.spec;
  const next = (view.jobs ?? [])
    .filter((j) =>
      Date.parse(j.metadata?.creationTimestamp ?? "") >= secondFloor(view.startedAt) &&
      runsImages(j.spec?.template?.spec, template, view.containers)
    )
    .sort((a, b) =>
      Date.parse(a.metadata?.creationTimestamp ?? "") -
      Date.parse(b.metadata?.creationTimestamp ?? "")
    )[0];
  if (!next) return { state: "progressing", detail: "waiting for the next Job" };
  const name = next.metadata?.name ?? "";
  const condition = (type: string) =>
    next.status?.conditions?.find((c) => c.type === type && c.status === "True");
  const failed = condition("Failed");
  if (failed) {
    return {
      state: "failed",
      reason: "failed-job",
      detail: `Job ${name} failed: ${failed.reason ?? ""}${
        failed.message ? ` (${failed.message})` : ""
      }`,
    };
  }
  if (condition("Complete")) return { state: "complete", detail: `Job ${name} completed` };
  const uid = next.metadata?.uid;
  const pods = view.pods.filter((p) => uid !== undefined && controllerUid(p) === uid);
  return earlySign(pods, view) ?? { state: "progressing", detail: `Job ${name} running` };
}

/** Creation timestamps have second precision: a Job made in the same second counts as after. */
function secondFloor(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** Live pods whose spec runs, for every changed container, the image the template now names. */
function newPods(
  pods: readonly Pod[],
  template: PodSpec | undefined,
  containers: readonly string[],
): Pod[] {
  return pods.filter((p) =>
    !p.metadata?.deletionTimestamp && runsImages(p.spec, template, containers)
  );
}

function runsImages(
  spec: PodSpec | undefined,
  template: PodSpec | undefined,
  containers: readonly string[],
): boolean {
  const image = (s: PodSpec | undefined, name: string) =>
    [...s?.initContainers ?? [], ...s?.containers ?? []].find((c) => c.name === name)?.image;
  return containers.every((name) => {
    const want = image(template, name);
    return want !== undefined && image(spec, name) === want;
  });
}

/** The first early failure sign on the changed containers of these pods. */
function earlySign(pods: readonly Pod[], view: RolloutView): Judgement | undefined {
  const threshold = view.restartThreshold ?? DEFAULT_RESTART_THRESHOLD;
  for (const pod of pods) {
    const statuses: ContainerStatus[] = [
      ...pod.status?.initContainerStatuses ?? [],
      ...pod.status?.containerStatuses ?? [],
    ];
    for (const cs of statuses) {
      if (!view.containers.includes(cs.name)) continue;
      const at = `pod ${pod.metadata?.name ?? ""} container ${cs.name}`;
      const waiting = cs.state?.waiting?.reason ?? "";
      if (PULL_ERRORS.has(waiting)) {
        return {
          state: "failed",
          reason: "pull-error",
          container: cs.name,
          detail: `${at}: ${waiting}${
            cs.state?.waiting?.message ? ` (${cs.state.waiting.message})` : ""
          }`,
        };
      }
      if (waiting === "CrashLoopBackOff" || cs.restartCount > threshold) {
        return {
          state: "failed",
          reason: "crash-loop",
          container: cs.name,
          detail: `${at}: ${waiting || "restarting"}, ${cs.restartCount} restarts`,
        };
      }
    }
  }
  return undefined;
}
