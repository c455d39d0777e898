/**
 * What the real controllers and kubelet would do after a workload's pod template changes,
 * simulated inside the fake API server (enabled per test): Deployments get a ReplicaSet
 * (`pod-template-hash`) and its Pods, StatefulSets and DaemonSets their Pods, a triggered CronJob
 * a Job and its Pod; Pods move through container states by a knob per image, and the workloads'
 * `status` follows as `kubectl rollout status` reads it. Every write is a store write (watch
 * events fire; status changes leave spec and generation alone, as `/status` writes do).
 *
 * The simulation runs in steps, one macrotask each (`stepMs` apart). In the slow mode
 * (`readyEveryMs`) a workload's Pods become ready one at a time, one more every `readyEveryMs`,
 * and a Deployment's `Progressing` condition follows as the controller keeps it (its
 * `lastUpdateTime` moves on every progress; `ProgressDeadlineExceeded` once there was none for
 * `progressDeadlineSeconds`). Simplifications: a
 * Deployment surges its whole new ReplicaSet at once and removes the old Pods when every new one
 * is ready; a DaemonSet replaces one node's Pod at a time (maxUnavailable 1); a StatefulSet one
 * Pod at a time from the highest ordinal, waiting for it to be ready; a failing Job fails at
 * once (as with backoffLimit 0). Nodes are named, not stored.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { DeploymentCondition } from "kubernetes-types/apps/v1.d.ts";
import type { ContainerStatus, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { parseReference, referenceRepository } from "../../lib/image/reference.ts";
import { type ApiResource, findByKind } from "./resources.ts";
import { deepEqual, type JsonObject } from "./json_value.ts";
import { withSystemFields } from "./object_meta.ts";
import type { ObjectStore, StoreEvent } from "./store.ts";
import { randomSuffix, SAFE_ALPHABET } from "./writes.ts";

/** What containers running an image do. */
export type Behaviour =
  /** Start and become ready (a Job's container exits 0). */
  | "succeed"
  /** Stay in ContainerCreating; the rollout never finishes. */
  | "stall"
  /** Crash on start: CrashLoopBackOff, restartCount growing each step up to `maxRestarts`. */
  | "crash-loop"
  /** ErrImagePull, then ImagePullBackOff. */
  | "pull-error"
  /** In a Job: exit 1, the Job fails; elsewhere like crash-loop. */
  | "job-fail";

/** A knob for one image (as written in the pod spec). */
export interface ImageKnob {
  behaviour: Behaviour;
  /** The digest Pods report in `imageID`; default derived from the image text. */
  digest?: string;
}

/** Options of {@linkcode RolloutSimulator}. */
export interface RolloutSimOptions {
  /** Knobs by image exactly as written in pod specs. */
  images?: Record<string, Behaviour | ImageKnob>;
  /** Behaviour of images without a knob; default "succeed". */
  defaultBehaviour?: Behaviour;
  /** Nodes a DaemonSet runs on; default 1. */
  nodes?: number;
  /** ms between steps; default 0 (next macrotask). */
  stepMs?: number;
  /** A crash-looping container stops restarting here, which bounds the steps; default 5. */
  maxRestarts?: number;
  /**
   * Slow mode: a workload's Pods become ready one at a time, one more every this many ms (the
   * first at once); default 0, every Pod at the next step.
   */
  readyEveryMs?: number;
}

const DEPLOYMENTS = findByKind("apps/v1", "Deployment")!;
const STATEFULSETS = findByKind("apps/v1", "StatefulSet")!;
const DAEMONSETS = findByKind("apps/v1", "DaemonSet")!;
const REPLICASETS = findByKind("apps/v1", "ReplicaSet")!;
const CRONJOBS = findByKind("batch/v1", "CronJob")!;
const JOBS = findByKind("batch/v1", "Job")!;
const PODS = findByKind("v1", "Pod")!;

// deno-lint-ignore no-explicit-any
type Obj = any;
type Timer = ReturnType<typeof setTimeout>;

