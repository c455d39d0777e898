/**
 * Pods and Jobs a workload owns, through owner references, against the simulated cluster.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEPLOYMENTS } from "../../lib/kube/resource.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { jobPods, ownedPods, recentJobs } from "../../lib/workloads/owned.ts";
import { readWorkload } from "../../lib/workloads/workload.ts";
import { deployment, startFakeCluster } from "../support/fake_cluster.ts";

// deno-lint-ignore no-explicit-any
type Obj = any;

Deno.test("ownedPods follows each kind's owners, every revision, and nothing else's", async () => {
  const cluster = await startFakeCluster();
  const sim = cluster.fake.simulateRollouts({ nodes: 2, images: { "myapp:2": "stall" } });
  try {
    const kinds = ["Deployment", "StatefulSet", "DaemonSet", "CronJob"] as const;
    for (const kind of kinds) {
      const obj: Obj = deployment({
        kind,
        name: "web",
        containers: [{ name: "app", image: "myapp:1" }],
      });
      if (kind === "Deployment" || kind === "StatefulSet") obj.spec.replicas = 2;
      cluster.fake.put(obj);
    }
    // A look-alike the selector matches but the owner references do not.
    cluster.fake.put({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "stray", namespace: "default", labels: { app: "web" } },
      spec: { containers: [{ name: "app", image: "myapp:1" }] },
    });
    sim.triggerCronJob("default", "web");
    await sim.idle();
    const patch = [{
      op: "replace",
      path: "/spec/template/spec/containers/0/image",
      value: "myapp:2",
    }];
    await cluster.client.patch(
      DEPLOYMENTS,
      "default",
      "web",
      patch,
      "json",
    );
    await sim.idle();
    const images = async (kind: string, apiVersion: string) => {
      const obj = cluster.fake.get(apiVersion, kind, "default", "web")!;
      return (await ownedPods(cluster.client, readWorkload(kindNamed(kind)!, obj))).map((p) =>
        p.spec!.containers[0].image
      )
        .sort();
    };
    assert.deepEqual(await images("Deployment", "apps/v1"), [
      "myapp:1",
      "myapp:1",
      "myapp:2",
      "myapp:2",
    ]);
    assert.deepEqual(await images("StatefulSet", "apps/v1"), ["myapp:1", "myapp:1"]);
    assert.deepEqual(await images("DaemonSet", "apps/v1"), ["myapp:1", "myapp:1"]);
    assert.deepEqual(await images("CronJob", "batch/v1"), ["myapp:1"]);
    const cron = cluster.fake.get("batch/v1", "CronJob", "default", "web")!;
    assert.equal((await recentJobs(cluster.client, cron)).length, 1);
  } finally {
    await cluster.stop();
  }
});

Deno.test("recentJobs reads a CronJob's running and last scheduled Jobs by name, owned by it", async () => {
  const cluster = await startFakeCluster();
  const sim = cluster.fake.simulateRollouts();
  try {
    const cron = (name: string): Obj =>
      deployment({ kind: "CronJob", name, containers: [{ name: "app", image: "myapp:1" }] });
    cluster.fake.put(cron("web"));
    // Many Jobs in the namespace, none of them this CronJob's: never listed.
    cluster.fake.put(cron("other"));
    for (let i = 0; i < 20; i++) sim.triggerCronJob("default", "other");
    const stored = () => cluster.fake.get("batch/v1", "CronJob", "default", "web")!;
    const names = async () => {
      const before = cluster.fake.requests.length;
      const jobs = await recentJobs(cluster.client, stored());
      const asked = cluster.fake.requests.slice(before);
      assert.ok(asked.every((r) => r.method === "GET" && /\/jobs\/web-\d+$/.test(r.path)));
      assert.ok(asked.length <= 2, "one GET per Job named");
      return jobs.map((j) => j.metadata!.name);
    };
    assert.deepEqual(await names(), [], "nothing scheduled yet");
    const first = sim.triggerCronJob("default", "web");
    await sim.idle();
    assert.deepEqual(await names(), [first], "ended: found as the last scheduled");
    sim.image("myapp:1", "stall");
    const second = sim.triggerCronJob("default", "web");
    await sim.idle();
    assert.deepEqual(await names(), [second], "running");
    const pods = await jobPods(
      cluster.client,
      "default",
      await recentJobs(cluster.client, stored()),
    );
    assert.deepEqual(pods.map((p) => p.metadata!.labels!["batch.kubernetes.io/job-name"]), [
      second,
    ]);
    // A Job of that name that the CronJob does not control is not its.
    const job = cluster.fake.get("batch/v1", "Job", "default", second)!;
    cluster.fake.put({ ...job, metadata: { ...job.metadata as Obj, ownerReferences: [] } });
    assert.deepEqual(await names(), []);
  } finally {
    await cluster.stop();
  }
});
