/**
 * The rollout tracker against an in-memory source and a guarded writer that behaves like the
 * single write path (every `test` checked, all or nothing).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { Job } from "kubernetes-types/batch/v1.d.ts";
import type { WorkloadEvent } from "../../lib/events/recorder.ts";
import { ArgoosMetrics } from "../../lib/metrics/argoos_metrics.ts";
import {
  decodeRejected,
  encodeRollout,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
  type RolloutRecord,
} from "../../lib/health/record.ts";
import {
  type GuardedWriter,
  type HealthSource,
  RolloutTracker,
  type TrackerOptions,
  type WorkloadRef,
} from "../../lib/health/tracker.ts";
import type { GuardedWrite, WriteResult } from "../../lib/rollout/rollout.ts";
import type { HealthKind } from "../../lib/health/judge.ts";
import type { KubeObject, Workload } from "../../lib/workloads/workload.ts";
import { deployment } from "../support/workload_object.ts";
import { capture } from "../support/capture_log.ts";

const T0 = Date.parse("2026-12-02T10:00:00Z");
const DIGEST = "sha256:" + "c".repeat(64);
const OLD = "myapp:1.2.3";
const NEW = "myapp:1.2.4";

// deno-lint-ignore no-explicit-any
type Obj = any;

/** One workload, its pods and Jobs, and the write path's guard, in memory. */
class FakeCluster implements HealthSource, GuardedWriter {
  obj: Obj;
  pods_: Pod[] = [];
  jobs_: Job[] = [];
  writes: GuardedWrite[] = [];
  /** Runs after a read and before the write lands (a human or another replica acting). */
  beforeWrite?: () => void;

  constructor(obj: Obj) {
    this.obj = obj;
  }

  workload(_ref: WorkloadRef): Promise<KubeObject | undefined> {
    return Promise.resolve(this.obj && structuredClone(this.obj));
  }
  pods(): Promise<Pod[]> {
    return Promise.resolve(structuredClone(this.pods_));
  }
  jobs(): Promise<Job[]> {
    return Promise.resolve(structuredClone(this.jobs_));
  }

  write(w: Workload, write: GuardedWrite): Promise<WriteResult> {
    this.beforeWrite?.();
    this.beforeWrite = undefined;
    const meta = this.obj.metadata;
    const annotations: Record<string, string> = meta.annotations ?? {};
    const spec = podSpec(this.obj);
    const guards = [
      (meta.labels?.["argoos.io/policy"] ?? null) === w.policyLabel,
      ...Object.entries(write.expect ?? {}).map(([k, v]) => (annotations[k] ?? null) === v),
      ...write.changes.map(({ container: c }) =>
        spec[c.section]?.[c.index]?.name === c.name && spec[c.section][c.index].image === c.image
      ),
    ];
    if (guards.includes(false)) return Promise.resolve("guard-failed");
    this.writes.push(structuredClone(write));
    for (const { container: c, to } of write.changes) spec[c.section][c.index].image = to;
    for (const [k, v] of Object.entries(write.annotations)) {
      if (v === null) delete annotations[k];
      else annotations[k] = v;
    }
    meta.annotations = annotations;
    return Promise.resolve("applied");
  }

  image(name = "app"): string {
    return podSpec(this.obj).containers.find((c: Obj) => c.name === name).image;
  }
  annotation(key: string): string | undefined {
    return this.obj.metadata.annotations?.[key];
  }
}

function podSpec(obj: Obj): Obj {
  return obj.kind === "CronJob" ? obj.spec.jobTemplate.spec.template.spec : obj.spec.template.spec;
}

const record = (more: Partial<RolloutRecord> = {}): RolloutRecord => ({
  containers: [{ section: "containers", index: 0, name: "app", from: OLD, to: NEW }],
  push: { repository: "docker.io/library/myapp", tag: "1.2.4", digest: DIGEST, pushedAt: T0 },
  startedAt: T0,
  deadline: T0 + 60_000,
  ...more,
});

