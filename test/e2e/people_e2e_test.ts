/**
 * People decide last, end to end: a real registry notifies an in-process Argoos, images are
 * pushed with skopeo, the fake API server's rollout simulation runs them. A good push is rolled
 * out; a person rolls it back (`kubectl set image`); the same push delivered again (an identical
 * re-push notifies again) and the poll both leave the rollback alone; a newer push is applied.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeRejected, REJECTED_ANNOTATION } from "../../lib/health/record.ts";
import { DEPLOYMENTS } from "../../lib/kube/resource.ts";
import { pushImage } from "../real_registry/push.ts";
import { realRegistryTest } from "../real_registry/registry.ts";
import { waitFor } from "../support/fake_cluster.ts";
import { E2E_TIMEOUT_MS, imageOf, startSimulatedE2E } from "./harness.ts";

realRegistryTest(
  "people e2e: a good push rolled out, a human rollback kept through redeliveries and polls, a newer push applied",
  async () => {
    const e2e = await startSimulatedE2E(["--poll-interval", "1h"]);
    const { cluster, argoos, log, registry, events } = e2e;
    const host = registry.host;
    const skipped = (from: number) =>
      log.records().slice(from).filter((r) => r.msg === "digest rejected on this workload, skipped")
        .length;
    const patches = () => cluster.fake.requests.filter((r) => r.method === "PATCH").length;
    try {
      await pushImage({ registry: host, repository: "myapp", tag: "1.2.3" });
      await e2e.seedWeb(`${host}/myapp:1.2.3`);

      // A good push: rolled out, followed to complete.
      const good = await pushImage({ registry: host, repository: "myapp", tag: "1.2.4" });
      await waitFor(() => events("RolloutSucceeded") === 1, "RolloutSucceeded", E2E_TIMEOUT_MS);
      assert.equal(imageOf(cluster.fake, "web"), `${host}/myapp:1.2.4`);

      // A person rolls it back: kept, and what Argoos wrote is rejected here.
      await cluster.client.patch(DEPLOYMENTS, "default", "web", [{
        op: "replace",
        path: "/spec/template/spec/containers/0/image",
        value: `${host}/myapp:1.2.3`,
      }], "json");
      await waitFor(() => events("ManualChange") === 1, "ManualChange", E2E_TIMEOUT_MS);
      const stored = cluster.fake.get("apps/v1", "Deployment", "default", "web")!;
      const rejected = decodeRejected(
        (stored.metadata as { annotations: Record<string, string> }).annotations[
          REJECTED_ANNOTATION
        ],
      ).value;
      assert.deepEqual(rejected.map((r) => [r.digest, r.tag, r.reason]), [
        [good.digest, "1.2.4", "manual"],
      ]);
      const written = patches();

      // The registry notifies the same push again (an identical re-push): left alone.
      let mark = log.records().length;
      const again = await pushImage({ registry: host, repository: "myapp", tag: "1.2.4" });
      assert.equal(again.digest, good.digest);
      await waitFor(() => skipped(mark) > 0, "the redelivery skipped", E2E_TIMEOUT_MS);
      // Poll cycles list 1.2.4 too: left alone.
      for (let i = 1; i <= 2; i++) {
        mark = log.records().length;
        await argoos.poller!.cycle(Date.now() + i * 3_600_000);
        await waitFor(() => skipped(mark) > 0, `poll ${i} skipped`, E2E_TIMEOUT_MS);
      }
      assert.equal(imageOf(cluster.fake, "web"), `${host}/myapp:1.2.3`);
      assert.equal(patches(), written, "nothing written back");

      // A newer push: an update from what the person set, applied.
      await pushImage({ registry: host, repository: "myapp", tag: "1.2.5" });
      await waitFor(
        () => imageOf(cluster.fake, "web") === `${host}/myapp:1.2.5`,
        "1.2.5 applied",
        E2E_TIMEOUT_MS,
      );
      await waitFor(() => events("RolloutSucceeded") === 2, "RolloutSucceeded", E2E_TIMEOUT_MS);
      assert.equal(argoos.metrics.reverts.value(), 0);
    } catch (e) {
      console.log(log.records().map((r) => JSON.stringify(r)).join("\n"));
      throw e;
    } finally {
      await e2e.stop();
    }
  },
);
