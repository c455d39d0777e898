/**
 * The rollout simulation: what the controllers and kubelet would write after a pod template
 * change, per kind and per image knob, checked on the wire and against the health judgement.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startFakeApiServer } from "./server.ts";
import type { FakeApiServer } from "./server.ts";
import { call, WatchReader } from "./test_client.ts";
import { deployment } from "../support/workload_object.ts";
import { waitFor } from "../support/wait_for.ts";
import { type HealthKind, judgeRollout } from "../../lib/health/judge.ts";
import { templateHash } from "./rollout_sim.ts";

// deno-lint-ignore no-explicit-any
type Obj = any;

const sha = (image: string) => "sha256:" + createHash("sha256").update(image).digest("hex");

function workload(kind: HealthKind, image: string, extra: Obj = {}): Obj {
  const obj: Obj = deployment({
    kind,
    name: "web",
    policy: "patch",
    containers: [{ name: "app", image }],
  });
  if (kind !== "CronJob" && kind !== "DaemonSet") obj.spec.replicas = 2;
  Object.assign(obj.spec, extra);
  return obj;
}

const API: Record<HealthKind, string> = {
  Deployment: "/apis/apps/v1/namespaces/default/deployments/web",
  StatefulSet: "/apis/apps/v1/namespaces/default/statefulsets/web",
  DaemonSet: "/apis/apps/v1/namespaces/default/daemonsets/web",
  CronJob: "/apis/batch/v1/namespaces/default/cronjobs/web",
};

/** Change the image through the API, as Argoos does (a JSON patch). */
async function setImage(api: FakeApiServer, kind: HealthKind, image: string) {
  const pointer = kind === "CronJob"
    ? "/spec/jobTemplate/spec/template/spec/containers/0/image"
    : "/spec/template/spec/containers/0/image";
  const res = await call(
    api,
    "PATCH",
    API[kind],
    [{ op: "replace", path: pointer, value: image }],
    "application/json-patch+json",
  );
  assert.equal(res.status, 200);
  return res.body;
}

const get = (api: FakeApiServer, kind: HealthKind): Obj =>
  api.get(kind === "CronJob" ? "batch/v1" : "apps/v1", kind, "default", "web");
const pods = (api: FakeApiServer): Obj[] => api.list("v1", "Pod");
const owned = (objs: Obj[], parent: Obj) =>
  objs.filter((o) =>
    o.metadata.ownerReferences?.some((r: Obj) => r.controller && r.uid === parent.metadata.uid)
  );
const judge = (
  kind: HealthKind,
  obj: Obj,
  podList: Obj[],
  jobs: Obj[] = [],
  now = Date.now(),
  deadline?: number,
) =>
  judgeRollout({
    kind,
    workload: obj,
    pods: podList,
    jobs,
    containers: ["app"],
    startedAt: now - 1000,
    now,
    deadline,
  });