/** A workload of `kind` that Argoos just moved to NEW, with `status`. */
function rolledOut(kind: HealthKind, status: Obj = {}, annotations: Record<string, string> = {}) {
  const obj: Obj = deployment({
    kind,
    name: "web",
    policy: "patch",
    containers: [{ name: "app", image: NEW }, { name: "sidecar", image: "proxy:1" }],
    annotations: { [ROLLOUT_ANNOTATION]: encodeRollout(record()), ...annotations },
  });
  obj.metadata.generation = 2;
  obj.status = status;
  return obj;
}

const deploymentStatus = (updated: number, available: number, replicas = available) => ({
  observedGeneration: 2,
  replicas,
  updatedReplicas: updated,
  readyReplicas: available,
  availableReplicas: available,
});

function crashPod(restartCount = 2): Pod {
  return {
    metadata: { name: "web-5d4f-x1" },
    spec: { containers: [{ name: "app", image: NEW }] },
    status: {
      containerStatuses: [{
        name: "app",
        image: NEW,
        imageID: `docker.io/library/myapp@${DIGEST}`,
        ready: false,
        restartCount,
        state: { waiting: { reason: "CrashLoopBackOff" } },
      }],
    },
  };
}

function tracker(cluster: FakeCluster, opts: Partial<TrackerOptions> = {}, now = T0 + 1000) {
  const events: WorkloadEvent[] = [];
  const metrics = new ArgoosMetrics();
  const log = capture();
  const t = new RolloutTracker(cluster, cluster, {
    revert: true,
    dryRun: false,
    events: { record: (e) => events.push(e) },
    metrics,
    logger: log.logger,
    now: () => now,
    random: () => 0, // no spread: looks fall due exactly
    ...opts,
  });
  return { t, events, metrics, log };
}

const REF = (kind: HealthKind = "Deployment"): WorkloadRef => ({
  kind,
  namespace: "default",
  name: "web",
});
const reasons = (events: WorkloadEvent[]) => events.map((e) => e.reason);

Deno.test("a rollout that completes: record removed, RolloutSucceeded once, counted", async () => {
  const cluster = new FakeCluster(rolledOut("Deployment", deploymentStatus(1, 1)));
  const { t, events, metrics, log } = tracker(cluster);
  const got = await t.check(REF());
  assert.equal(got.kind, "succeeded");
  assert.equal(cluster.annotation(ROLLOUT_ANNOTATION), undefined);
  assert.equal(cluster.image(), NEW);
  assert.deepEqual(reasons(events), ["RolloutSucceeded"]);
  assert.match(events[0].message, /app: myapp:1\.2\.3 → myapp:1\.2\.4/);
  assert.equal(metrics.rolloutsCompleted.value({ outcome: "succeeded" }), 1);
  assert.ok(
    metrics.registry.render().includes('argoos_rollouts_completed_total{outcome="succeeded"} 1'),
  );
  assert.ok(
    log.records().some((r) =>
      r.msg === "rollout succeeded" && r.workload === "Deployment/default/web"
    ),
  );
  assert.equal((await t.check(REF())).kind, "none", "nothing left to follow");
});

Deno.test("a rollout still progressing: no write, look again before the deadline", async () => {
  const cluster = new FakeCluster(rolledOut("Deployment", deploymentStatus(0, 1, 2)));
  const near = tracker(cluster, { recheckMs: 10_000 }, T0 + 55_000);
  const got = await near.t.check(REF());
  assert.deepEqual(got.kind === "progressing" && got.recheckAt, T0 + 60_000);
  const early = await tracker(cluster, { recheckMs: 10_000 }, T0 + 1000).t.check(REF());
  assert.deepEqual(early.kind === "progressing" && early.recheckAt, T0 + 11_000);
  assert.equal(cluster.writes.length, 0);
  // The safety net is spread by up to a tenth, so looks at rollouts started together part.
  const spread = tracker(cluster, { recheckMs: 10_000, random: () => 0.999 }, T0 + 1000);
  const sooner = await spread.t.check(REF());
  assert.deepEqual(sooner.kind === "progressing" && sooner.recheckAt, T0 + 1000 + 9_001);
});

