/**
 * The rollout verdict, per kind and per failure sign.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DEFAULT_PROGRESS_DEADLINE_MS,
  type HealthKind,
  healthTimeout,
  judgeRollout,
  type ProgressDeadline,
  progressDeadline,
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

Deno.test("Deployment: counts, the controller's progress verdict and the health timeout", () => {
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
    ...["NewReplicaSetCreated", "FoundNewReplicaSet"].map((reason): [string, Obj, string] => [
      `${reason} is progress`,
      { ...halfway, conditions: [{ type: "Progressing", status: "True", reason }] },
      "progressing",
    ]),
    [
      "ReplicaSetUpdated is progress",
      {
        ...halfway,
        conditions: [{ type: "Progressing", status: "True", reason: "ReplicaSetUpdated" }],
      },
      "progressing",
    ],
    [
      "slow but progressing long past progressDeadlineSeconds: no clock of Argoos's own",
      {
        ...halfway,
        conditions: [{ type: "Progressing", status: "True", reason: "ReplicaSetUpdated" }],
      },
      "progressing",
      undefined,
      { now: T0 + 86_400_000, deadline: undefined },
    ],
    ["health timeout passed", halfway, "failed", "deadline", { now: T0 + 60_000 }],
    ["health timeout passed but complete", complete, "complete", undefined, { now: T0 + 60_000 }],
  ];
  for (const [name, status, state, reason, more] of cases) {
    const got = judgeRollout(
      view("Deployment", deploymentObj(status, { progressDeadlineSeconds: 30 }), [], more),
    );
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

Deno.test("StatefulSet: updated and ready against replicas, revisions, partition, timeout", () => {
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

Deno.test("DaemonSet: updated and available against desired, health timeout", () => {
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

Deno.test("StatefulSet, DaemonSet: failed once their counts stood still for the deadline", () => {
  const sts = (status: Obj): Obj => ({
    metadata: { name: "db", generation: 3 },
    spec: { replicas: 3, selector: {}, serviceName: "db", template: template() },
    status: {
      observedGeneration: 3,
      replicas: 3,
      currentRevision: "a",
      updateRevision: "b",
      ...status,
    },
  });
  const ds = (status: Obj): Obj => ({
    metadata: { name: "agent", generation: 5 },
    spec: { selector: {}, template: template() },
    status: { observedGeneration: 5, desiredNumberScheduled: 3, ...status },
  });
  const readyPod = (name: string): Pod => ({
    ...pod(name, NEW, [running("app")]),
    status: {
      containerStatuses: [running("app")],
      conditions: [{ type: "Ready", status: "True" }],
    },
  });
  const one = sts({ updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 });
  const two = sts({ updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
  const agent = ds({ updatedNumberScheduled: 1, numberReady: 2, numberAvailable: 2 });
  const markOf = (kind: HealthKind, obj: Obj, pods: Pod[] = []) =>
    judgeRollout(view(kind, obj, pods, { deadline: undefined })).progress!.mark;
  const ten = DEFAULT_PROGRESS_DEADLINE_MS;
  // name, kind, workload, pods, what the last look saw, now, state, reason, since kept
  const cases: [string, HealthKind, Obj, Pod[], Partial<RolloutView>, string, string?, number?][] =
    [
      [
        "moved since the last look: the clock restarts",
        "StatefulSet",
        two,
        [],
        { progress: { mark: markOf("StatefulSet", one), since: T0 }, now: T0 + ten + 5 },
        "progressing",
        undefined,
        T0 + ten + 5,
      ],
      [
        "stood still, not yet for the deadline",
        "StatefulSet",
        one,
        [],
        { progress: { mark: markOf("StatefulSet", one), since: T0 + 1 }, now: T0 + ten },
        "progressing",
        undefined,
        T0 + 1,
      ],
      [
        "stood still for the deadline",
        "StatefulSet",
        one,
        [],
        { progress: { mark: markOf("StatefulSet", one), since: T0 }, now: T0 + ten },
        "failed",
        "progress-deadline",
      ],
      [
        "the annotation's deadline",
        "StatefulSet",
        one,
        [],
        {
          progress: { mark: markOf("StatefulSet", one), since: T0 },
          now: T0 + 30_000,
          progressDeadlineMs: 30_000,
        },
        "failed",
        "progress-deadline",
      ],
      [
        "another new pod ready, same counts: a move",
        "StatefulSet",
        one,
        [readyPod("db-2")],
        {
          progress: { mark: markOf("StatefulSet", one, [readyPod("db-1")]), since: T0 },
          now: T0 + ten,
        },
        "progressing",
        undefined,
        T0 + ten,
      ],
      [
        "an old pod ready is no move",
        "StatefulSet",
        one,
        [{ ...readyPod("db-0"), spec: { containers: [{ name: "app", image: OLD }] } }],
        { progress: { mark: markOf("StatefulSet", one), since: T0 }, now: T0 + ten },
        "failed",
        "progress-deadline",
      ],
      [
        "first look: counts stand since the given time",
        "StatefulSet",
        one,
        [],
        { progress: { since: T0 + 60_000 }, now: T0 + ten },
        "progressing",
        undefined,
        T0 + 60_000,
      ],
      [
        "first look after the deadline",
        "StatefulSet",
        one,
        [],
        { progress: { since: T0 }, now: T0 + ten },
        "failed",
        "progress-deadline",
      ],
      [
        "nothing remembered: since the rollout started",
        "StatefulSet",
        one,
        [],
        { now: T0 + ten },
        "failed",
        "progress-deadline",
      ],
      [
        "moving, but the health timeout ran out",
        "StatefulSet",
        two,
        [],
        {
          progress: { mark: markOf("StatefulSet", one), since: T0 },
          now: T0 + 60_000,
          deadline: T0 + 60_000,
        },
        "failed",
        "deadline",
      ],
      [
        "DaemonSet moved",
        "DaemonSet",
        ds({ updatedNumberScheduled: 2, numberReady: 2, numberAvailable: 2 }),
        [],
        { progress: { mark: markOf("DaemonSet", agent), since: T0 }, now: T0 + ten },
        "progressing",
        undefined,
        T0 + ten,
      ],
      [
        "DaemonSet stood still",
        "DaemonSet",
        agent,
        [],
        { progress: { mark: markOf("DaemonSet", agent), since: T0 }, now: T0 + ten },
        "failed",
        "progress-deadline",
      ],
    ];
  for (const [name, kind, obj, pods, more, state, reason, since] of cases) {
    const got = judgeRollout(view(kind, obj, pods, { deadline: undefined, ...more }));
    assert.equal(got.state, state, name);
    assert.equal(got.reason, reason, name);
    assert.equal(got.progress?.since, since, name);
    if (since !== undefined) assert.equal(got.progress?.mark, markOf(kind, obj, pods), name);
  }
});

Deno.test("CronJob: never judged while suspended; the health timeout is a total budget", () => {
  const cj = (suspend: boolean): Obj => ({
    metadata: { name: "nightly", generation: 2 },
    spec: { suspend, schedule: "0 3 * * *", jobTemplate: { spec: { template: template() } } },
  });
  const failedJob: Job = {
    metadata: { name: "n1", uid: "u1", creationTimestamp: "2026-12-02T10:00:05Z" },
    spec: { template: template() },
    status: { conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }] },
  };
  const cases: [string, Obj, Partial<RolloutView>, string, string?][] = [
    ["suspended, a failed Job", cj(true), { jobs: [failedJob] }, "progressing"],
    ["suspended past the health timeout", cj(true), { now: T0 + 60_000 }, "progressing"],
    ["no Job yet, health timeout passed", cj(false), { now: T0 + 60_000 }, "failed", "deadline"],
    [
      "no Job yet, no health timeout",
      cj(false),
      { deadline: undefined, now: T0 + 1e9 },
      "progressing",
    ],
  ];
  for (const [name, obj, more, state, reason] of cases) {
    const got = judgeRollout(view("CronJob", obj, [], more));
    assert.equal(got.state, state, name);
    assert.equal(got.reason, reason, name);
  }
});

Deno.test("healthTimeout: the annotation only, for every kind", () => {
  const cases: [string, Record<string, string>, number | undefined, boolean][] = [
    ["set", { "argoos.io/health-timeout": "90s" }, 90_000, false],
    ["absent: none", {}, undefined, false],
    ["garbage: none, reported", { "argoos.io/health-timeout": "soon" }, undefined, true],
    ["zero: none, reported", { "argoos.io/health-timeout": "0" }, undefined, true],
  ];
  for (const [name, annotations, ms, invalid] of cases) {
    const got = healthTimeout(annotations);
    assert.equal(got.ms, ms, name);
    assert.equal(got.invalid !== undefined, invalid, name);
  }
});

Deno.test("progressDeadline: annotation, spec or default, by kind", () => {
  const annotated = (text: string) => ({ "argoos.io/progress-deadline": text });
  const cases: [string, HealthKind, Record<string, string>, number?, ProgressDeadline?][] = [
    ["Deployment spec", "Deployment", {}, 30, { ms: 30_000, source: "spec" }],
    ["Deployment default", "Deployment", {}, undefined, {
      ms: DEFAULT_PROGRESS_DEADLINE_MS,
      source: "default",
    }],
    ["Deployment ignores the annotation, reported", "Deployment", annotated("1h"), 30, {
      ms: 30_000,
      source: "spec",
      invalid: "argoos.io/progress-deadline: not used on a Deployment, whose controller " +
        "applies spec.progressDeadlineSeconds",
    }],
    ["StatefulSet annotation", "StatefulSet", annotated("15m"), 30, {
      ms: 900_000,
      source: "annotation",
    }],
    ["StatefulSet ignores progressDeadlineSeconds", "StatefulSet", {}, 30, {
      ms: DEFAULT_PROGRESS_DEADLINE_MS,
      source: "default",
    }],
    ["DaemonSet garbage: default, reported", "DaemonSet", annotated("soon"), undefined, {
      ms: DEFAULT_PROGRESS_DEADLINE_MS,
      source: "default",
      invalid:
        'argoos.io/progress-deadline: "soon" is not a duration (examples: 30s, 5m, 1h30m, 0)',
    }],
    ["DaemonSet zero: default, reported", "DaemonSet", annotated("0"), undefined, {
      ms: DEFAULT_PROGRESS_DEADLINE_MS,
      source: "default",
      invalid: "argoos.io/progress-deadline: must be more than 0",
    }],
    ["CronJob has none", "CronJob", annotated("5m"), undefined, undefined],
  ];
  for (const [name, kind, annotations, progressDeadlineSeconds, want] of cases) {
    assert.deepEqual(progressDeadline(kind, { annotations, progressDeadlineSeconds }), want, name);
  }
});
