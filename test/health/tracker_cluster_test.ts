/**
 * The tracker against the fake API server with its rollout simulation: the API server source,
 * the guarded JSON patch (a failed `test` is 422), Events on the wire.
 *
 * @module
 */

import assert from "node:assert/strict";
import { EventRecorder } from "../../lib/events/recorder.ts";
import { type HealthKind, healthTimeout, judgeRollout } from "../../lib/health/judge.ts";
import {
  decodeRejected,
  encodeRollout,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
  startRecord,
} from "../../lib/health/record.ts";
import { KubeHealthSource } from "../../lib/health/cluster_source.ts";
import { RolloutTracker, type TrackOutcome } from "../../lib/health/tracker.ts";
import { ArgoosMetrics } from "../../lib/metrics/argoos_metrics.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";
import {
  deployment,
  type FakeCluster,
  imagesOf,
  startFakeCluster,
  waitFor,
} from "../support/fake_cluster.ts";
import type { RolloutSimulator } from "../fake_apiserver/mod.ts";
import { Rollout } from "../../lib/rollout/rollout.ts";

// deno-lint-ignore no-explicit-any
type Obj = any;

/** Argoos's own rollout: the image change and its record, in one guarded patch. */
async function rollOut(cluster: FakeCluster, sim: RolloutSimulator, kind: HealthKind, to: string) {
  const source = new KubeHealthSource(cluster.client);
  const obj = (await source.workload({ kind, namespace: "default", name: "web" }))!;
  const w = readWorkload(kindNamed(kind)!, obj);
  const changes = [{ container: w.containers[0], to }];
  const digest = sim.imageId(to).split("@")[1];
  const record = startRecord(w, {
    changes,
    push: {
      repository: "docker.io/library/myapp",
      tag: to.split(":")[1],
      digest,
      pushedAt: Date.now(),
    },
    now: Date.now(),
    timeoutMs: healthTimeout(w.annotations).ms,
  });
  const result = await new Rollout({ client: cluster.client }).write(w, {
    changes,
    annotations: { [ROLLOUT_ANNOTATION]: encodeRollout(record) },
    expect: {},
  });
  assert.equal(result, "applied");
  return digest;
}

/** One Argoos replica's tracker; the registry serves each tag with the digest its pods pull. */
function replica(cluster: FakeCluster, sim: RolloutSimulator) {
  const metrics = new ArgoosMetrics();
  const events = new EventRecorder(cluster.client, { instance: "argoos-test" });
  const tagDigest = (_w: unknown, image: string) =>
    Promise.resolve(sim.imageId(image).split("@")[1]);
  const tracker = new RolloutTracker(
    new KubeHealthSource(cluster.client),
    new Rollout({ client: cluster.client }),
    { revert: true, dryRun: false, events, metrics, tagDigest },
  );
  return { tracker, metrics, events };
}

/**
 * Look until the rollout is no longer progressing; a write that lost to a status update (the
 * resourceVersion guard of an annotation added) is looked at again, as the reconcile does.
 */
function follow(t: RolloutTracker, kind: HealthKind): Promise<TrackOutcome> {
  return waitFor(async () => {
    const o = await t.check({ kind, namespace: "default", name: "web" });
    return o.kind !== "progressing" && o.kind !== "lost-race" ? o : undefined;
  }, "the end of the rollout") as Promise<TrackOutcome>;
}

const get = (cluster: FakeCluster, kind: HealthKind): Obj =>
  cluster.fake.get(kind === "CronJob" ? "batch/v1" : "apps/v1", kind, "default", "web");
const eventReasons = (cluster: FakeCluster) =>
  cluster.fake.list("v1", "Event").map((e) => e.reason as string);

function seed(
  cluster: FakeCluster,
  kind: HealthKind,
  image: string,
  annotations?: Record<string, string>,
) {
  const obj: Obj = deployment({
    kind,
    name: "web",
    policy: "patch",
    containers: [{ name: "app", image }],
    annotations,
  });
  if (kind === "Deployment" || kind === "StatefulSet") obj.spec.replicas = 2;
  cluster.fake.put(obj);
}