Deno.test("a crash-looping rollout is reverted, its digest rejected, reported and counted", async () => {
  const cluster = new FakeCluster(rolledOut("Deployment", deploymentStatus(1, 1, 2)));
  cluster.pods_ = [crashPod()];
  const { t, events, metrics } = tracker(cluster);
  const got = await t.check(REF());
  assert.equal(got.kind, "failed");
  assert.equal(got.kind === "failed" && got.reason, "crash-loop");
  assert.equal(got.kind === "failed" && got.action, "reverted");
  assert.equal(cluster.image(), OLD);
  assert.equal(cluster.image("sidecar"), "proxy:1");
  assert.equal(cluster.annotation(ROLLOUT_ANNOTATION), undefined);
  const rejected = decodeRejected(cluster.annotation(REJECTED_ANNOTATION)).value;
  assert.deepEqual(rejected.map((r) => [r.repository, r.digest, r.tag, r.reason]), [
    ["docker.io/library/myapp", DIGEST, "1.2.4", "crash-loop"],
  ]);
  assert.deepEqual(reasons(events), ["RolloutFailed", "Reverted"]);
  assert.match(events[0].message, /crash-loop: pod web-5d4f-x1 container app: CrashLoopBackOff/);
  assert.equal(events[1].message, "app: myapp:1.2.4 → myapp:1.2.3");
  assert.equal(metrics.rolloutsCompleted.value({ outcome: "failed" }), 1);
  assert.equal(metrics.reverts.value(), 1);
  // One patch: images back, record removed and rejection recorded together, guarded by the record.
  assert.equal(cluster.writes.length, 1);
  assert.deepEqual(Object.keys(cluster.writes[0].expect ?? {}), [ROLLOUT_ANNOTATION]);
});

Deno.test("a revert puts back the annotations the rollout recorded; a report does not", async () => {
  const state = { "argoos.io/state": '{"app":{"image":"myapp:1.2.3"}}' };
  for (const revert of [true, false]) {
    const obj = rolledOut("Deployment", deploymentStatus(1, 1, 2), {
      [ROLLOUT_ANNOTATION]: encodeRollout(record({ restore: state })),
      "argoos.io/state": '{"app":{"image":"myapp:1.2.4"}}',
    });
    const cluster = new FakeCluster(obj);
    cluster.pods_ = [crashPod()];
    await tracker(cluster, { revert }).t.check(REF());
    assert.equal(
      cluster.annotation("argoos.io/state"),
      revert ? state["argoos.io/state"] : '{"app":{"image":"myapp:1.2.4"}}',
      `revert ${revert}`,
    );
  }
});

Deno.test("a revert restores the state of the containers it changed only; another's recorded since stays", async () => {
  // Since the rollout, a person set sidecar (recorded); app's state is what Argoos wrote.
  const now = '{"app":{"image":"myapp:1.2.4","written":true},"sidecar":{"image":"proxy:1"}}';
  /** The state after a failed rollout that recorded `then` (app's before it) to restore. */
  const reverted = async (then: string | null) => {
    const cluster = new FakeCluster(rolledOut("Deployment", deploymentStatus(1, 1, 2), {
      [ROLLOUT_ANNOTATION]: encodeRollout(record({ restore: { "argoos.io/state": then } })),
      "argoos.io/state": now,
    }));
    cluster.pods_ = [crashPod()];
    assert.equal((await tracker(cluster).t.check(REF())).kind, "failed");
    assert.equal(cluster.image(), OLD);
    return cluster.annotation("argoos.io/state");
  };
  assert.equal(
    await reverted('{"app":{"image":"myapp:1.2.3"}}'),
    '{"app":{"image":"myapp:1.2.3"},"sidecar":{"image":"proxy:1"}}',
  );
  // A container the rollout changed that had no state before loses its entry.
  assert.equal(await reverted(null), '{"sidecar":{"image":"proxy:1"}}');
});

