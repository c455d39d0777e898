/**
 * Workload kinds end to end: a StatefulSet, a DaemonSet and a CronJob (pod template under
 * `spec.jobTemplate.spec.template`) are rolled out by a real registry's notification and by a
 * poll cycle, like Deployments.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pushImage } from "../real_registry/push.ts";
import { realRegistryTest, startRealRegistry } from "../real_registry/registry.ts";
import { deployment, startFakeCluster, waitFor } from "../support/fake_cluster.ts";
import {
  E2E_TIMEOUT_MS,
  imageOf,
  launchArgoos,
  seedWorkloads,
  TOKEN,
  waitForRollouts,
} from "./harness.ts";

const KINDS = ["StatefulSet", "DaemonSet", "CronJob"] as const;

realRegistryTest("kinds e2e: StatefulSet, DaemonSet and CronJob are rolled out", async (t) => {
  const cluster = await startFakeCluster();
  const { argoos, log } = await launchArgoos(cluster.client, ["serve", "--poll-interval", "1h"]);
  const registry = await startRealRegistry({
    notifyUrl: `${argoos.url}/event`,
    token: TOKEN,
    notifyBackoff: "200ms",
  });
  const host = registry.host;
  /** One workload of each kind on `repository:1.0.0`, named `<prefix>-<kind>`. */
  const seedKinds = (prefix: string, repository: string, on = host) =>
    seedWorkloads(
      cluster.fake,
      argoos,
      ...KINDS.map((kind) =>
        deployment({
          kind,
          name: `${prefix}-${kind.toLowerCase()}`,
          policy: "minor",
          containers: [{ name: "app", image: `${on}/${repository}:1.0.0` }],
        })
      ),
    );
  const allOn = (prefix: string, image: string) =>
    KINDS.every((kind) =>
      imageOf(cluster.fake, `${prefix}-${kind.toLowerCase()}`, "app", kind) === image
    );
  const sources = (prefix: string) =>
    Promise.all(
      KINDS.map((kind) =>
        waitForRollouts(log, `${kind} default/${prefix}-${kind.toLowerCase()}`, 1)
      ),
    );
  try {
    await argoos.cache.synced;

    await t.step("by a webhook push", async () => {
      await seedKinds("hook", "kinds-hook");

      await pushImage({ registry: host, repository: "kinds-hook", tag: "1.1.0" });

      await waitFor(
        () => allOn("hook", `${host}/kinds-hook:1.1.0`),
        "every kind on 1.1.0",
        E2E_TIMEOUT_MS,
      );
      assert.deepEqual(await sources("hook"), [["webhook"], ["webhook"], ["webhook"]]);
    });

    await t.step("by a poll cycle", async () => {
      // The workloads name the registry `localhost:<port>`, a repository the notifications (sent
      // as 127.0.0.1:<port>) do not name: only the poll can find their update.
      const local = host.replace("127.0.0.1", "localhost");
      await pushImage({ registry: host, repository: "kinds-poll", tag: "1.1.0" });
      await waitFor(
        () =>
          log.records().some((r) =>
            r.msg === "delivery handled" &&
            (r.pushes as string[]).includes(`${host}/kinds-poll:1.1.0`)
          ),
        "the kinds-poll notification handled",
        E2E_TIMEOUT_MS,
      );
      await seedKinds("poll", "kinds-poll", local);

      // An hour after start, so the repository is due whatever the first cycle did.
      await argoos.poller!.cycle(Date.now() + 3_600_000);

      assert.ok(allOn("poll", `${local}/kinds-poll:1.1.0`));
      assert.deepEqual(await sources("poll"), [["poll"], ["poll"], ["poll"]]);
    });
  } finally {
    await argoos.stop();
    await registry.stop();
    await cluster.stop();
  }
});