Deno.test("a good image: followed to complete, RolloutSucceeded, record removed", async () => {
  const cluster = await startFakeCluster();
  const sim = cluster.fake.simulateRollouts();
  try {
    seed(cluster, "Deployment", "myapp:1.2.3");
    await sim.idle();
    await rollOut(cluster, sim, "Deployment", "myapp:1.2.4");
    const { tracker, metrics, events } = replica(cluster, sim);
    const outcome = await follow(tracker, "Deployment");
    assert.equal(outcome.kind, "succeeded");
    await events.flush();
    const d = get(cluster, "Deployment");
    assert.deepEqual(imagesOf(d), ["app=myapp:1.2.4"]);
    assert.equal(d.metadata.annotations[ROLLOUT_ANNOTATION], undefined);
    assert.deepEqual(eventReasons(cluster), ["RolloutSucceeded"]);
    assert.equal(metrics.rolloutsCompleted.value({ outcome: "succeeded" }), 1);
  } finally {
    await cluster.stop();
  }
});

Deno.test("a crash-looping image is reverted; the Deployment rolls back and is healthy", async () => {
  const cluster = await startFakeCluster();
  const sim = cluster.fake.simulateRollouts({ images: { "myapp:1.2.4": "crash-loop" } });
  try {
    seed(cluster, "Deployment", "myapp:1.2.3");
    await sim.idle();
    const digest = await rollOut(cluster, sim, "Deployment", "myapp:1.2.4");
    const { tracker, metrics, events } = replica(cluster, sim);
    const outcome = await follow(tracker, "Deployment");
    assert.equal(outcome.kind === "failed" && outcome.reason, "crash-loop");
    assert.equal(outcome.kind === "failed" && outcome.action, "reverted");
    await events.flush();
    await sim.idle();
    const d = get(cluster, "Deployment");
    assert.deepEqual(imagesOf(d), ["app=myapp:1.2.3"]);
    assert.equal(d.metadata.annotations[ROLLOUT_ANNOTATION], undefined);
    assert.deepEqual(
      decodeRejected(d.metadata.annotations[REJECTED_ANNOTATION]).value.map((r) => r.digest),
      [digest],
    );
    assert.deepEqual(eventReasons(cluster).sort(), ["Reverted", "RolloutFailed"]);
    assert.equal(metrics.reverts.value(), 1);
    const pods = cluster.fake.list("v1", "Pod");
    const verdict = judgeRollout({
      kind: "Deployment",
      workload: d,
      pods,
      containers: ["app"],
      startedAt: Date.now(),
      now: Date.now(),
    });
    assert.equal(verdict.state, "complete", "the previous image runs again");
    assert.ok(pods.every((p: Obj) => p.spec.containers[0].image === "myapp:1.2.3"));
  } finally {
    await cluster.stop();
  }
});

Deno.test("Argoos restarts mid-rollout; two replicas then follow it: one revert", async () => {
  const cluster = await startFakeCluster();
  const sim = cluster.fake.simulateRollouts({ images: { "myapp:1.2.4": "stall" } });
  try {
    seed(cluster, "StatefulSet", "myapp:1.2.3", { "argoos.io/health-timeout": "2s" });
    await sim.idle();
    await rollOut(cluster, sim, "StatefulSet", "myapp:1.2.4");
    const ref = { kind: "StatefulSet" as const, namespace: "default", name: "web" };
    // The first process sees the rollout progressing (a Pod stuck creating), then dies.
    const before = replica(cluster, sim);
    assert.equal((await before.tracker.check(ref)).kind, "progressing");
    // Two fresh replicas, nothing in memory, carry on from the annotation to the deadline.
    const a = replica(cluster, sim);
    const b = replica(cluster, sim);
    const outcomes = await Promise.all([
      follow(a.tracker, "StatefulSet"),
      follow(b.tracker, "StatefulSet"),
    ]);
    await Promise.all([a.events.flush(), b.events.flush()]);
    const reverted = outcomes.filter((o) => o.kind === "failed" && o.action === "reverted");
    assert.equal(reverted.length, 1, JSON.stringify(outcomes));
    assert.equal(reverted[0].kind === "failed" && reverted[0].reason, "deadline");
    assert.ok(outcomes.every((o) => ["failed", "lost-race", "none"].includes(o.kind)));
    assert.equal(a.metrics.reverts.value() + b.metrics.reverts.value(), 1);
    assert.deepEqual(eventReasons(cluster).sort(), ["Reverted", "RolloutFailed"]);
    assert.deepEqual(imagesOf(get(cluster, "StatefulSet")), ["app=myapp:1.2.3"]);
  } finally {
    await cluster.stop();
  }
});