Deno.test("each kind and each failure signal ends in a revert", async () => {
  const pullPod: Pod = {
    metadata: { name: "web-0" },
    spec: { containers: [{ name: "app", image: NEW }] },
    status: {
      containerStatuses: [{
        name: "app",
        image: NEW,
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { waiting: { reason: "ErrImagePull" } },
      }],
    },
  };
  const failedJob: Job = {
    metadata: { name: "web-29000000", uid: "j1", creationTimestamp: "2026-12-02T10:00:05Z" },
    spec: { template: { spec: { containers: [{ name: "app", image: NEW }] } } },
    status: { conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }] },
  };
  const cases: [string, HealthKind, Obj, Pod[], Job[], number, string][] = [
    [
      "Deployment ProgressDeadlineExceeded",
      "Deployment",
      {
        ...deploymentStatus(1, 1, 2),
        conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
      },
      [],
      [],
      T0 + 1000,
      "progress-deadline",
    ],
    [
      "Deployment deadline",
      "Deployment",
      deploymentStatus(1, 1, 2),
      [],
      [],
      T0 + 60_000,
      "deadline",
    ],
    [
      "StatefulSet pull error",
      "StatefulSet",
      { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 0 },
      [pullPod],
      [],
      T0 + 1000,
      "pull-error",
    ],
    [
      "DaemonSet deadline",
      "DaemonSet",
      {
        observedGeneration: 2,
        desiredNumberScheduled: 2,
        updatedNumberScheduled: 1,
        numberAvailable: 1,
      },
      [],
      [],
      T0 + 60_000,
      "deadline",
    ],
    ["CronJob failed Job", "CronJob", {}, [], [failedJob], T0 + 1000, "failed-job"],
  ];
  for (const [name, kind, status, pods, jobs, now, reason] of cases) {
    const cluster = new FakeCluster(rolledOut(kind, status));
    cluster.pods_ = pods;
    cluster.jobs_ = jobs;
    const got = await tracker(cluster, {}, now).t.check(REF(kind));
    assert.equal(got.kind === "failed" && got.reason, reason, name);
    assert.equal(got.kind === "failed" && got.action, "reverted", name);
    assert.equal(cluster.image(), OLD, name);
  }
});

Deno.test("a human edit since the rollout blocks the revert: reported, nothing touched", async () => {
  const obj = rolledOut("Deployment", deploymentStatus(1, 1, 2));
  obj.spec.template.spec.containers[0].image = "myapp:1.2.9-hotfix";
  const cluster = new FakeCluster(obj);
  cluster.pods_ = [crashPod()];
  const { t, events, metrics, log } = tracker(cluster);
  const got = await t.check(REF());
  assert.equal(got.kind, "changed-since");
  assert.match(got.kind === "changed-since" ? got.detail : "", /runs myapp:1\.2\.9-hotfix/);
  assert.ok(log.records().some((r) => String(r.msg).startsWith("rollout no longer followed")));
  assert.equal(cluster.image(), "myapp:1.2.9-hotfix");
  assert.equal(cluster.annotation(ROLLOUT_ANNOTATION), undefined, "no longer followed");
  assert.deepEqual(cluster.writes.map((w) => w.changes.length), [0]);
  assert.deepEqual(events, []);
  assert.equal(metrics.reverts.value(), 0);
});

Deno.test("a human edit racing the revert makes its guard fail: nothing changed", async () => {
  const cluster = new FakeCluster(rolledOut("Deployment", deploymentStatus(1, 1, 2)));
  cluster.pods_ = [crashPod()];
  cluster.beforeWrite = () => cluster.obj.spec.template.spec.containers[0].image = "myapp:9";
  const { t, events, metrics } = tracker(cluster);
  assert.equal((await t.check(REF())).kind, "lost-race");
  assert.equal(cluster.image(), "myapp:9");
  assert.ok(cluster.annotation(ROLLOUT_ANNOTATION), "the record stays for the next look");
  assert.deepEqual(events, []);
  assert.equal(metrics.reverts.value(), 0);
  assert.equal((await t.check(REF())).kind, "changed-since", "the next look sees the edit");
});

Deno.test("a restarted Argoos carries on from the annotation and still reverts", async () => {
  const cluster = new FakeCluster(rolledOut("Deployment", deploymentStatus(0, 1, 2)));
  const before = tracker(cluster, {}, T0 + 5000);
  assert.equal((await before.t.check(REF())).kind, "progressing");
  // The process dies; a new one (nothing in memory) looks after the deadline.
  const after = tracker(cluster, {}, T0 + 61_000);
  const got = await after.t.check(REF());
  assert.equal(got.kind === "failed" && got.action, "reverted");
  assert.equal(got.kind === "failed" && got.reason, "deadline");
  assert.equal(cluster.image(), OLD);
  assert.deepEqual(reasons(after.events), ["RolloutFailed", "Reverted"]);
});