/**
 * Simulates controllers and kubelet on a store. Start it with
 * `FakeApiServer.simulateRollouts()`; stop it (or the server) at the end of the test.
 *
 * @example
 * ```ts
 * import { startFakeApiServer } from "./server.ts";
 * const api = await startFakeApiServer();
 * const sim = api.simulateRollouts({ images: { "myapp:2": "crash-loop" } });
 * api.put({
 *   apiVersion: "apps/v1", kind: "Deployment",
 *   metadata: { name: "web", namespace: "default" },
 *   spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template: {
 *     metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "myapp:1" }] } } },
 * });
 * await sim.idle();
 * (api.get("apps/v1", "Deployment", "default", "web")!.status as { availableReplicas: number }).availableReplicas; // 1
 * await api.stop();
 * ```
 */
export class RolloutSimulator {
  #store: ObjectStore;
  #opts: Required<Omit<RolloutSimOptions, "images">>;
  #knobs = new Map<string, ImageKnob>();
  /** Steps each simulated Pod has taken, by uid; bounded by the Pods the simulation made. */
  #podSteps = new Map<string, number>();
  /** Pending step timers by workload key; one per workload at most. */
  #timers = new Map<string, { type: ApiResource; timer: Timer }>();
  /** Progress-deadline timers of Deployments by key; one per Deployment at most. */
  #deadlines = new Map<string, Timer>();
  /** When each Deployment last made progress (ms), for its progress deadline; one per Deployment. */
  #progressAt = new Map<string, number>();
  /** Slow mode: when a Pod of each workload last became ready (ms); one per workload. */
  #readyAt = new Map<string, number>();
  /** Slow mode: when a workload with a Pod held back may make the next one ready (ms). */
  #wakeAt = new Map<string, number>();
  #idle: (() => void)[] = [];
  #unsubscribe: (() => void)[];
  #stopped = false;

