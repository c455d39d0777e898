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
import { parseDuration } from "../poll/duration.ts";
import { controllerUid } from "../workloads/owned.ts";

/** Where a rollout stands. */
export type RolloutState = "progressing" | "complete" | "failed";

/** Why a rollout failed. */
export type FailureReason =
  | "deadline"
  | "crash-loop"
  | "pull-error"
  | "failed-job"
  | "progress-deadline";

/** The verdict on one rollout. */
export interface Judgement {
  state: RolloutState;
  /** Set when `state` is "failed". */
  reason?: FailureReason;
  /** One line a human can act on (which pod, which container, which counts). */
  detail: string;
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
  /** ms epoch after which a rollout still progressing has failed; undefined: none (CronJob). */
  deadline?: number;
  /** A new container restarting more than this many times fails the rollout. */
  restartThreshold?: number;
}

/** Annotation giving how long a rollout may take before it counts as failed (`5m`, `90s`). */
export const HEALTH_TIMEOUT_ANNOTATION = "argoos.io/health-timeout";

/** Without the annotation or `progressDeadlineSeconds`: ten minutes, the Deployment default. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 600_000;

/** Restarts of a new container beyond which the rollout fails without waiting for a deadline. */
export const DEFAULT_RESTART_THRESHOLD = 3;

const PULL_ERRORS = new Set(["ImagePullBackOff", "ErrImagePull"]);

/** The time budget of a rollout, and why the annotation was not used when it was unreadable. */
export interface HealthTimeout {
  /** ms; undefined for a CronJob (judged by its next Job, whenever that comes). */
  ms?: number;
  /** Set when `argoos.io/health-timeout` is present but not a duration. */
  invalid?: string;
}

/**
 * How long a rollout of this workload may take: the `argoos.io/health-timeout` annotation, else
 * the Deployment's `spec.progressDeadlineSeconds`, else {@linkcode DEFAULT_HEALTH_TIMEOUT_MS}.
 * CronJobs have none.
 *
 * @example
 * ```ts
 * import { healthTimeout } from "./judge.ts";
 * healthTimeout("Deployment", { metadata: { annotations: { "argoos.io/health-timeout": "2m" } } });
 * // { ms: 120000 }
 * healthTimeout("Deployment", { spec: { progressDeadlineSeconds: 30, selector: {}, template: {} } });
 * // { ms: 30000 }
 * ```
 */
export function healthTimeout(
  kind: HealthKind,
  workload: RolloutView["workload"],
): HealthTimeout {
  if (kind === "CronJob") return {};
  const text = workload.metadata?.annotations?.[HEALTH_TIMEOUT_ANNOTATION];
  let invalid: string | undefined;
  if (text !== undefined) {
    try {
      const ms = parseDuration(text);
      if (ms > 0) return { ms };
      invalid = `${HEALTH_TIMEOUT_ANNOTATION}: must be more than 0`;
    } catch (e) {
      invalid = `${HEALTH_TIMEOUT_ANNOTATION}: ${(e as Error).message}`;
    }
  }
  const seconds = kind === "Deployment"
    ? (workload as Deployment).spec?.progressDeadlineSeconds
    : undefined;
  const ms = typeof seconds === "number" && seconds > 0
    ? seconds * 1000
    : DEFAULT_HEALTH_TIMEOUT_MS;
  return invalid ? { ms, invalid } : { ms };
}

/**
 * Judge one rollout: complete by the workload's counts, failed by the controller's own verdict
 * (`ProgressDeadlineExceeded`, a failed Job), by an early sign on a new pod (crash loop, image
 * pull error, too many restarts) or by the deadline; otherwise progressing.
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
 *   deadline: 600_000,
 * }).state; // "complete"
 * ```
 */
export function judgeRollout(view: RolloutView): Judgement {
  if (view.kind === "CronJob") return judgeCronJob(view);
  const counted = view.kind === "Deployment"
    ? judgeDeployment(view.workload as Deployment)
    : view.kind === "StatefulSet"
    ? judgeStatefulSet(view.workload as StatefulSet)
    : judgeDaemonSet(view.workload as DaemonSet);
  if (counted.state !== "progressing") return counted;
  const template = (view.workload as Deployment).spec?.template?.spec;
  const sign = earlySign(newPods(view.pods, template, view.containers), view);
  if (sign) return sign;
  if (view.deadline !== undefined && view.now >= view.deadline) {
    return {
      state: "failed",
      reason: "deadline",
      detail: `not complete after the deadline (${counted.detail})`,
    };
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