Deno.test("two replicas looking at once revert once", async () => {
  const cluster = new FakeCluster(rolledOut("Deployment", deploymentStatus(1, 1, 2)));
  cluster.pods_ = [crashPod()];
  // Both read before either writes: pods() holds each until both have asked.
  let arrived = 0;
  let release!: () => void;
  const both = new Promise<void>((r) => release = r);
  cluster.pods = async () => {
    if (++arrived === 2) release();
    await both;
    return structuredClone(cluster.pods_);
  };
  const a = tracker(cluster);
  const b = tracker(cluster);
  const outcomes = await Promise.all([a.t.check(REF()), b.t.check(REF())]);
  assert.deepEqual(outcomes.map((o) => o.kind).sort(), ["failed", "lost-race"]);
  assert.equal(cluster.writes.length, 1);
  assert.equal(cluster.image(), OLD);
  assert.equal(a.metrics.reverts.value() + b.metrics.reverts.value(), 1);
  assert.deepEqual([...reasons(a.events), ...reasons(b.events)], ["RolloutFailed", "Reverted"]);
});

Deno.test("reverts off (service option or workload annotation): reported, rejected, not reverted", async () => {
  const cases: [string, Partial<TrackerOptions>, Record<string, string>, RegExp][] = [
    ["--no-revert", { revert: false }, {}, /not reverted: reverts are off/],
    [
      "argoos.io/revert: false",
      {},
      { "argoos.io/revert": "false" },
      /not reverted: argoos\.io\/revert/,
    ],
  ];
  for (const [name, opts, annotations, message] of cases) {
    const cluster = new FakeCluster(
      rolledOut("Deployment", deploymentStatus(1, 1, 2), annotations),
    );
    cluster.pods_ = [crashPod()];
    const { t, events, metrics } = tracker(cluster, opts);
    const got = await t.check(REF());
    assert.equal(got.kind === "failed" && got.action, "report-only", name);
    assert.equal(cluster.image(), NEW, name);
    assert.equal(cluster.annotation(ROLLOUT_ANNOTATION), undefined, name);
    assert.equal(decodeRejected(cluster.annotation(REJECTED_ANNOTATION)).value.length, 1, name);
    assert.deepEqual(reasons(events), ["RolloutFailed"], name);
    assert.match(events[0].message, message, name);
    assert.equal(metrics.reverts.value(), 0, name);
    assert.equal(metrics.rolloutsCompleted.value({ outcome: "failed" }), 1, name);
  }
});

Deno.test("--dry-run writes nothing and says what it would revert", async () => {
  const cluster = new FakeCluster(rolledOut("Deployment", deploymentStatus(1, 1, 2)));
  cluster.pods_ = [crashPod()];
  const { t, events, log } = tracker(cluster, { dryRun: true });
  const got = await t.check(REF());
  assert.equal(got.kind === "failed" && got.action, "would-revert");
  assert.deepEqual(
    got.kind === "failed" && got.changes.map((c) => `${c.container.name}=${c.to}`),
    ["app=myapp:1.2.3"],
  );
  assert.equal(cluster.writes.length, 0);
  assert.equal(cluster.image(), NEW);
  assert.deepEqual(events, []);
  assert.ok(log.records().some((r) => r.msg === "rollout failed; dry run, would revert"));
});