Deno.test("Deployment: ReplicaSet and Pods per template, status to complete, on the wire", async () => {
  const api = await startFakeApiServer();
  const sim = api.simulateRollouts({
    images: { "myapp:2": { behaviour: "succeed", digest: "sha256:" + "d".repeat(64) } },
  });
  try {
    api.put(workload("Deployment", "myapp:1"));
    await sim.idle();
    let d = get(api, "Deployment");
    assert.equal(d.metadata.generation, 1);
    assert.equal(d.status.observedGeneration, 1);
    assert.equal(judge("Deployment", d, pods(api)).state, "complete");
    const watch = await WatchReader.open(
      api,
      `/apis/apps/v1/namespaces/default/deployments?watch=1&resourceVersion=${d.metadata.resourceVersion}`,
    );

    const patched = await setImage(api, "Deployment", "myapp:2");
    assert.equal(patched.metadata.generation, 2, "a template change bumps the generation");
    await sim.idle();
    d = get(api, "Deployment");
    assert.equal(d.metadata.generation, 2, "status writes leave the generation alone");
    assert.deepEqual(
      {
        ...d.status,
        conditions: d.status.conditions.map((c: Obj) => [c.type, c.status, c.reason]),
      },
      {
        observedGeneration: 2,
        replicas: 2,
        updatedReplicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
        conditions: [["Available", "True", "MinimumReplicasAvailable"], [
          "Progressing",
          "True",
          "NewReplicaSetAvailable",
        ]],
      },
    );
    assert.equal(judge("Deployment", d, pods(api)).state, "complete");

    const sets: Obj[] = api.list("apps/v1", "ReplicaSet");
    assert.equal(sets.length, 2);
    const hash = templateHash(d.spec.template);
    const fresh = sets.find((r) => r.metadata.labels["pod-template-hash"] === hash)!;
    const old = sets.find((r) => r !== fresh)!;
    assert.equal(fresh.metadata.name, `web-${hash}`);
    assert.equal(fresh.metadata.annotations["deployment.kubernetes.io/revision"], "2");
    assert.deepEqual(fresh.metadata.ownerReferences, [{
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "web",
      uid: d.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    }]);
    assert.equal(fresh.spec.selector.matchLabels["pod-template-hash"], hash);
    assert.equal(old.spec.replicas, 0);
    assert.equal(fresh.status.availableReplicas, 2);
    const all = pods(api);
    assert.equal(all.length, 2);
    assert.equal(
      owned(all, fresh).length,
      2,
      "old Pods are gone, new ones owned by the new ReplicaSet",
    );
    for (const p of all) {
      assert.equal(p.metadata.labels["pod-template-hash"], hash);
      assert.equal(p.metadata.name.startsWith(`web-${hash}-`), true);
      assert.equal(p.status.phase, "Running");
      const cs = p.status.containerStatuses[0];
      assert.deepEqual([cs.image, cs.imageID, cs.ready, cs.restartCount], [
        "myapp:2",
        "docker.io/library/myapp@sha256:" + "d".repeat(64),
        true,
        0,
      ]);
    }
    // Watchers saw the rollout in progress before it completed.
    const reasons: string[] = [];
    while (!reasons.includes("NewReplicaSetAvailable")) {
      const e = await watch.next();
      const progressing = e?.object.status?.conditions?.find((c: Obj) => c.type === "Progressing");
      if (e?.object.status?.observedGeneration === 2 && progressing) {
        reasons.push(progressing.reason);
      }
    }
    assert.equal(reasons[0], "NewReplicaSetCreated", "the new template's ReplicaSet first");
    await watch.close();
  } finally {
    await api.stop();
  }
});

Deno.test("Deployment: a crash-looping image, then ProgressDeadlineExceeded", async () => {
  const api = await startFakeApiServer();
  const sim = api.simulateRollouts({ images: { "myapp:bad": "crash-loop" }, maxRestarts: 4 });
  try {
    api.put(workload("Deployment", "myapp:1", { progressDeadlineSeconds: 1 }));
    await sim.idle();
    await setImage(api, "Deployment", "myapp:bad");
    await sim.idle();
    const d = get(api, "Deployment");
    const fresh = pods(api).filter((p) => p.spec.containers[0].image === "myapp:bad");
    const old = pods(api).filter((p) => p.spec.containers[0].image === "myapp:1");
    assert.equal(fresh.length, 2);
    assert.equal(old.length, 2, "old Pods keep serving");
    for (const p of fresh) {
      const cs = p.status.containerStatuses[0];
      assert.equal(cs.state.waiting.reason, "CrashLoopBackOff");
      assert.equal(cs.restartCount, 4, "restarts grow, up to maxRestarts");
      assert.equal(cs.lastState.terminated.exitCode, 1);
      assert.equal(cs.imageID, `docker.io/library/myapp@${sha("myapp:bad")}`);
      assert.equal(p.status.phase, "Running");
    }
    assert.deepEqual(
      [
        d.status.updatedReplicas,
        d.status.availableReplicas,
        d.status.replicas,
        d.status.unavailableReplicas,
      ],
      [2, 2, 4, 2],
    );
    assert.equal(judge("Deployment", d, pods(api)).reason, "crash-loop");
    const expired = await waitFor(
      () => {
        const c = get(api, "Deployment").status.conditions.find((c: Obj) =>
          c.type === "Progressing"
        );
        return c.reason === "ProgressDeadlineExceeded" && c;
      },
      "ProgressDeadlineExceeded",
      5000,
    );
    assert.equal(expired.status, "False");
    assert.match(expired.message, /^ReplicaSet "web-\w+" has timed out progressing\.$/);
    assert.equal(judge("Deployment", get(api, "Deployment"), []).reason, "progress-deadline");
  } finally {
    await api.stop();
  }
});

