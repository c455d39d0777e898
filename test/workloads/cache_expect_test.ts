/**
 * WorkloadCache.expectWrite: while the caller's own write is in flight, its watch event and
 * its answer are told to `onUpsert` as changes from what the write leaves (no news), and a
 * later change by someone else as a change from the written object.
 *
 * @module
 */

import assert from "node:assert/strict";
import { WorkloadCache } from "../../lib/workloads/cache.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { type KubeObject, type Workload, workloadKey } from "../../lib/workloads/workload.ts";
import { deployment, startFakeCluster, waitFor } from "../support/fake_cluster.ts";

const DEPLOYMENT = kindNamed("Deployment")!;
const IMAGE = "/spec/template/spec/containers/0/image";
const KEY = workloadKey("Deployment", "default", "web");
const web = (image: string) =>
  deployment({ name: "web", policy: "minor", containers: [{ name: "app", image }] });

for (const first of ["watch", "answer"] as const) {
  Deno.test(`expectWrite: own write no news (${first} first), an outside change is`, async () => {
    const c = await startFakeCluster();
    /** What onUpsert was told: image now, image before, resourceVersion now. */
    const told: [string, string | undefined, string][] = [];
    const image = (w: Workload | undefined) => w?.containers[0].image;
    const cache = new WorkloadCache(c.client, {
      kinds: [DEPLOYMENT],
      onUpsert: (w, previous) => told.push([image(w)!, image(previous), w.resourceVersion]),
    });
    try {
      c.fake.put(web("nginx:1.27.0"));
      cache.start();
      await cache.synced;
      const read = cache.get(KEY)!;
      const after = { ...read, containers: [{ ...read.containers[0], image: "nginx:1.27.1" }] };
      cache.expectWrite(KEY, after);
      const written = await c.client.patch<KubeObject>(DEPLOYMENT.type, "default", "web", [
        { op: "test", path: IMAGE, value: "nginx:1.27.0" },
        { op: "replace", path: IMAGE, value: "nginx:1.27.1" },
      ], "json");
      const rv = written.metadata!.resourceVersion!;
      if (first === "watch") {
        await waitFor(() => cache.get(KEY)?.resourceVersion === rv, "the watch event");
      }
      cache.observe(DEPLOYMENT, written);
      cache.expectWrite(KEY, undefined);

      c.fake.put(web("nginx:1.28.0")); // someone else
      await waitFor(() => told.some(([now]) => now === "nginx:1.28.0"), "the outside change");
      const ours = told.filter(([, , at]) => at === rv);
      assert.ok(ours.length >= 1);
      for (const [now, before] of ours) assert.equal(before, now, "own write told as a change");
      assert.deepEqual(told.at(-1)?.slice(0, 2), ["nginx:1.28.0", "nginx:1.27.1"]);
    } finally {
      await cache.stop();
      await c.stop();
    }
  });
}