Deno.test("a corrupted record is reported and removed (a lost race said so); no record, no label, no workload", async () => {
  const cluster = new FakeCluster(rolledOut("Deployment", deploymentStatus(1, 1, 2), {
    [ROLLOUT_ANNOTATION]: "{broken",
  }));
  const { t, log } = tracker(cluster);
  const got = await t.check(REF());
  assert.equal(got.kind, "corrupt");
  assert.equal(cluster.annotation(ROLLOUT_ANNOTATION), undefined);
  assert.ok(
    log.records().some((r) =>
      r.level === "warn" && r.msg === "rollout record unreadable, removing it"
    ),
  );
  assert.equal((await t.check(REF())).kind, "none");

  // Its removal losing a race (another replica rewrote it) is a lost race, not "corrupt".
  const raced = new FakeCluster(rolledOut("Deployment", deploymentStatus(1, 1, 2), {
    [ROLLOUT_ANNOTATION]: "{broken",
  }));
  raced.beforeWrite = () => raced.obj.metadata.annotations[ROLLOUT_ANNOTATION] = "{other";
  assert.equal((await tracker(raced).t.check(REF())).kind, "lost-race");
  assert.equal(raced.annotation(ROLLOUT_ANNOTATION), "{other");

  const unlabelled = rolledOut("Deployment");
  delete unlabelled.metadata.labels["argoos.io/policy"];
  assert.equal((await tracker(new FakeCluster(unlabelled)).t.check(REF())).kind, "opted-out");
  assert.equal((await tracker(new FakeCluster(undefined)).t.check(REF())).kind, "gone");
});

Deno.test("a failure without a known digest is reverted but not recorded as rejected", async () => {
  const obj = rolledOut("Deployment", deploymentStatus(1, 1, 2), {
    [ROLLOUT_ANNOTATION]: encodeRollout(record({
      push: { repository: "docker.io/library/myapp", tag: "1.2.4", pushedAt: T0 },
    })),
  });
  const cluster = new FakeCluster(obj);
  cluster.pods_ = [crashPod()];
  const got = await tracker(cluster).t.check(REF());
  assert.equal(got.kind === "failed" && got.action, "reverted");
  assert.equal(cluster.annotation(REJECTED_ANNOTATION), undefined);
});

Deno.test("StatefulSet: progress remembered between looks; counts standing still fail it", async () => {
  const sts = (updated: number, ready: number) =>
    rolledOut("StatefulSet", {
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: updated,
      readyReplicas: ready,
      currentRevision: "a",
      updateRevision: "b",
    }, {
      [ROLLOUT_ANNOTATION]: encodeRollout(record({ deadline: undefined })),
      "argoos.io/progress-deadline": "1m",
    });
  const cluster = new FakeCluster(sts(1, 2));
  let now = T0 + 1000;
  const { t, events } = tracker(cluster, { now: () => now, recheckMs: 10_000 });
  const look = async (at: number) => {
    now = at;
    return await t.check(REF("StatefulSet"));
  };
  const first = await look(T0 + 1000);
  assert.equal(first.kind === "progressing" && first.recheckAt, T0 + 11_000);
  cluster.obj = sts(2, 2);
  assert.equal((await look(T0 + 50_000)).kind, "progressing", "moved");
  const slow = await look(T0 + 100_000);
  assert.equal(slow.kind, "progressing", "longer than the deadline in all, but it moved");
  assert.equal(slow.kind === "progressing" && slow.recheckAt, T0 + 110_000, "due at the deadline");
  const stalled = await look(T0 + 110_000);
  assert.equal(stalled.kind === "failed" && stalled.reason, "progress-deadline");
  assert.match(stalled.kind === "failed" ? stalled.detail : "", /no progress for 60s/);
  assert.equal(cluster.image(), OLD);
  assert.deepEqual(reasons(events), ["RolloutFailed", "Reverted"]);
});

Deno.test("DaemonSet: a restarted or other replica counts progress from its first look", async () => {
  const cluster = new FakeCluster(
    rolledOut("DaemonSet", {
      observedGeneration: 2,
      desiredNumberScheduled: 2,
      updatedNumberScheduled: 1,
      numberAvailable: 1,
    }, {
      [ROLLOUT_ANNOTATION]: encodeRollout(record({ deadline: undefined })),
      "argoos.io/progress-deadline": "1m",
    }),
  );
  // A tracker running since before the rollout, looking at it first (another replica wrote
  // and followed it): counts have stood as far as it knows since its first look only.
  let now = T0;
  const { t } = tracker(cluster, { now: () => now });
  now = T0 + 500_000;
  assert.equal((await t.check(REF("DaemonSet"))).kind, "progressing", "not failed at once");
  now = T0 + 560_000;
  const got = await t.check(REF("DaemonSet"));
  assert.equal(got.kind === "failed" && got.reason, "progress-deadline");
});

