/**
 * Rollouts in progress are followed from the watch of their workload, the health recheck being
 * only a safety net: with `--health-recheck 1h` a rollout still completes, or is reverted, as
 * soon as its workload's status says so; an early sign only the pods show is caught by the
 * safety net; and many rollouts in progress whose status stands still cost no request at all.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  decodeRejected,
  encodeRollout,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
} from "../../lib/health/record.ts";
import type { HealthKind } from "../../lib/health/judge.ts";
import type { Behaviour } from "../fake_apiserver/rollout_sim.ts";
import { fakeDigest } from "../../bench/stub_registry.ts";
import { seedPods } from "../support/pods.ts";
import { type Service, startService } from "../support/argoos_service.ts";
import { deployment, imagesOf, waitFor } from "../support/fake_cluster.ts";
import { pushEnvelope } from "../service/push_envelope.ts";

const REG = "127.0.0.1:5000";
const GOOD = `${REG}/app:1.0.1`;
/** A safety net no test here lives to see: what happens, happens from watch events. */
const NO_TIMER = ["--health-recheck", "1h"];

// deno-lint-ignore no-explicit-any
type Obj = any;

const apiVersion = (kind: HealthKind) => kind === "CronJob" ? "batch/v1" : "apps/v1";
const get = (svc: Service, kind: HealthKind = "Deployment", name = "web"): Obj =>
  svc.fake.get(apiVersion(kind), kind, "default", name);
const annotation = (svc: Service, key: string, kind: HealthKind = "Deployment") =>
  get(svc, kind)?.metadata.annotations?.[key] as string | undefined;
const reasons = (svc: Service) =>
  svc.fake.list("v1", "Event").map((e) => e.reason as string).filter((r) =>
    ["RolloutSucceeded", "RolloutFailed", "Reverted"].includes(r)
  ).sort();

/** `web` of `kind` on `REG/app:1.0.0`, 2 replicas where it counts, on a simulated cluster. */
async function serve(
  kind: HealthKind,
  knobs: Record<string, Behaviour>,
  args: string[],
  edit: (obj: Obj) => void = () => {},
) {
  const obj: Obj = deployment({
    kind,
    name: "web",
    policy: "patch",
    containers: [{ name: "app", image: `${REG}/app:1.0.0` }],
  });
  if (kind !== "DaemonSet") obj.spec.replicas = 2;
  edit(obj);
  const svc = await startService({
    args,
    seed: (cluster, registry) => {
      const digest = registry.push("app", "1.0.0");
      const sim = cluster.fake.simulateRollouts({ images: knobs });
      sim.image(`${REG}/app:1.0.0`, { behaviour: "succeed", digest });
      cluster.fake.put(obj);
    },
  });
  await svc.argoos.cache.synced;
  const push = async (tag: string) => {
    const digest = svc.registry.push("app", tag);
    const res = await svc.post(pushEnvelope({ host: REG, repository: "app", tag, digest }));
    assert.equal(res.status, 200, res.text);
  };
  return Object.assign(svc, { push });
}

async function judged(svc: Service, kind: HealthKind, events: string[]) {
  await waitFor(() => annotation(svc, ROLLOUT_ANNOTATION, kind) === undefined, "rollout judged");
  await waitFor(() => reasons(svc).join() === [...events].sort().join(), `events ${events}`);
}

for (const kind of ["Deployment", "StatefulSet", "DaemonSet"] as const) {
  Deno.test(`${kind}: a rollout completes from its status changes, no recheck timer`, async () => {
    const svc = await serve(kind, {}, NO_TIMER);
    try {
      await svc.push("1.0.1");
      await judged(svc, kind, ["RolloutSucceeded"]);
      assert.deepEqual(imagesOf(get(svc, kind)), [`app=${GOOD}`]);
      assert.equal(svc.argoos.metrics.rolloutsCompleted.value({ outcome: "succeeded" }), 1);
    } finally {
      await svc.stop();
    }
  });
}

Deno.test("Deployment: ProgressDeadlineExceeded reverts from the status change, no recheck timer", async () => {
  const svc = await serve("Deployment", { [GOOD]: "stall" }, NO_TIMER, (obj) => {
    obj.spec.progressDeadlineSeconds = 1;
  });
  try {
    await svc.push("1.0.1");
    await judged(svc, "Deployment", ["Reverted", "RolloutFailed"]);
    assert.deepEqual(imagesOf(get(svc)), [`app=${REG}/app:1.0.0`]);
    const [rejected] = decodeRejected(annotation(svc, REJECTED_ANNOTATION)).value;
    assert.equal(rejected.reason, "progress-deadline");
  } finally {
    await svc.stop();
  }
});

/** A rollout record of `app` from `REG/app:1.0.0` to GOOD, started now. */
const RECORD = () =>
  encodeRollout({
    containers: [{
      section: "containers",
      index: 0,
      name: "app",
      from: `${REG}/app:1.0.0`,
      to: GOOD,
      digest: fakeDigest(2),
    }],
    push: { repository: `${REG}/app`, tag: "1.0.1", digest: fakeDigest(2), pushedAt: Date.now() },
    startedAt: Date.now(),
  });

