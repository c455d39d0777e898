/**
 * The rollout verdict, per kind and per failure sign.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DEFAULT_HEALTH_TIMEOUT_MS,
  type HealthKind,
  healthTimeout,
  judgeRollout,
  type RolloutView,
} from "../../lib/health/judge.ts";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1.d.ts";
import type { Job } from "kubernetes-types/batch/v1.d.ts";

const NEW = "myapp:1.2.4";
const OLD = "myapp:1.2.3";
const T0 = Date.parse("2026-12-02T10:00:00Z");

const template = (image = NEW) => ({
  metadata: { labels: { app: "web" } },
  spec: { containers: [{ name: "app", image }, { name: "sidecar", image: "proxy:1" }] },
});

// deno-lint-ignore no-explicit-any
type Obj = any;

function deploymentObj(status: Obj, spec: Obj = {}, generation = 2): Obj {
  return {
    metadata: { name: "web", generation },
    spec: { replicas: 3, selector: {}, template: template(), ...spec },
    status,
  };
}

const running = (name: string, restartCount = 0): ContainerStatus => ({
  name,
  image: NEW,
  imageID: "docker.io/library/myapp@sha256:" + "a".repeat(64),
  ready: true,
  restartCount,
  state: { running: { startedAt: "2026-12-02T10:00:01Z" } },
});

const waiting = (name: string, reason: string, restartCount = 0): ContainerStatus => ({
  name,
  image: NEW,
  imageID: "",
  ready: false,
  restartCount,
  state: { waiting: { reason, message: `${reason} message` } },
});

function pod(name: string, image: string, statuses: ContainerStatus[], extra: Obj = {}): Pod {
  return {
    metadata: { name, ...extra },
    spec: { containers: [{ name: "app", image }, { name: "sidecar", image: "proxy:1" }] },
    status: { containerStatuses: statuses },
  };
}

function view(kind: HealthKind, workload: Obj, pods: Pod[] = [], more: Partial<RolloutView> = {}) {
  return {
    kind,
    workload,
    pods,
    containers: ["app"],
    startedAt: T0,
    now: T0 + 1000,
    deadline: T0 + 60_000,
    ...more,
  };
}

const complete = {
  observedGeneration: 2,
  replicas: 3,
  updatedReplicas: 3,
  readyReplicas: 3,
  availableReplicas: 3,
};
const halfway = { observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 };

Deno.test("Deployment: counts, the controller's progress verdict and the deadline", () => {
  const cases: [string, Obj, string, string?, Partial<RolloutView>?][] = [
    ["all counts equal spec.replicas", complete, "complete"],
    [
      "controller has not seen the new generation",
      { ...complete, observedGeneration: 1 },
      "progressing",
    ],
    ["old pods still counted in replicas", { ...complete, replicas: 4 }, "progressing"],
    ["not all available", { ...complete, availableReplicas: 2 }, "progressing"],
    ["not all updated", halfway, "progressing"],
    ["no status yet", undefined, "progressing"],
    [
      "ProgressDeadlineExceeded",
      {
        ...halfway,
        conditions: [{
          type: "Progressing",
          status: "False",
          reason: "ProgressDeadlineExceeded",
          message: 'ReplicaSet "web-5d4f" has timed out progressing.',
        }],
      },
      "failed",
      "progress-deadline",
    ],
    [
      "ProgressDeadlineExceeded of the previous generation does not count",
      {
        ...halfway,
        observedGeneration: 1,
        conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
      },
      "progressing",
    ],
    [
      "ReplicaSetUpdated is progress",
      {
        ...halfway,
        conditions: [{ type: "Progressing", status: "True", reason: "ReplicaSetUpdated" }],
      },
      "progressing",
    ],
    ["deadline passed", halfway, "failed", "deadline", { now: T0 + 60_000 }],
    ["deadline passed but complete", complete, "complete", undefined, { now: T0 + 60_000 }],
  ];
  for (const [name, status, state, reason, more] of cases) {
    const got = judgeRollout(view("Deployment", deploymentObj(status), [], more));
    assert.equal(got.state, state, name);
    assert.equal(got.reason, reason, name);
    assert.ok(got.detail.length > 0, name);
  }
});

Deno.test("Deployment: replicas default to 1", () => {
  const status = { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 };
  const d = deploymentObj(status, { replicas: undefined });
  assert.equal(judgeRollout(view("Deployment", d)).state, "complete");
});

Deno.test("early signs on new pods fail the rollout; old pods and other containers do not", () => {
  const d = deploymentObj(halfway);
  const cases: [string, Pod[], string, string?][] = [
    ["healthy new pod", [pod("n", NEW, [running("app")])], "progressing"],
    [
      "CrashLoopBackOff",
      [pod("n", NEW, [waiting("app", "CrashLoopBackOff", 2)])],
      "failed",
      "crash-loop",
    ],
    [
      "ImagePullBackOff",
      [pod("n", NEW, [waiting("app", "ImagePullBackOff")])],
      "failed",
      "pull-error",
    ],
    ["ErrImagePull", [pod("n", NEW, [waiting("app", "ErrImagePull")])], "failed", "pull-error"],
    [
      "ContainerCreating is not a sign",
      [pod("n", NEW, [waiting("app", "ContainerCreating")])],
      "progressing",
    ],
    ["restarts at the threshold", [pod("n", NEW, [running("app", 3)])], "progressing"],
    ["restarts over the threshold", [pod("n", NEW, [running("app", 4)])], "failed", "crash-loop"],
    [
      "old pod crash-looping",
      [pod("o", OLD, [waiting("app", "CrashLoopBackOff", 9)])],
      "progressing",
    ],
    [
      "unchanged sidecar crash-looping in a new pod",
      [pod("n", NEW, [running("app"), waiting("sidecar", "CrashLoopBackOff", 9)])],
      "progressing",
    ],
    [
      "terminating new pod",
      [pod("n", NEW, [waiting("app", "CrashLoopBackOff")], {
        deletionTimestamp: "2026-12-02T10:00:02Z",
      })],
      "progressing",
    ],
  ];
  for (const [name, pods, state, reason] of cases) {
    const got = judgeRollout(view("Deployment", d, pods));
    assert.equal(got.state, state, name);
    assert.equal(got.reason, reason, name);
  }
  const crash = judgeRollout(
    view("Deployment", d, [pod("n", NEW, [waiting("app", "CrashLoopBackOff", 2)])]),
  );
  assert.match(crash.detail, /pod n container app: CrashLoopBackOff, 2 restarts/);
});

Deno.test("the restart threshold is a parameter", () => {
  const d = deploymentObj(halfway);
  const pods = [pod("n", NEW, [running("app", 1)])];
  assert.equal(
    judgeRollout(view("Deployment", d, pods, { restartThreshold: 0 })).reason,
    "crash-loop",
  );
  assert.equal(
    judgeRollout(view("Deployment", d, pods, { restartThreshold: 1 })).state,
    "progressing",
  );
});

Deno.test("early signs on init containers count", () => {
  const d = deploymentObj(halfway);
  d.spec.template.spec.initContainers = [{ name: "migrate", image: "myapp:2" }];
  const p: Pod = {
    metadata: { name: "n" },
    spec: { initContainers: [{ name: "migrate", image: "myapp:2" }], containers: [] },
    status: { initContainerStatuses: [waiting("migrate", "CrashLoopBackOff", 1)] },
  };
  const got = judgeRollout(view("Deployment", d, [p], { containers: ["migrate"] }));
  assert.equal(got.reason, "crash-loop");
});

Deno.test("StatefulSet: updated and ready against replicas, revisions, partition, deadline", () => {
  const sts = (status: Obj, spec: Obj = {}): Obj => ({
    metadata: { name: "db", generation: 3 },
    spec: { replicas: 2, selector: {}, serviceName: "db", template: template(), ...spec },
    status,
  });
  const done = {
    observedGeneration: 3,
    replicas: 2,
    updatedReplicas: 2,
    readyReplicas: 2,
    currentRevision: "db-7c9",
    updateRevision: "db-7c9",
  };
  const cases: [string, Obj, string, string?, Partial<RolloutView>?][] = [
    ["all updated and ready, revisions equal", sts(done), "complete"],
    ["revisions still differ", sts({ ...done, currentRevision: "db-5b1" }), "progressing"],
    ["one not ready", sts({ ...done, readyReplicas: 1 }), "progressing"],
    ["one not updated", sts({ ...done, updatedReplicas: 1 }), "progressing"],
    ["not observed", sts({ ...done, observedGeneration: 2 }), "progressing"],
    [
      "partition reached",
      sts({ ...done, updatedReplicas: 1, currentRevision: "db-5b1" }, {
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } },
      }),
      "complete",
    ],
    [
      "OnDelete has nothing to wait for",
      sts({ observedGeneration: 3 }, { updateStrategy: { type: "OnDelete" } }),
      "complete",
    ],
    ["deadline", sts({ ...done, readyReplicas: 1 }), "failed", "deadline", { now: T0 + 60_000 }],
  ];
  for (const [name, obj, state, reason, more] of cases) {
    const got = judgeRollout(view("StatefulSet", obj, [], more));
    assert.equal(got.state, state, name);
    assert.equal(got.reason, reason, name);
  }
});

Deno.test("DaemonSet: updated and available against desired, deadline", () => {
  const ds = (status: Obj, spec: Obj = {}): Obj => ({
    metadata: { name: "agent", generation: 5 },
    spec: { selector: {}, template: template(), ...spec },
    status,
  });
  const done = {
    observedGeneration: 5,
    desiredNumberScheduled: 3,
    currentNumberScheduled: 3,
    updatedNumberScheduled: 3,
    numberReady: 3,
    numberAvailable: 3,
    numberMisscheduled: 0,
  };
  const cases: [string, Obj, string, string?, Partial<RolloutView>?][] = [
    ["all nodes updated and available", ds(done), "complete"],
    ["one node not updated", ds({ ...done, updatedNumberScheduled: 2 }), "progressing"],
    ["one node not available", ds({ ...done, numberAvailable: 2 }), "progressing"],
    ["not observed", ds({ ...done, observedGeneration: 4 }), "progressing"],
    [
      "OnDelete",
      ds({ observedGeneration: 5 }, { updateStrategy: { type: "OnDelete" } }),
      "complete",
    ],
    ["deadline", ds({ ...done, numberAvailable: 2 }), "failed", "deadline", { now: T0 + 60_000 }],
    [
      "crash-looping new pod",
      ds({ ...done, numberAvailable: 2 }),
      "failed",
      "crash-loop",
      { pods: [pod("agent-x", NEW, [waiting("app", "CrashLoopBackOff", 1)])] },
    ],
  ];
  for (const [name, obj, state, reason, more] of cases) {
    const got = judgeRollout(view("DaemonSet", obj, [], more));
    assert.equal(got.state, state, name);
    assert.equal(got.reason, reason, name);
  }
});

Deno.test("CronJob: judged by the next Job running the new images, no deadline", () => {
  const cj: Obj = {
    metadata: { name: "nightly", generation: 2 },
    spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: template() } } },
  };
  const job = (name: string, createdAt: number, image: string, conditions: Obj[] = []): Job => ({
    metadata: {
      name,
      uid: `uid-${name}`,
      creationTimestamp: new Date(createdAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
    },
    spec: { template: template(image) },
    status: { conditions },
  });
  const failed = [{ type: "FailureTarget", status: "True", reason: "BackoffLimitExceeded" }, {
    type: "Failed",
    status: "True",
    reason: "BackoffLimitExceeded",
    message: "Job has reached the specified backoff limit",
  }];
  const completed = [{ type: "SuccessCriteriaMet", status: "True" }, {
    type: "Complete",
    status: "True",
  }];
  const jobPod = (job: string, status: ContainerStatus): Pod => ({
    ...pod(`${job}-p`, NEW, [status]),
    metadata: {
      name: `${job}-p`,
      ownerReferences: [{
        apiVersion: "batch/v1",
        kind: "Job",
        name: job,
        uid: `uid-${job}`,
        controller: true,
      }],
    },
  });
  const cases: [string, Job[], Pod[], string, string?][] = [
    ["no Job yet", [], [], "progressing"],
    [
      "only a Job from before the rollout",
      [job("old", T0 - 60_000, OLD, failed)],
      [],
      "progressing",
    ],
    ["next Job completed", [job("n1", T0 + 500, NEW, completed)], [], "complete"],
    ["next Job failed", [job("n1", T0 + 500, NEW, failed)], [], "failed", "failed-job"],
    [
      "next Job created in the same second",
      [job("n1", T0 + 200, NEW, failed)],
      [],
      "failed",
      "failed-job",
    ],
    [
      "the first Job decides, not a later one",
      [job("n2", T0 + 9000, NEW, failed), job("n1", T0 + 500, NEW, completed)],
      [],
      "complete",
    ],
    ["next Job running", [job("n1", T0 + 500, NEW)], [jobPod("n1", running("app"))], "progressing"],
    [
      "next Job's pod cannot pull",
      [job("n1", T0 + 500, NEW)],
      [jobPod("n1", waiting("app", "ImagePullBackOff"))],
      "failed",
      "pull-error",
    ],
  ];
  for (const [name, jobs, pods, state, reason] of cases) {
    const got = judgeRollout(
      view("CronJob", cj, pods, { jobs, now: T0 + 10 * 86_400_000, deadline: undefined }),
    );
    assert.equal(got.state, state, name);
    assert.equal(got.reason, reason, name);
  }
});

Deno.test("healthTimeout: annotation, then progressDeadlineSeconds, then ten minutes", () => {
  const obj = (annotation?: string, progressDeadlineSeconds?: number): Obj => ({
    metadata: annotation === undefined
      ? {}
      : { annotations: { "argoos.io/health-timeout": annotation } },
    spec: { progressDeadlineSeconds },
  });
  const cases: [string, HealthKind, Obj, number | undefined, boolean][] = [
    ["annotation wins", "Deployment", obj("90s", 30), 90_000, false],
    ["progressDeadlineSeconds", "Deployment", obj(undefined, 30), 30_000, false],
    ["default", "Deployment", obj(), DEFAULT_HEALTH_TIMEOUT_MS, false],
    [
      "StatefulSet ignores progressDeadlineSeconds",
      "StatefulSet",
      obj(undefined, 30),
      DEFAULT_HEALTH_TIMEOUT_MS,
      false,
    ],
    ["DaemonSet annotation", "DaemonSet", obj("1h"), 3_600_000, false],
    ["garbage annotation falls back, reported", "Deployment", obj("soon", 30), 30_000, true],
    ["zero falls back, reported", "Deployment", obj("0"), DEFAULT_HEALTH_TIMEOUT_MS, true],
    ["CronJob has none", "CronJob", obj("5m"), undefined, false],
  ];
  for (const [name, kind, o, ms, invalid] of cases) {
    const got = healthTimeout(kind, o);
    assert.equal(got.ms, ms, name);
    assert.equal(got.invalid !== undefined, invalid, name);
  }
});