Deno.test("an unreadable progress deadline is told once per rollout; the default applies", async () => {
  const cluster = new FakeCluster(
    rolledOut("StatefulSet", { observedGeneration: 2, replicas: 1, updatedReplicas: 0 }, {
      [ROLLOUT_ANNOTATION]: encodeRollout(record({ deadline: undefined })),
      "argoos.io/progress-deadline": "soon",
    }),
  );
  let now = T0 + 1000;
  const { t, log } = tracker(cluster, { now: () => now, recheckMs: 3_600_000 });
  for (const at of [T0 + 1000, T0 + 2000, T0 + 3000]) {
    now = at;
    const got = await t.check(REF("StatefulSet"));
    assert.equal(got.kind === "progressing" && got.recheckAt, T0 + 1000 + 600_000);
  }
  const warned = log.records().filter((r) => r.msg === "progress deadline not used");
  assert.equal(warned.length, 1);
  assert.match(String(warned[0].why), /"soon" is not a duration/);
});

Deno.test("a suspended CronJob is neither read nor judged", async () => {
  const obj = rolledOut("CronJob", {}, {
    [ROLLOUT_ANNOTATION]: encodeRollout(record({ deadline: undefined })),
  });
  obj.spec.suspend = true;
  const cluster = new FakeCluster(obj);
  cluster.jobs_ = [{
    metadata: { name: "web-29000000", uid: "j1", creationTimestamp: "2026-12-02T10:00:05Z" },
    spec: { template: { spec: { containers: [{ name: "app", image: NEW }] } } },
    status: { conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }] },
  }];
  const reads: string[] = [];
  cluster.jobs = () => (reads.push("jobs"), Promise.resolve(cluster.jobs_));
  cluster.pods = () => (reads.push("pods"), Promise.resolve([]));
  const { t } = tracker(cluster, {}, T0 + 86_400_000);
  const got = await t.check(REF("CronJob"));
  assert.equal(got.kind, "progressing");
  assert.match(got.kind === "progressing" ? got.detail : "", /suspended/);
  assert.deepEqual(reads, []);
  obj.spec.suspend = false;
  const resumed = await t.check(REF("CronJob"));
  assert.equal(resumed.kind === "failed" && resumed.reason, "failed-job");
  assert.deepEqual(reads, ["jobs", "pods"]);
});

Deno.test("a revert the API server refuses is 'refused' (backed off by the queue), not a lost race", async () => {
  const cluster = new FakeCluster(rolledOut("Deployment", deploymentStatus(1, 1, 2)));
  cluster.pods_ = [crashPod()];
  cluster.write = () => Promise.resolve("refused");
  const { t, metrics } = tracker(cluster);
  assert.deepEqual(await t.check(REF()), { kind: "refused" });
  assert.equal(metrics.reverts.value(), 0);
  assert.equal(cluster.image(), NEW);
});

/**
 * A Deployment whose failing rollout moved `myapp:latest` to the pushed content (DIGEST), its
 * record knowing `ran` (or not), with `restore`.
 */
function latestRollout(ran?: string, restore?: Record<string, string | null>): Obj {
  const obj = rolledOut("Deployment", deploymentStatus(1, 1, 2));
  obj.spec.template.spec.containers[0].image = `myapp:latest@${DIGEST}`;
  obj.metadata.annotations[ROLLOUT_ANNOTATION] = encodeRollout(record({
    containers: [{
      section: "containers",
      index: 0,
      name: "app",
      from: "myapp:latest",
      to: `myapp:latest@${DIGEST}`,
      digest: DIGEST,
      ...(ran ? { ran } : {}),
    }],
    ...(restore ? { restore } : {}),
  }));
  return obj;
}