Deno.test("a human edit after the failure blocks the revert on the wire (422 guard)", async () => {
  const cluster = await startFakeCluster();
  const sim = cluster.fake.simulateRollouts({ images: { "myapp:1.2.4": "crash-loop" } });
  try {
    seed(cluster, "Deployment", "myapp:1.2.3");
    await sim.idle();
    await rollOut(cluster, sim, "Deployment", "myapp:1.2.4");
    await sim.idle();
    // The tracker reads the workload and its Pods; then a human patches the image, before
    // the revert lands.
    const source = new KubeHealthSource(cluster.client);
    const { tracker, events } = replica(cluster, sim);
    const racing = new RolloutTracker(
      {
        workload: (ref) => source.workload(ref),
        pods: async (w) => {
          const pods = await source.pods(w);
          await cluster.client.patch(
            kindNamed("Deployment")!.type,
            "default",
            "web",
            [{
              op: "replace",
              path: "/spec/template/spec/containers/0/image",
              value: "myapp:1.2.5-hotfix",
            }],
            "json",
          );
          return pods;
        },
        jobs: (cron) => source.jobs(cron),
      },
      new Rollout({ client: cluster.client }),
      { revert: true, dryRun: false, events, metrics: new ArgoosMetrics() },
    );
    const ref = { kind: "Deployment" as const, namespace: "default", name: "web" };
    assert.equal((await racing.check(ref)).kind, "lost-race");
    assert.deepEqual(imagesOf(get(cluster, "Deployment")), ["app=myapp:1.2.5-hotfix"]);
    assert.equal((await tracker.check(ref)).kind, "changed-since");
    await events.flush();
    assert.deepEqual(eventReasons(cluster), []);
    assert.deepEqual(imagesOf(get(cluster, "Deployment")), ["app=myapp:1.2.5-hotfix"]);
    assert.equal(get(cluster, "Deployment").metadata.annotations[ROLLOUT_ANNOTATION], undefined);
  } finally {
    await cluster.stop();
  }
});

Deno.test("a CronJob is judged by its next Job: a failed Job is reverted", async () => {
  const cluster = await startFakeCluster();
  const sim = cluster.fake.simulateRollouts({ images: { "myapp:1.2.4": "job-fail" } });
  try {
    seed(cluster, "CronJob", "myapp:1.2.3");
    sim.triggerCronJob("default", "web");
    await sim.idle();
    await rollOut(cluster, sim, "CronJob", "myapp:1.2.4");
    const { tracker } = replica(cluster, sim);
    const ref = { kind: "CronJob" as const, namespace: "default", name: "web" };
    assert.equal((await tracker.check(ref)).kind, "progressing", "the earlier Job does not count");
    sim.triggerCronJob("default", "web");
    await sim.idle();
    const outcome = await follow(tracker, "CronJob");
    assert.equal(outcome.kind === "failed" && outcome.reason, "failed-job");
    assert.deepEqual(imagesOf(get(cluster, "CronJob")), ["app=myapp:1.2.3"]);
  } finally {
    await cluster.stop();
  }
});