Deno.test("StatefulSet: Pods replaced from the highest ordinal; a pull error stops the update", async () => {
  const api = await startFakeApiServer();
  const sim = api.simulateRollouts({ images: { "myapp:missing": "pull-error" } });
  try {
    api.put(workload("StatefulSet", "myapp:1"));
    await sim.idle();
    await setImage(api, "StatefulSet", "myapp:2");
    await sim.idle();
    let s = get(api, "StatefulSet");
    const rev2 = `web-${templateHash(s.spec.template)}`;
    assert.deepEqual(
      [
        s.status.observedGeneration,
        s.status.replicas,
        s.status.readyReplicas,
        s.status.updatedReplicas,
        s.status.currentReplicas,
      ],
      [2, 2, 2, 2, 2],
    );
    assert.deepEqual([s.status.currentRevision, s.status.updateRevision], [rev2, rev2]);
    assert.deepEqual(
      pods(api).map((p) => [p.metadata.name, p.metadata.labels["controller-revision-hash"]]),
      [
        ["web-0", rev2],
        ["web-1", rev2],
      ],
    );
    assert.equal(judge("StatefulSet", s, pods(api)).state, "complete");

    await setImage(api, "StatefulSet", "myapp:missing");
    await sim.idle();
    s = get(api, "StatefulSet");
    const byName = Object.fromEntries(pods(api).map((p) => [p.metadata.name, p]));
    assert.equal(byName["web-0"].spec.containers[0].image, "myapp:2", "web-0 waits for web-1");
    const cs = byName["web-1"].status.containerStatuses[0];
    assert.deepEqual([cs.state.waiting.reason, cs.imageID, byName["web-1"].status.phase], [
      "ImagePullBackOff",
      "",
      "Pending",
    ]);
    assert.deepEqual([s.status.updatedReplicas, s.status.readyReplicas, s.status.currentRevision], [
      1,
      1,
      rev2,
    ]);
    assert.notEqual(s.status.updateRevision, rev2);
    assert.equal(judge("StatefulSet", s, pods(api)).reason, "pull-error");
  } finally {
    await api.stop();
  }
});

Deno.test("DaemonSet: one Pod per node, replaced a node at a time; a stall hits the deadline", async () => {
  const api = await startFakeApiServer();
  const sim = api.simulateRollouts({ nodes: 3, images: { "myapp:slow": "stall" } });
  try {
    api.put(workload("DaemonSet", "myapp:1"));
    await sim.idle();
    await setImage(api, "DaemonSet", "myapp:2");
    await sim.idle();
    let ds = get(api, "DaemonSet");
    assert.deepEqual(ds.status, {
      currentNumberScheduled: 3,
      numberMisscheduled: 0,
      desiredNumberScheduled: 3,
      numberReady: 3,
      observedGeneration: 2,
      updatedNumberScheduled: 3,
      numberAvailable: 3,
    });
    assert.deepEqual(pods(api).map((p) => p.spec.nodeName).sort(), ["node-0", "node-1", "node-2"]);
    assert.equal(judge("DaemonSet", ds, pods(api)).state, "complete");

    await setImage(api, "DaemonSet", "myapp:slow");
    await sim.idle();
    ds = get(api, "DaemonSet");
    assert.deepEqual([
      ds.status.updatedNumberScheduled,
      ds.status.numberAvailable,
      ds.status.numberUnavailable,
    ], [1, 2, 1]);
    const stuck = pods(api).find((p) => p.spec.containers[0].image === "myapp:slow")!;
    assert.equal(stuck.status.containerStatuses[0].state.waiting.reason, "ContainerCreating");
    const now = Date.now();
    assert.equal(judge("DaemonSet", ds, pods(api), [], now, now + 1).state, "progressing");
    assert.equal(judge("DaemonSet", ds, pods(api), [], now, now).reason, "deadline");
  } finally {
    await api.stop();
  }
});