Deno.test("a revert to a tag that now names other content pins what ran; the state names the pin", async () => {
  const ran = "sha256:" + "a".repeat(64);
  const state = JSON.stringify({ app: { image: "myapp:latest", digest: ran, written: true } });
  const obj = latestRollout(ran, { "argoos.io/state": state });
  const pristine = structuredClone(obj);
  const cluster = new FakeCluster(obj);
  cluster.pods_ = [crashPod()];
  cluster.pods_[0].spec!.containers[0].image = `myapp:latest@${DIGEST}`;
  const asked: string[] = [];
  const { t } = tracker(cluster, {
    tagDigest: (_w, image) => (asked.push(image), Promise.resolve(DIGEST)),
  });
  const got = await t.check(REF());
  assert.equal(got.kind === "failed" && got.action, "reverted");
  assert.deepEqual(asked, ["myapp:latest"]);
  assert.equal(cluster.image(), `myapp:latest@${ran}`);
  assert.deepEqual(JSON.parse(cluster.annotation("argoos.io/state")!), {
    app: { image: `myapp:latest@${ran}`, digest: ran, written: true },
  });
  // The tag still naming what ran: put back as it was.
  const same = new FakeCluster(pristine);
  same.pods_ = cluster.pods_;
  const again = tracker(same, { tagDigest: () => Promise.resolve(ran) });
  await again.t.check(REF());
  assert.equal(same.image(), "myapp:latest");
  assert.equal(same.annotation("argoos.io/state"), state);
});

Deno.test("a revert pins what ran: the record's, else what the old pods report, never the failed digest", async () => {
  const ranThen = "sha256:" + "a".repeat(64);
  const ranNow = "sha256:" + "b".repeat(64);
  const crashing = () => {
    const pod = crashPod();
    pod.spec!.containers[0].image = `myapp:latest@${DIGEST}`;
    return pod;
  };
  const oldPod = (digest: string, image = "myapp:latest"): Pod => ({
    metadata: { name: "web-77aa-y1" },
    spec: { containers: [{ name: "app", image }] },
    status: {
      containerStatuses: [{
        name: "app",
        image,
        ready: true,
        restartCount: 0,
        imageID: `docker.io/library/myapp@${digest}`,
      }],
    },
  });
  // The tag moved on: what failed is what it names now.
  const options = { tagDigest: () => Promise.resolve(DIGEST) };
  const revertTo = async (recorded: string | undefined, oldPods: Pod[]) => {
    const cluster = new FakeCluster(latestRollout(recorded));
    cluster.pods_ = [crashing(), ...oldPods];
    const got = await tracker(cluster, options).t.check(REF());
    assert.equal(got.kind === "failed" && got.action, "reverted");
    return cluster.image();
  };
  // Not read when the rollout started: the old pods say it.
  assert.equal(await revertTo(undefined, [oldPod(ranNow)]), `myapp:latest@${ranNow}`);
  // Known when it started: that, whatever a pod restarted since pulled.
  assert.equal(await revertTo(ranThen, [oldPod(ranNow)]), `myapp:latest@${ranThen}`);
  assert.equal(await revertTo(ranThen, []), `myapp:latest@${ranThen}`);
  // Pods of another image, or disagreeing, say nothing.
  assert.equal(await revertTo(undefined, [oldPod(ranNow, "other:1")]), "myapp:latest");
  assert.equal(await revertTo(undefined, [oldPod(ranNow), oldPod(ranThen)]), "myapp:latest");
  // An old pod restarted under the moved tag runs the failed content: not what ran.
  assert.equal(await revertTo(undefined, [oldPod(DIGEST)]), "myapp:latest");

  // Seen at an earlier look, kept when the old pods are gone by the failing one (Recreate).
  const cluster = new FakeCluster(latestRollout());
  cluster.obj.status = deploymentStatus(0, 1, 1);
  cluster.pods_ = [oldPod(ranNow)];
  const { t } = tracker(cluster, options);
  assert.equal((await t.check(REF())).kind, "progressing");
  cluster.obj.status = deploymentStatus(1, 1, 2);
  cluster.pods_ = [crashing()];
  const got = await t.check(REF());
  assert.equal(got.kind === "failed" && got.action, "reverted");
  assert.equal(cluster.image(), `myapp:latest@${ranNow}`);
});