for (const [recheck, caught] of [["1s", true], ["1h", false]] as const) {
  Deno.test(`a crash loop only a new pod shows, --health-recheck ${recheck}: ${caught ? "caught by the safety net" : "waits for it"}`, async () => {
    // A StatefulSet mid-rollout: one new pod, one updated and both ready in its status. The new
    // pod then crash-loops; no controller writes the StatefulSet's status (it stands still),
    // so only a look at the pods, the safety net's, sees it.
    const obj: Obj = deployment({
      kind: "StatefulSet",
      name: "web",
      policy: "patch",
      containers: [{ name: "app", image: GOOD }],
      annotations: { [ROLLOUT_ANNOTATION]: RECORD() },
    });
    obj.spec.replicas = 2;
    obj.metadata.generation = 2;
    obj.status = {
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 1,
      readyReplicas: 2,
      currentRevision: "web-1",
      updateRevision: "web-2",
    };
    let pod: Obj;
    const svc = await startService({
      args: ["--health-recheck", recheck],
      seed: (cluster) => {
        const stored = cluster.fake.put(obj);
        [pod] = seedPods(cluster.fake, stored, {
          imageID: `${REG}/app@${fakeDigest(2)}`,
          revision: "2",
        }).pods;
      },
    });
    const looks = () =>
      svc.fake.requests.filter((r) => r.method === "GET" && r.path.endsWith("/web")).length;
    try {
      await svc.argoos.cache.synced;
      await waitFor(() => looks() === 1, "the first look, as the cache first sees it");
      // Done (its pods read too): the key waits for its safety net.
      await waitFor(() => svc.argoos.queue.length === 1, "the first look done");
      const [cs] = pod.status.containerStatuses;
      pod.status.containerStatuses = [{
        ...cs,
        ready: false,
        restartCount: 4,
        state: { waiting: { reason: "CrashLoopBackOff" } },
      }];
      svc.fake.put(pod);
      const since = Date.now();
      if (caught) {
        await judged(svc, "StatefulSet", ["Reverted", "RolloutFailed"]);
        assert.deepEqual(imagesOf(get(svc, "StatefulSet")), [`app=${REG}/app:1.0.0`]);
        const rejected = decodeRejected(annotation(svc, REJECTED_ANNOTATION, "StatefulSet"));
        assert.equal(rejected.value[0].reason, "crash-loop");
        assert.ok(Date.now() - since < 3_000, "within the safety net and a margin");
      } else {
        // What the safety net bounds: nothing else looks at the pods.
        await new Promise((r) => setTimeout(r, 1_500));
        assert.equal(looks(), 1, "looked at once");
        assert.ok(annotation(svc, ROLLOUT_ANNOTATION, "StatefulSet"), "still followed");
      }
    } finally {
      await svc.stop();
    }
  });
}

/** Deployments seeded with a rollout in progress that stands still (the controller is idle). */
const IN_PROGRESS = 200;

Deno.test(`${IN_PROGRESS} rollouts in progress, nothing changing: no request at all; a status change is looked at`, async () => {
  const record = encodeRollout({
    containers: [{ section: "containers", index: 0, name: "app", from: "app:1", to: "app:2" }],
    push: { repository: "docker.io/library/app", tag: "2", digest: "", pushedAt: Date.now() },
    startedAt: Date.now(),
  });
  const svc = await startService({
    args: NO_TIMER,
    seed: (cluster) => {
      for (let i = 0; i < IN_PROGRESS; i++) {
        const obj: Obj = deployment({
          name: `app-${i}`,
          policy: "patch",
          containers: [{ name: "app", image: "app:2" }],
          annotations: { [ROLLOUT_ANNOTATION]: record },
        });
        obj.metadata.generation = 2;
        obj.status = { observedGeneration: 2, replicas: 2, updatedReplicas: 1 };
        cluster.fake.put(obj);
      }
    },
  });
  const reads = (name?: string) =>
    svc.fake.requests.filter((r) =>
      r.method === "GET" && !r.query.has("watch") &&
      (name === undefined || r.path.endsWith(`/deployments/${name}`))
    ).length;
  try {
    await svc.argoos.cache.synced;
    // Each is looked at once as the cache first sees it.
    // A look ends with the LIST of what owns the pods (no ReplicaSet here: no pod LIST).
    const ownerLists = () =>
      svc.fake.requests.filter((r) => r.path.endsWith("/replicasets")).length;
    await waitFor(() => ownerLists() === IN_PROGRESS, "first looks, each ending with its owners");
    await waitFor(() => svc.argoos.queue.length === IN_PROGRESS, "each waits for its safety net");
    const before = svc.fake.requests.length;
    await new Promise((r) => setTimeout(r, 2_000));
    const during = svc.fake.requests.slice(before).filter((r) => !r.query.has("watch"));
    assert.deepEqual(during.map((r) => `${r.method} ${r.path}`), [], "no request in 2 s");

    // The controller reports progress on one: that one, and only that one, is looked at.
    const obj = get(svc, "Deployment", "app-7");
    obj.status = { ...obj.status, updatedReplicas: 2 };
    svc.fake.put(obj);
    const looks = reads("app-7");
    await waitFor(() => reads("app-7") > looks, "app-7 looked at");
    assert.equal(reads("app-8"), 1, "app-8 looked at once, at the start");
  } finally {
    await svc.stop();
  }
});