Deno.test("CronJob: a triggered Job and its Pod; Complete, or Failed for a failing image", async () => {
  const api = await startFakeApiServer();
  const sim = api.simulateRollouts({ images: { "myapp:broken": "job-fail" } });
  try {
    api.put(workload("CronJob", "myapp:1"));
    const cron = get(api, "CronJob");
    const first = sim.triggerCronJob("default", "web");
    assert.match(first, /^web-\d+$/);
    await sim.idle();
    let job = api.get("batch/v1", "Job", "default", first)!;
    assert.deepEqual(owned([job], cron).length, 1);
    assert.deepEqual((job as Obj).status.conditions.map((c: Obj) => [c.type, c.status]), [
      ["SuccessCriteriaMet", "True"],
      ["Complete", "True"],
    ]);
    assert.equal((job as Obj).status.succeeded, 1);
    const pod = owned(pods(api), job)[0];
    assert.equal(pod.status.phase, "Succeeded");
    assert.equal(pod.metadata.labels["batch.kubernetes.io/job-name"], first);
    assert.ok(get(api, "CronJob").status.lastSuccessfulTime);

    const startedAt = Date.now();
    await setImage(api, "CronJob", "myapp:broken");
    const second = sim.triggerCronJob("default", "web");
    assert.notEqual(second, first);
    await sim.idle();
    job = api.get("batch/v1", "Job", "default", second)!;
    assert.deepEqual((job as Obj).status.conditions.map((c: Obj) => [c.type, c.reason]), [
      ["FailureTarget", "BackoffLimitExceeded"],
      ["Failed", "BackoffLimitExceeded"],
    ]);
    assert.equal(owned(pods(api), job)[0].status.phase, "Failed");
    assert.equal(get(api, "CronJob").status.active, undefined);
    const verdict = judgeRollout({
      kind: "CronJob",
      workload: get(api, "CronJob"),
      pods: pods(api),
      jobs: api.list("batch/v1", "Job"),
      containers: ["app"],
      startedAt,
      now: Date.now(),
    });
    assert.equal(verdict.reason, "failed-job");
  } finally {
    await api.stop();
  }
});

Deno.test("knobs can change per test, and stopping the server stops the simulation", async () => {
  const api = await startFakeApiServer();
  const sim = api.simulateRollouts({ defaultBehaviour: "crash-loop" });
  sim.image("myapp:1", "succeed");
  api.put(workload("Deployment", "myapp:1", { replicas: 1, progressDeadlineSeconds: 3600 }));
  await sim.idle();
  assert.equal(pods(api)[0].status.containerStatuses[0].ready, true);
  await setImage(api, "Deployment", "other:1");
  await sim.idle();
  const bad = pods(api).find((p) => p.spec.containers[0].image === "other:1")!;
  assert.equal(bad.status.containerStatuses[0].state.waiting.reason, "CrashLoopBackOff");
  assert.equal(sim.imageId("other:1"), `docker.io/library/other@${sha("other:1")}`);
  assert.equal(sim.imageId(`myapp@${sha("x")}`), `docker.io/library/myapp@${sha("x")}`);
  await api.stop(); // the pending progress-deadline timer is cleared (no leak for the sanitizer)
});

/** Deployment statuses of generation 2 as a watch delivers them, until `done` says enough. */
async function watchStatuses(
  api: FakeApiServer,
  from: string,
  done: (status: Obj) => boolean,
): Promise<Obj[]> {
  const watch = await WatchReader.open(
    api,
    `/apis/apps/v1/namespaces/default/deployments?watch=1&resourceVersion=${from}`,
  );
  const seen: Obj[] = [];
  try {
    while (!seen.length || !done(seen.at(-1))) {
      const e = await watch.next();
      if (e?.object.status?.observedGeneration === 2) seen.push(e.object.status);
    }
  } finally {
    await watch.close();
  }
  return seen;
}

const progressingOf = (status: Obj) => status.conditions.find((c: Obj) => c.type === "Progressing");

