/**
 * Pods and Jobs a workload owns, through owner references, against the simulated cluster.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEPLOYMENTS } from "../../lib/kube/resource.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { ownedJobs, ownedPods } from "../../lib/workloads/owned.ts";
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
    assert.equal(
      (await ownedJobs(cluster.client, readWorkload(kindNamed("CronJob")!, cron))).length,
      1,
    );
  } finally {
    await cluster.stop();
  }
});
