/**
 * Health-gated rollouts end to end: a real registry notifies an in-process Argoos, images are
 * pushed with skopeo, and the fake API server's rollout simulation runs them. A good image is
 * rolled out and succeeds; a bad one crash-loops and is reverted, its digest recorded as
 * rejected; the fixed image, pushed under the same tag, is rolled out.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  decodeRejected,
  REJECTED_ANNOTATION,
  ROLLOUT_ANNOTATION,
} from "../../lib/health/record.ts";
import { pushImage } from "../real_registry/push.ts";
import { realRegistryTest } from "../real_registry/registry.ts";
import { waitFor } from "../support/fake_cluster.ts";
import { E2E_TIMEOUT_MS, imageOf, startSimulatedE2E } from "./harness.ts";

realRegistryTest(
  "health e2e: good image succeeds, bad image is reverted and rejected, the fix rolls out",
  async () => {
    const e2e = await startSimulatedE2E(["--poll-interval", "0"]);
    const { cluster, sim, argoos, log, registry, events } = e2e;
    const host = registry.host;
    const web = () => cluster.fake.get("apps/v1", "Deployment", "default", "web")!;
    const annotations =
      () => ((web().metadata as { annotations?: Record<string, string> }).annotations ?? {});
    /** Wait until Argoos has judged the rollout of `image` (its record is gone). */
    const judged = async (image: string) => {
      await waitFor(
        () => imageOf(cluster.fake, "web") === image,
        `web on ${image}`,
        E2E_TIMEOUT_MS,
      );
      await waitFor(
        () => annotations()[ROLLOUT_ANNOTATION] === undefined,
        `rollout of ${image} judged`,
        E2E_TIMEOUT_MS,
      );
    };
    try {
      await e2e.seedWeb(`${host}/myapp:1.2.3`);

      // A good image: rolled out, followed to complete.
      // Its pods report the registry's digest (imageID), as a kubelet would: the same content
      // is pushed first under a tag no policy follows, to learn that digest.
      const content = "hello from myapp:1.2.4";
      const good = await pushImage({ registry: host, repository: "myapp", tag: "pre", content });
      sim.image(`${host}/myapp:1.2.4`, { behaviour: "succeed", digest: good.digest });
      await pushImage({ registry: host, repository: "myapp", tag: "1.2.4", content });
      await judged(`${host}/myapp:1.2.4`);
      await waitFor(() => events("RolloutSucceeded") === 1, "RolloutSucceeded", E2E_TIMEOUT_MS);

      // A bad one: its containers crash-loop; put back to 1.2.4, the digest rejected.
      sim.image(`${host}/myapp:1.2.5`, "crash-loop");
      const bad = await pushImage({ registry: host, repository: "myapp", tag: "1.2.5" });
      await waitFor(
        () => argoos.metrics.reverts.value() === 1,
        "the bad rollout reverted",
        E2E_TIMEOUT_MS,
      );
      await judged(`${host}/myapp:1.2.4`);
      await waitFor(() => events("Reverted") === 1, "Reverted Event", E2E_TIMEOUT_MS);
      assert.equal(events("RolloutFailed"), 1);
      const rejected = decodeRejected(annotations()[REJECTED_ANNOTATION]).value;
      assert.deepEqual(rejected.map((r) => [r.repository, r.digest, r.tag, r.reason]), [
        [`${host}/myapp`, bad.digest, "1.2.5", "crash-loop"],
      ]);

      // The fix, pushed under the same tag: a new digest, tried, and it works.
      sim.image(`${host}/myapp:1.2.5`, "succeed");
      const fixed = await pushImage({
        registry: host,
        repository: "myapp",
        tag: "1.2.5",
        content: "fixed",
      });
      assert.notEqual(fixed.digest, bad.digest);
      await judged(`${host}/myapp:1.2.5`);
      await waitFor(() => events("RolloutSucceeded") === 2, "RolloutSucceeded", E2E_TIMEOUT_MS);
      assert.equal(argoos.metrics.reverts.value(), 1);
      assert.equal(argoos.metrics.rolloutsCompleted.value({ outcome: "succeeded" }), 2);
    } catch (e) {
      console.log(log.records().map((r) => JSON.stringify(r)).join("\n"));
      throw e;
    } finally {
      await e2e.stop();
    }
  },
);