Deno.test("slow mode: one more ready Pod every readyEveryMs; progress keeps the deadline away", async () => {
  const api = await startFakeApiServer();
  api.simulateRollouts({ readyEveryMs: 400 });
  try {
    api.put(workload("Deployment", "myapp:1", { replicas: 4, progressDeadlineSeconds: 1 }));
    await waitFor(() => get(api, "Deployment").status?.availableReplicas === 4, "first rollout");
    const from = get(api, "Deployment").metadata.resourceVersion;
    const started = Date.now();
    await setImage(api, "Deployment", "myapp:2");
    const seen = await watchStatuses(
      api,
      from,
      (s) => progressingOf(s)?.reason === "NewReplicaSetAvailable",
    );
    assert.ok(Date.now() - started >= 1200, "three more Pods, 400 ms apart");
    // Old Pods stay available until every new one is ready (then they go at once): 4 + the new
    // ready ones, one by one.
    const available = seen.map((s) => s.availableReplicas)
      .filter((n, i, all) => i === 0 || n !== all[i - 1]);
    assert.deepEqual(available, [4, 5, 6, 7, 4]);
    const reasons = seen.map((s) => progressingOf(s).reason);
    assert.ok(!reasons.includes("ProgressDeadlineExceeded"), reasons.join());
    const updates = new Set(
      seen.filter((s) => progressingOf(s).reason === "ReplicaSetUpdated")
        .map((s) => progressingOf(s).lastUpdateTime),
    );
    assert.ok(updates.size >= 2, "lastUpdateTime moves with the progress");
    assert.equal(judge("Deployment", get(api, "Deployment"), pods(api)).state, "complete");
  } finally {
    await api.stop();
  }
});

Deno.test("slow mode: a Deployment that stops progressing gets ProgressDeadlineExceeded", async () => {
  const api = await startFakeApiServer();
  const sim = api.simulateRollouts({ readyEveryMs: 300 });
  try {
    api.put(workload("Deployment", "myapp:1", { replicas: 3, progressDeadlineSeconds: 1 }));
    await waitFor(() => get(api, "Deployment").status?.availableReplicas === 3, "first rollout");
    await setImage(api, "Deployment", "myapp:2");
    // One new Pod becomes ready, then the image starts to stall for the Pods still to come.
    await waitFor(() => get(api, "Deployment").status?.availableReplicas === 4, "one ready");
    sim.image("myapp:2", "stall");
    const unready = pods(api).find((p) => !p.status.containerStatuses[0].ready)!;
    await call(api, "DELETE", `/api/v1/namespaces/default/pods/${unready.metadata.name}`);
    const d = await waitFor(
      () => {
        const d = get(api, "Deployment");
        return progressingOf(d.status).reason === "ProgressDeadlineExceeded" && d;
      },
      "ProgressDeadlineExceeded",
    );
    const c = progressingOf(d.status);
    assert.equal(c.status, "False");
    assert.ok(d.status.availableReplicas < 6);
    assert.equal(judge("Deployment", d, pods(api)).reason, "progress-deadline");
  } finally {
    await api.stop();
  }
});

Deno.test("slow mode: a StatefulSet's Pods are replaced and become ready one every readyEveryMs", async () => {
  const api = await startFakeApiServer();
  api.simulateRollouts({ readyEveryMs: 300 });
  try {
    api.put(workload("StatefulSet", "myapp:1", { replicas: 3 }));
    await waitFor(() => get(api, "StatefulSet").status?.readyReplicas === 3, "first rollout");
    const started = Date.now();
    await setImage(api, "StatefulSet", "myapp:2");
    const readyTimes: number[] = [];
    await waitFor(() => {
      const s = get(api, "StatefulSet").status;
      const fresh = pods(api).filter((p) =>
        p.spec.containers[0].image === "myapp:2" && p.status.containerStatuses[0].ready
      ).length;
      if (fresh > readyTimes.length) {
        readyTimes.push(Date.now());
      }
      return s.observedGeneration === 2 && s.updatedReplicas === 3 && s.readyReplicas === 3 &&
        s.currentRevision === s.updateRevision;
    }, "StatefulSet updated");
    assert.equal(readyTimes.length, 3);
    assert.ok(readyTimes[2] - started >= 600, "two gaps of 300 ms at least");
    assert.equal(judge("StatefulSet", get(api, "StatefulSet"), pods(api)).state, "complete");
  } finally {
    await api.stop();
  }
});