  constructor(store: ObjectStore, opts: RolloutSimOptions = {}) {
    this.#store = store;
    this.#opts = {
      defaultBehaviour: opts.defaultBehaviour ?? "succeed",
      nodes: opts.nodes ?? 1,
      stepMs: opts.stepMs ?? 0,
      maxRestarts: opts.maxRestarts ?? 5,
      readyEveryMs: opts.readyEveryMs ?? 0,
    };
    for (const [image, knob] of Object.entries(opts.images ?? {})) this.image(image, knob);
    this.#unsubscribe = [DEPLOYMENTS, STATEFULSETS, DAEMONSETS].map((type) =>
      store.subscribe(type, (e) => this.#changed(type, e))
    );
    for (const type of [DEPLOYMENTS, STATEFULSETS, DAEMONSETS]) {
      for (const obj of store.list(type)) this.#schedule(type, obj);
    }
  }

  /**
   * Set (or change) what containers running `image` do from their next step on: new Pods, and
   * Pods still on their way (a Pod waiting to become ready stalls after a change to "stall");
   * a Pod that has settled keeps its status.
   */
  image(image: string, knob: Behaviour | ImageKnob): void {
    this.#knobs.set(image, typeof knob === "string" ? { behaviour: knob } : knob);
  }

  /** The `imageID` Pods running `image` report: `<repository>@<digest>`. */
  imageId(image: string): string {
    const ref = parseReference(image);
    const digest = ref.digest ?? this.#knobs.get(image)?.digest ??
      `sha256:${createHash("sha256").update(image).digest("hex")}`;
    return `${referenceRepository(ref)}@${digest}`;
  }

  /**
   * Create the Job a CronJob's schedule would create now (as the CronJob controller names it,
   * `<cronjob>-<scheduled minute>`), owned by the CronJob; its Pod then runs. Returns its name.
   */
  triggerCronJob(namespace: string, name: string): string {
    const cron = this.#store.get(CRONJOBS, namespace, name);
    if (!cron) throw new Error(`no CronJob ${namespace}/${name}`);
    let minute = Math.floor(Date.now() / 60_000);
    while (this.#store.get(JOBS, namespace, `${name}-${minute}`)) minute++;
    const jobName = `${name}-${minute}`;
    // The scheduled time, which names the Job (a test triggering twice a minute takes the next).
    const scheduled = rfc3339(minute * 60_000);
    const uid = crypto.randomUUID();
    const template = (cron.spec as Obj).jobTemplate ?? {};
    const labels = {
      ...template.metadata?.labels,
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": jobName,
      "controller-uid": uid,
      "job-name": jobName,
    };
    const now = rfc3339();
    const spec = structuredClone(template.spec ?? {});
    spec.template = {
      ...spec.template,
      metadata: {
        ...spec.template?.metadata,
        labels: { ...spec.template?.metadata?.labels, ...labels },
      },
    };
    const job = this.#create(JOBS, {
      metadata: {
        name: jobName,
        namespace,
        uid,
        labels,
        annotations: { "batch.kubernetes.io/cronjob-scheduled-timestamp": now },
        ownerReferences: [owner(cron)],
      },
      spec: {
        backoffLimit: 6,
        completions: 1,
        parallelism: 1,
        selector: { matchLabels: { "batch.kubernetes.io/controller-uid": uid } },
        ...spec,
      },
      status: { startTime: now, active: 1 },
    });
    this.#writeStatus(CRONJOBS, cron, {
      ...(cron.status as Obj),
      active: [{ apiVersion: "batch/v1", kind: "Job", name: jobName, namespace, uid }],
      lastScheduleTime: scheduled,
    });
    this.#schedule(JOBS, job);
    return jobName;
  }

  /** Resolves once no step is pending (progress-deadline timers do not count). */
  idle(): Promise<void> {
    if (this.#timers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stop reacting and clear every timer. */
  stop(): void {
    this.#stopped = true;
    for (const u of this.#unsubscribe) u();
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    for (const timer of this.#deadlines.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#deadlines.clear();
    this.#settle();
  }

  #changed(type: ApiResource, e: StoreEvent): void {
    if (e.type === "DELETED") {
      const key = keyOf(type, e.object);
      this.#readyAt.delete(key);
      this.#wakeAt.delete(key);
      return;
    }
    this.#schedule(type, e.object);
  }

  #schedule(type: ApiResource, obj: JsonObject): void {
    if (this.#stopped) return;
    const key = keyOf(type, obj);
    if (this.#timers.has(key)) return;
    const wake = (this.#wakeAt.get(key) ?? 0) - Date.now();
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      const meta = obj.metadata as Obj;
      const current = this.#store.get(type, meta.namespace, meta.name);
      if (current && this.#step(type, current)) this.#schedule(type, current);
      this.#settle();
    }, Math.max(this.#opts.stepMs, wake));
    this.#timers.set(key, { type, timer });
  }

  #settle(): void {
    if (this.#timers.size > 0) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** One step of the controller for this workload; true when there is more to do. */
  #step(type: ApiResource, obj: JsonObject): boolean {
    if (type === DEPLOYMENTS) return this.#stepDeployment(obj as Obj);
    if (type === STATEFULSETS) return this.#stepStatefulSet(obj as Obj);
    if (type === DAEMONSETS) return this.#stepDaemonSet(obj as Obj);
    return this.#stepJob(obj as Obj);
  }

  #stepDeployment(d: Obj): boolean {
    const ns = d.metadata.namespace;
    const key = keyOf(DEPLOYMENTS, d);
    const want: number = d.spec?.replicas ?? 1;
    const hash = templateHash(d.spec?.template);
    const owned = this.#owned(REPLICASETS, d);
    let rs: Obj = owned.find((r) => r.metadata.labels?.["pod-template-hash"] === hash);
    let progressed = false;
    const created = !rs;
    if (!rs) {
      const revision = 1 +
        Math.max(0, ...owned.map((r) => Number(r.metadata.annotations?.[REVISION]) || 0));
      const template = withLabels(d.spec?.template, { "pod-template-hash": hash });
      rs = this.#create(REPLICASETS, {
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: ns,
          labels: template.metadata.labels,
          annotations: {
            [REVISION]: String(revision),
            "deployment.kubernetes.io/desired-replicas": String(want),
          },
          ownerReferences: [owner(d)],
        },
        spec: {
          replicas: want,
          selector: {
            matchLabels: { ...d.spec?.selector?.matchLabels, "pod-template-hash": hash },
          },
          template,
        },
      });
      progressed = true;
    }
    let pods = this.#owned(PODS, rs);
    const readyBefore = pods.filter(isReady).length;
    let more = this.#advancePods(pods, key);
    for (let i = pods.length; i < want; i++) {
      this.#createPod(rs, `${rs.metadata.name}-${randomSuffix()}`);
      progressed = more = true;
    }
    pods = this.#owned(PODS, rs);
    const newReady = pods.filter(isReady).length;
    const old = owned.filter((r) => r !== rs && r.metadata.uid !== rs.metadata.uid);
    if (newReady >= want) {
      for (const o of old) {
        for (const p of this.#owned(PODS, o)) this.#deletePod(p);
        if (o.spec?.replicas !== 0) {
          this.#write(REPLICASETS, { ...o, spec: { ...o.spec, replicas: 0 } });
          progressed = true;
        }
      }
    }
    if (newReady > readyBefore) progressed = true;
    const oldPods = old.flatMap((o) => this.#owned(PODS, o));
    for (const r of [rs, ...old]) this.#replicaSetStatus(r);
    const total = pods.length + oldPods.length;
    const available = newReady + oldPods.filter(isReady).length;
    const complete = newReady >= want && oldPods.length === 0 && pods.length === want;
    const now = Date.now();
    if (progressed || !this.#progressAt.has(key)) this.#progressAt.set(key, now);
    const deadlineMs = (d.spec?.progressDeadlineSeconds ?? 600) * 1000;
    const expired = !complete && now - this.#progressAt.get(key)! >= deadlineMs;
    const rsName = rs.metadata.name;
    const maxUnavailable = Math.floor(want / 4);
    const conditions = [
      condition(
        d.status?.conditions,
        "Available",
        available >= want - maxUnavailable,
        available >= want - maxUnavailable
          ? "MinimumReplicasAvailable"
          : "MinimumReplicasUnavailable",
        available >= want - maxUnavailable
          ? "Deployment has minimum availability."
          : "Deployment does not have minimum availability.",
      ),
      expired
        ? condition(
          d.status?.conditions,
          "Progressing",
          false,
          "ProgressDeadlineExceeded",
          `ReplicaSet "${rsName}" has timed out progressing.`,
        )
        : complete
        ? condition(
          d.status?.conditions,
          "Progressing",
          true,
          "NewReplicaSetAvailable",
          `ReplicaSet "${rsName}" has successfully progressed.`,
        )
        : created
        ? condition(
          d.status?.conditions,
          "Progressing",
          true,
          "NewReplicaSetCreated",
          `Created new replica set "${rsName}"`,
        )
        : condition(
          d.status?.conditions,
          "Progressing",
          true,
          "ReplicaSetUpdated",
          `ReplicaSet "${rsName}" is progressing.`,
          progressed,
        ),
    ];
    this.#writeStatus(
      DEPLOYMENTS,
      d,
      omitZero({
        observedGeneration: d.metadata.generation,
        replicas: total,
        updatedReplicas: pods.length,
        readyReplicas: available,
        availableReplicas: available,
        unavailableReplicas: Math.max(0, Math.max(want, total) - available),
        conditions,
      }, [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplicas",
      ]),
    );
    clearTimeout(this.#deadlines.get(key));
    this.#deadlines.delete(key);
    if (!complete && !expired && !this.#stopped) {
      const left = this.#progressAt.get(key)! + deadlineMs - now;
      this.#deadlines.set(
        key,
        setTimeout(() => {
          this.#deadlines.delete(key);
          const current = this.#store.get(DEPLOYMENTS, ns, d.metadata.name);
          if (current) this.#schedule(DEPLOYMENTS, current);
        }, left),
      );
    }
    return more || progressed;
  }

  #stepStatefulSet(set: Obj): boolean {
    const name = set.metadata.name;
    const want: number = set.spec?.replicas ?? 1;
    const partition: number = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    const onDelete = set.spec?.updateStrategy?.type === "OnDelete";
    const update = `${name}-${templateHash(set.spec?.template)}`;
    const revisionOf = (p: Obj) => p.metadata.labels?.["controller-revision-hash"];
    const pods = () => this.#owned(PODS, set);
    const more = this.#advancePods(pods(), keyOf(STATEFULSETS, set));
    let changed = false;
    const byOrdinal = new Map(
      pods().map((p) => [Number(p.metadata.name.slice(name.length + 1)), p]),
    );
    for (let i = 0; i < want; i++) {
      if (!byOrdinal.has(i)) {
        this.#createPod(set, `${name}-${i}`, statefulLabels(name, i, update));
        changed = true;
      }
    }
    // Rolling update: one Pod at a time from the highest ordinal, each waiting for the last.
    const all = pods();
    if (!onDelete && all.every(isReady)) {
      const next = all
        .filter((p) =>
          revisionOf(p) !== update && Number(p.metadata.name.slice(name.length + 1)) >= partition
        )
        .sort((a, b) =>
          b.metadata.name.localeCompare(a.metadata.name, undefined, { numeric: true })
        )[0];
      if (next) {
        const i = Number(next.metadata.name.slice(name.length + 1));
        this.#deletePod(next);
        this.#createPod(set, `${name}-${i}`, statefulLabels(name, i, update));
        changed = true;
      }
    }
    const now = pods();
    const updated = now.filter((p) => revisionOf(p) === update).length;
    const current = set.status?.currentRevision ?? update;
    const done = updated === want && now.every(isReady);
    const ready = now.filter(isReady).length;
    this.#writeStatus(
      STATEFULSETS,
      set,
      omitZero({
        observedGeneration: set.metadata.generation,
        replicas: now.length,
        readyReplicas: ready,
        currentReplicas: done ? updated : now.filter((p) => revisionOf(p) === current).length,
        updatedReplicas: updated,
        currentRevision: done ? update : current,
        updateRevision: update,
        collisionCount: 0,
        availableReplicas: ready,
      }, ["readyReplicas", "currentReplicas", "updatedReplicas"]),
    );
    return more || changed;
  }

  #stepDaemonSet(set: Obj): boolean {
    const name = set.metadata.name;
    const hash = templateHash(set.spec?.template);
    const labels = {
      "controller-revision-hash": hash,
      "pod-template-generation": String(set.metadata.generation),
    };
    const pods = () => this.#owned(PODS, set);
    const more = this.#advancePods(pods(), keyOf(DAEMONSETS, set));
    let changed = false;
    const nodes = Array.from({ length: this.#opts.nodes }, (_, i) => `node-${i}`);
    const isNew = (p: Obj) => p.metadata.labels?.["controller-revision-hash"] === hash;
    for (const node of nodes) {
      if (!pods().some((p) => p.spec?.nodeName === node)) {
        this.#createPod(set, `${name}-${randomSuffix()}`, labels, node);
        changed = true;
      }
    }
    // maxUnavailable 1: replace one node's Pod once every new Pod is ready.
    if (set.spec?.updateStrategy?.type !== "OnDelete" && pods().filter(isNew).every(isReady)) {
      const old = pods().find((p) => !isNew(p));
      if (old) {
        this.#deletePod(old);
        this.#createPod(set, `${name}-${randomSuffix()}`, labels, old.spec.nodeName);
        changed = true;
      }
    }
    const now = pods();
    const ready = now.filter(isReady).length;
    this.#writeStatus(
      DAEMONSETS,
      set,
      omitZero({
        currentNumberScheduled: now.length,
        numberMisscheduled: 0,
        desiredNumberScheduled: nodes.length,
        numberReady: ready,
        observedGeneration: set.metadata.generation,
        updatedNumberScheduled: now.filter(isNew).length,
        numberAvailable: ready,
        numberUnavailable: nodes.length - ready,
      }, ["updatedNumberScheduled", "numberAvailable", "numberUnavailable"]),
    );
    return more || changed;
  }

  #stepJob(job: Obj): boolean {
    if (job.status?.conditions?.some((c: Obj) => ["Complete", "Failed"].includes(c.type))) {
      return false;
    }
    const pods = this.#owned(PODS, job);
    if (pods.length === 0) {
      this.#createPod(job, `${job.metadata.name}-${randomSuffix()}`);
      return true;
    }
    const more = this.#advancePods(pods, keyOf(JOBS, job));
    const phase = this.#owned(PODS, job)[0].status?.phase;
    if (phase !== "Succeeded" && phase !== "Failed") return more;
    const now = rfc3339();
    const ok = phase === "Succeeded";
    const conditions = ok
      ? [
        jobCondition(
          "SuccessCriteriaMet",
          "CompletionsReached",
          "Reached expected number of succeeded pods",
          now,
        ),
        jobCondition(
          "Complete",
          "CompletionsReached",
          "Reached expected number of succeeded pods",
          now,
        ),
      ]
      : [
        jobCondition(
          "FailureTarget",
          "BackoffLimitExceeded",
          "Job has reached the specified backoff limit",
          now,
        ),
        jobCondition(
          "Failed",
          "BackoffLimitExceeded",
          "Job has reached the specified backoff limit",
          now,
        ),
      ];
    this.#writeStatus(JOBS, job, {
      ...job.status,
      active: undefined,
      ready: 0,
      terminating: 0,
      ...(ok ? { succeeded: 1, completionTime: now } : { failed: 1 }),
      conditions,
      uncountedTerminatedPods: {},
    });
    const cronRef = job.metadata.ownerReferences?.find((o: Obj) => o.kind === "CronJob");
    const cron: Obj = cronRef && this.#store.get(CRONJOBS, job.metadata.namespace, cronRef.name);
    if (cron) {
      const active = (cron.status?.active ?? []).filter((a: Obj) => a.uid !== job.metadata.uid);
      this.#writeStatus(CRONJOBS, cron, {
        ...cron.status,
        active: active.length ? active : undefined,
        ...(ok ? { lastSuccessfulTime: now } : {}),
      });
    }
    return false;
  }

  /**
   * Move every unsettled Pod of a workload one step on; true when some Pod has further to go. In
   * slow mode a Pod about to become ready waits while another became ready too recently.
   */
  #advancePods(pods: Obj[], key: string): boolean {
    let more = false;
    this.#wakeAt.delete(key);
    for (const pod of pods) {
      const steps = (this.#podSteps.get(pod.metadata.uid) ?? 0) + 1;
      const status = this.#podStatus(pod, steps);
      const before = this.#podStatus(pod, steps - 1);
      if (deepEqual(status, before)) continue;
      if (this.#opts.readyEveryMs > 0 && isReady({ status }) && !isReady({ status: before })) {
        const next = (this.#readyAt.get(key) ?? -Infinity) + this.#opts.readyEveryMs;
        if (Date.now() < next) {
          this.#wakeAt.set(key, next);
          more = true;
          continue;
        }
        this.#readyAt.set(key, Date.now());
      }
      this.#podSteps.set(pod.metadata.uid, steps);
      this.#writeStatus(PODS, pod, status);
      more ||= !deepEqual(this.#podStatus(pod, steps + 1), status);
    }
    return more;
  }

  #createPod(
    parent: Obj,
    name: string,
    labels: Record<string, string> = {},
    nodeName = "node-0",
  ): void {
    const template = parent.spec?.template ?? {};
    const pod: Obj = {
      metadata: {
        name,
        namespace: parent.metadata.namespace,
        uid: crypto.randomUUID(),
        labels: { ...template.metadata?.labels, ...labels },
        ownerReferences: [owner(parent)],
      },
      spec: { ...structuredClone(template.spec ?? {}), nodeName },
    };
    this.#podSteps.set(pod.metadata.uid, 0);
    pod.status = this.#podStatus(pod, 0);
    this.#create(PODS, pod);
  }

  #deletePod(pod: Obj): void {
    this.#podSteps.delete(pod.metadata.uid);
    this.#store.delete(PODS, pod.metadata.namespace, pod.metadata.name);
  }

  /** The status of a Pod after `steps` steps, by the knobs of its images. */
  #podStatus(pod: Obj, steps: number): PodStatus {
    const job = pod.metadata.ownerReferences?.[0]?.kind === "Job";
    const statuses = (pod.spec?.containers ?? []).map((c: Obj) =>
      this.#containerStatus(pod, c.name, c.image, steps, job)
    );
    const inits = (pod.spec?.initContainers ?? []).map((c: Obj) =>
      this.#containerStatus(pod, c.name, c.image, steps, true)
    );
    const all: ContainerStatus[] = [...inits, ...statuses];
    const initialized = inits.every((s: ContainerStatus) => s.state?.terminated?.exitCode === 0);
    const ready = initialized && statuses.length > 0 &&
      statuses.every((s: ContainerStatus) => s.ready);
    const terminated = all.length > 0 && all.every((s) => s.state?.terminated);
    const phase = terminated
      ? (all.every((s) => s.state?.terminated?.exitCode === 0) ? "Succeeded" : "Failed")
      : initialized &&
          statuses.some((s: ContainerStatus) => s.state?.running || s.lastState?.terminated)
      ? "Running"
      : "Pending";
    const since = pod.metadata.creationTimestamp ?? rfc3339();
    const cond = (type: string, ok: boolean) => ({
      type,
      status: ok ? "True" : "False",
      lastTransitionTime: since,
    });
    return {
      phase,
      conditions: [
        cond("PodScheduled", true),
        cond("Initialized", initialized),
        cond("ContainersReady", ready),
        cond("Ready", ready),
      ],
      hostIP: "10.0.0.1",
      startTime: since,
      ...(inits.length ? { initContainerStatuses: inits } : {}),
      containerStatuses: statuses,
    };
  }

  #containerStatus(
    pod: Obj,
    name: string,
    image: string,
    steps: number,
    job: boolean,
  ): ContainerStatus {
    const knob = this.#knobs.get(image) ?? { behaviour: this.#opts.defaultBehaviour };
    const base = { name, image, imageID: "", ready: false, started: false, restartCount: 0 };
    const pulled = { ...base, imageID: this.imageId(image) };
    const containerID = `containerd://${
      createHash("sha256").update(pod.metadata.uid + name).digest("hex")
    }`;
    const creating = { ...base, state: { waiting: { reason: "ContainerCreating" } } };
    // Times come from the Pod, so a settled status compares equal step after step.
    const at = pod.metadata.creationTimestamp ?? rfc3339();
    const exited = (exitCode: number) => ({
      ...pulled,
      containerID,
      state: {
        terminated: {
          exitCode,
          reason: exitCode === 0 ? "Completed" : "Error",
          startedAt: at,
          finishedAt: at,
          containerID,
        },
      },
    });
    switch (knob.behaviour) {
      case "stall":
        return creating;
      case "pull-error":
        return steps === 0
          ? {
            ...base,
            state: {
              waiting: {
                reason: "ErrImagePull",
                message: `failed to pull and unpack image "${image}": not found`,
              },
            },
          }
          : {
            ...base,
            state: {
              waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${image}"` },
            },
          };
      case "job-fail":
        if (job) return steps === 0 ? creating : exited(1);
        // falls through: outside a Job, a failing container crash-loops
      case "crash-loop": {
        const restartCount = Math.min(steps + 1, this.#opts.maxRestarts);
        return {
          ...pulled,
          containerID,
          restartCount,
          state: {
            waiting: {
              reason: "CrashLoopBackOff",
              message:
                `back-off ${Math.min(10 * 2 ** (restartCount - 1), 300)}s restarting failed ` +
                `container=${name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
            },
          },
          lastState: { terminated: { exitCode: 1, reason: "Error", containerID } },
        };
      }
      case "succeed":
        if (steps === 0) return creating;
        if (job) return exited(0);
        return {
          ...pulled,
          containerID,
          ready: true,
          started: true,
          state: { running: { startedAt: at } },
        };
    }
  }

  #replicaSetStatus(rs: Obj): void {
    const pods = this.#owned(PODS, rs);
    const ready = pods.filter(isReady).length;
    const current = this.#store.get(REPLICASETS, rs.metadata.namespace, rs.metadata.name);
    if (!current) return;
    this.#writeStatus(
      REPLICASETS,
      current,
      omitZero({
        replicas: pods.length,
        fullyLabeledReplicas: pods.length,
        readyReplicas: ready,
        availableReplicas: ready,
        observedGeneration: (current.metadata as Obj).generation,
      }, ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"]),
    );
  }

  /** Objects of `type` whose controller is `parent`. */
  #owned(type: ApiResource, parent: Obj): Obj[] {
    return this.#store.list(type, parent.metadata.namespace).filter((o) =>
      (o.metadata as Obj).ownerReferences?.some((r: Obj) =>
        r.controller && r.uid === parent.metadata.uid
      )
    );
  }

  #create(type: ApiResource, obj: Obj): Obj {
    return this.#store.write(type, withSystemFields(type, undefined, obj, { seeding: true }));
  }

  #write(type: ApiResource, obj: Obj): Obj {
    const previous = this.#store.get(type, obj.metadata.namespace, obj.metadata.name);
    return this.#store.write(type, withSystemFields(type, previous, obj, { keepStatus: true }));
  }

  /** A write to `/status`: only status changes, and nothing is written when it did not. */
  #writeStatus(type: ApiResource, obj: Obj, status: Obj): void {
    const current = this.#store.get(type, obj.metadata.namespace, obj.metadata.name);
    if (!current) return;
    const clean = JSON.parse(JSON.stringify(status));
    if (deepEqual(current.status, clean)) return;
    this.#store.write(type, { ...current, status: clean });
  }
}

const REVISION = "deployment.kubernetes.io/revision";

function keyOf(type: ApiResource, obj: JsonObject): string {
  const meta = obj.metadata as Obj;
  return `${type.kind}/${meta.namespace}/${meta.name}`;
}

function owner(parent: Obj) {
  return {
    apiVersion: parent.apiVersion,
    kind: parent.kind,
    name: parent.metadata.name,
    uid: parent.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function isReady(pod: Obj): boolean {
  return pod.status?.conditions?.some((c: Obj) => c.type === "Ready" && c.status === "True") ??
    false;
}

function withLabels(template: Obj, labels: Record<string, string>): Obj {
  const t = structuredClone(template ?? {});
  t.metadata = { ...t.metadata, labels: { ...t.metadata?.labels, ...labels } };
  return t;
}

function statefulLabels(name: string, i: number, revision: string): Record<string, string> {
  return {
    "controller-revision-hash": revision,
    "statefulset.kubernetes.io/pod-name": `${name}-${i}`,
    "apps.kubernetes.io/pod-index": String(i),
  };
}

/**
 * The hash the controllers name revisions by: FNV-1a (32 bit) of the template, its decimal
 * digits mapped onto the safe alphabet, as `rand.SafeEncodeString` does.
 */
export function templateHash(template: unknown): string {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(JSON.stringify(template ?? {}))) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((d) => SAFE_ALPHABET[d.charCodeAt(0) % SAFE_ALPHABET.length]).join("");
}

/**
 * A condition, keeping the times of the previous one when nothing about it changed; `touched`
 * (progress, for `Progressing`) moves `lastUpdateTime` even then, as the Deployment controller
 * does.
 */
function condition(
  previous: Obj[] | undefined,
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  touched = false,
): DeploymentCondition {
  const status = ok ? "True" : "False";
  const old = previous?.find((c) => c.type === type);
  const same = old && old.status === status && old.reason === reason && old.message === message;
  if (same && !touched) return old;
  const now = rfc3339();
  return {
    type,
    status,
    lastUpdateTime: now,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
    reason,
    message,
  };
}

function jobCondition(type: string, reason: string, message: string, now: string) {
  return { type, status: "True", lastProbeTime: now, lastTransitionTime: now, reason, message };
}

/** Drop zero counts the API types mark `omitempty`, as the real server's JSON does. */
function omitZero(status: JsonObject, omitempty: string[]): JsonObject {
  const out = { ...status };
  for (const k of omitempty) if (out[k] === 0) delete out[k];
  return out;
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
function rfc3339(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
